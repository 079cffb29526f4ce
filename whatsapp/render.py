"""Screens as WhatsApp messages, within WhatsApp's limits. (Interface fixed for the helpers;
W2 implements it.)"""

from __future__ import annotations

from typing import Any

from conversations.engine import Outcome, Screen


def render_screen(screen: Screen, lang: str) -> list[dict[str, Any]]:
    """One screen as the message payloads that draw it (without "messaging_product" and
    "to"): a text, reply buttons (<= 3, titles <= 20) or list messages (<= 10 rows, titles
    <= 24, descriptions <= 72); texts <= 4096. A button's data comes back as the reply's id."""
    return [{"type": "text", "text": {"body": screen.text[:4096]}}]


def render_outcome(outcome: Outcome, lang: str) -> list[dict[str, Any]]:
    """Every screen of an outcome (and its toast as a text first), in order."""
    payloads: list[dict[str, Any]] = []
    if outcome.toast:
        payloads.append({"type": "text", "text": {"body": outcome.toast[:4096]}})
    for screen in outcome.screens:
        payloads.extend(render_screen(screen, lang))
    return payloads
