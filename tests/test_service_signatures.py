"""One order of parameters across core's public service functions (docs/architecture.md,
"Service signatures"): the session (or engine) first, then the subjects, and the acting
`Actor` and `now` always keyword-only."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from collections.abc import Callable, Iterator
from typing import Any

import core

FIRST = {"session", "engine"}


def _public_functions() -> Iterator[tuple[str, Callable[..., Any]]]:
    for info in pkgutil.walk_packages(core.__path__, "core."):
        module = importlib.import_module(info.name)
        for name, fn in inspect.getmembers(module, inspect.isfunction):
            if fn.__module__ == info.name and not name.startswith("_"):
                yield f"{info.name}.{name}", fn


def test_now_is_keyword_only_everywhere() -> None:
    positional = [
        qualname
        for qualname, fn in _public_functions()
        if (param := inspect.signature(fn).parameters.get("now")) is not None
        and param.kind is not inspect.Parameter.KEYWORD_ONLY
    ]
    assert positional == []


def test_actor_is_keyword_only_everywhere() -> None:
    """`actor=` is always named, so an actor can never be passed in a subject's place."""
    positional = [
        qualname
        for qualname, fn in _public_functions()
        if (param := inspect.signature(fn).parameters.get("actor")) is not None
        and param.kind is not inspect.Parameter.KEYWORD_ONLY
    ]
    assert positional == []


def test_policies_follow_the_subjects() -> None:
    """A policy is never the first thing after the session when subjects follow it."""
    early = []
    for qualname, fn in _public_functions():
        params = list(inspect.signature(fn).parameters.values())
        required = [
            p.name
            for p in params
            if p.kind is p.POSITIONAL_OR_KEYWORD and p.default is inspect.Parameter.empty
        ]
        if len(required) > 2 and required[0] in FIRST and required[1].endswith("policy"):
            early.append(qualname)
    assert early == []
