"""The WhatsApp Cloud API (Graph API) over httpx: send a message, fetch a medium.

Shapes (Meta's Cloud API reference): POST /{phone_number_id}/messages answers
{"messaging_product": "whatsapp", "contacts": [...], "messages": [{"id": "wamid…"}]};
GET /{media_id} answers {"url", "mime_type", "sha256", "file_size", "id"} and the URL (valid
a few minutes, the bearer token required) gives the bytes. A refusal is
{"error": {"message", "type", "code", "error_data": {"details"}, "fbtrace_id"}}.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx

# How long one call may take before it counts as "not reached" (status 0).
TIMEOUT = httpx.Timeout(30.0, connect=10.0)
_MEDIA_ID_CHARS = frozenset("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_-.")


# Where Meta serves media downloads (the media endpoint answers a URL on one of these).
MEDIA_HOSTS = (".fbsbx.com", ".facebook.com", ".whatsapp.net", ".fbcdn.net")


@dataclass
class GraphError(Exception):
    """The Graph API refused: HTTP status, WhatsApp's error code and message, and how long to
    wait when it says (rate limits). `status` 0: the API was not reached (network, timeout,
    an answer that is not the API's)."""

    status: int
    code: int | None
    message: str
    retry_after: float | None = None

    def __str__(self) -> str:
        code = f" (#{self.code})" if self.code is not None else ""
        return f"{self.status}{code} {self.message}"


class MediaTooLarge(GraphError):
    """The medium is larger than the caller takes."""


class GraphClient:
    """One business phone number's client."""

    def __init__(
        self, base_url: str, phone_number_id: str, access_token: str, client: httpx.AsyncClient
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.phone_number_id = phone_number_id
        self.client = client
        self._headers = {"Authorization": f"Bearer {access_token}"}

    async def send(self, payload: dict[str, Any]) -> str:
        """POST /{phone_number_id}/messages with `payload` (messaging_product, to, type, ...);
        the message's wamid; GraphError on a refusal."""
        body = {"messaging_product": "whatsapp", "recipient_type": "individual", **payload}
        url = f"{self.base_url}/{self.phone_number_id}/messages"
        try:
            response = await self.client.post(
                url, json=body, headers=self._headers, timeout=TIMEOUT
            )
        except httpx.HTTPError as exc:
            raise GraphError(0, None, f"not reached: {type(exc).__name__}: {exc}") from exc
        data = _json(response)
        if response.status_code != 200:
            raise _refusal(response, data)
        try:
            wamid = data["messages"][0]["id"]
        except (KeyError, IndexError, TypeError):
            raise GraphError(0, None, "the answer names no message id") from None
        if not isinstance(wamid, str) or not wamid:
            raise GraphError(0, None, "the answer names no message id")
        return wamid

    async def media(self, media_id: str, max_bytes: int) -> bytes:
        """GET /{media_id} for its URL, then the bytes (at most `max_bytes`); GraphError
        (MediaTooLarge when it is larger)."""
        if not media_id or len(media_id) > 200 or not set(media_id) <= _MEDIA_ID_CHARS:
            raise GraphError(400, None, "not a media id")
        try:
            response = await self.client.get(
                f"{self.base_url}/{media_id}",
                params={"phone_number_id": self.phone_number_id},
                headers=self._headers,
                timeout=TIMEOUT,
            )
        except httpx.HTTPError as exc:
            raise GraphError(0, None, f"not reached: {type(exc).__name__}: {exc}") from exc
        info = _json(response)
        if response.status_code != 200:
            raise _refusal(response, info)
        url = info.get("url") if isinstance(info, dict) else None
        if not isinstance(url, str) or not self._media_host(url):
            raise GraphError(0, None, "the answer names no media URL on Meta's hosts")
        size = _int(info.get("file_size"))
        if size is not None and size > max_bytes:
            raise MediaTooLarge(413, None, f"the medium has {size} bytes, more than {max_bytes}")
        return await self._download(url, max_bytes)

    def _media_host(self, url: str) -> bool:
        """Only Meta's media hosts (over https), or the configured API's own host, get the
        access token: a media answer naming any other address is refused, not fetched."""
        asked, base = urlsplit(url), urlsplit(self.base_url)
        if (asked.scheme, asked.netloc) == (base.scheme, base.netloc):
            return True
        host = (asked.hostname or "").lower()
        return asked.scheme == "https" and host.endswith(MEDIA_HOSTS)

    async def _download(self, url: str, max_bytes: int) -> bytes:
        chunks: list[bytes] = []
        got = 0
        try:
            async with self.client.stream(
                "GET", url, headers=self._headers, timeout=TIMEOUT
            ) as response:
                if response.status_code != 200:
                    await response.aread()
                    raise _refusal(response, _json(response))
                async for chunk in response.aiter_bytes():
                    got += len(chunk)
                    if got > max_bytes:
                        raise MediaTooLarge(413, None, f"the medium is larger than {max_bytes}")
                    chunks.append(chunk)
        except httpx.HTTPError as exc:
            raise GraphError(0, None, f"not reached: {type(exc).__name__}: {exc}") from exc
        return b"".join(chunks)


def _json(response: httpx.Response) -> Any:
    try:
        return json.loads(response.content)
    except ValueError:
        return None


def _int(value: Any) -> int | None:
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return None


def _retry_after(response: httpx.Response) -> float | None:
    raw = response.headers.get("Retry-After")
    try:
        seconds = float(raw) if raw is not None else None
    except ValueError:
        return None
    if seconds is None or seconds != seconds or seconds < 0:  # NaN, negative
        return None
    return min(seconds, 3600.0)


def _refusal(response: httpx.Response, data: Any) -> GraphError:
    error = data.get("error") if isinstance(data, dict) else None
    if not isinstance(error, dict):
        return GraphError(
            response.status_code, None, response.reason_phrase or "refused", _retry_after(response)
        )
    code = error.get("code")
    details = error.get("error_data")
    message = error.get("message")
    if isinstance(details, dict) and isinstance(details.get("details"), str):
        message = f"{message}: {details['details']}" if message else details["details"]
    return GraphError(
        response.status_code,
        code if isinstance(code, int) else None,
        str(message or "refused")[:500],
        _retry_after(response),
    )
