"""The WhatsApp Cloud API (Graph API) over httpx: send a message, fetch a medium.

(Interface fixed for the helpers; W1 implements it.)"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass
class GraphError(Exception):
    """The Graph API refused: HTTP status, WhatsApp's error code and message, and how long to
    wait when it says (rate limits)."""

    status: int
    code: int | None
    message: str
    retry_after: float | None = None


class GraphClient:
    """One business phone number's client."""

    async def send(self, payload: dict[str, Any]) -> str:
        """POST /{phone_number_id}/messages with `payload` (messaging_product, to, type, ...);
        the message's wamid; GraphError on a refusal."""
        raise NotImplementedError

    async def media(self, media_id: str, max_bytes: int) -> bytes:
        """GET /{media_id} for its URL, then the bytes (at most `max_bytes`); GraphError."""
        raise NotImplementedError
