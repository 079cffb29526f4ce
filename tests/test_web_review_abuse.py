"""The issue 17 review's abuse proofs, kept as regression tests: each attack must now fail.

H2: one reused form stamp without the device cookie rated an officer 40 times; M4: chunked
multipart bodies skipped the 10 MB limit and a NUL in a multipart field gave a 500 on
PostgreSQL; M5: pixel-bomb photos were decoded twice inside the write transaction; L3/L5:
HSTS over HTTPS, and a 500's log names the route, never the path (a private link's code)."""

from __future__ import annotations

import io
import logging
import time

import pytest
from fastapi import Request
from fastapi.testclient import TestClient
from PIL import Image
from sqlmodel import Session, select

import core.cases.attachments as attachments
from app.site import create_site
from core.cases.models import Attachment, Case
from core.policies import build
from core.surveys.models import SurveyResponse
from httpkit.guard import MAX_BODY_BYTES
from tests.test_web_follow import Site, link, site  # noqa: F401  (fixture)
from tests.test_web_report import Office, office, photo, report  # noqa: F401  (fixture)
from tests.test_web_report import site as report_site
from tests.test_web_survey import ANSWERS, hidden


def _survey_client(office: Office) -> TestClient:  # noqa: F811
    # (https, as the office's PUBLIC_BASE_URL: the device cookie is a Secure one)
    return TestClient(
        create_site(build(office.settings, office.engine)),
        base_url="https://testserver",
        raise_server_exceptions=False,
    )


def _officer_ratings(office: Office) -> int:  # noqa: F811
    with Session(office.engine) as s:
        rows = s.exec(select(SurveyResponse).where(SurveyResponse.officer_id == office.yoh))
        return len(rows.all())


def test_a_reused_stamp_without_the_device_cookie_rates_nothing(
    office: Office,  # noqa: F811
) -> None:
    client = _survey_client(office)
    stamp = hidden(client.get("/nilai/dukcapil").text)["stamp"]
    data = {"stamp": stamp, "service": str(office.ktp), "officer": str(office.yoh)}
    statuses = []
    for _ in range(10):
        client.cookies.clear()  # "a new device" each time, as the review's robot did
        r = client.post("/nilai/dukcapil/kirim", data={**data, **ANSWERS}, follow_redirects=False)
        statuses.append(r.status_code)
    assert statuses == [400] * 10
    assert _officer_ratings(office) == 0
    # A cross-site post (no cookie, as SameSite=Lax sends none) is refused and says why.
    other = _survey_client(office)
    r = other.post("/nilai/dukcapil/kirim", data={**data, **ANSWERS})
    assert r.status_code == 400 and "cookie" in r.text
    # A stamp given to one device does not serve another device's cookie.
    thief = _survey_client(office)
    thief.get("/")  # its own cookie
    r = thief.post("/nilai/dukcapil/kirim", data={**data, **ANSWERS}, follow_redirects=False)
    assert r.status_code == 400 and _officer_ratings(office) == 0
    # The citizen's path still works: the page's GET gave the cookie, the post carries it.
    citizen = _survey_client(office)
    fresh = hidden(citizen.get("/nilai/dukcapil").text)["stamp"]
    sent = citizen.post(
        "/nilai/dukcapil/kirim", data={**data, "stamp": fresh, **ANSWERS}, follow_redirects=False
    )
    assert sent.status_code == 303 and _officer_ratings(office) == 1


async def test_a_chunked_multipart_body_past_the_limit_gets_413_unread(
    site: Site,  # noqa: F811
) -> None:
    """At the ASGI level (the test client reads a whole body before the app sees it): the
    body's chunks are pulled only until the limit, then the site answers 413."""
    chunk = b"\xff" * (1024 * 1024)
    total = MAX_BODY_BYTES // len(chunk) + 40  # 50 MB, sent without a Content-Length
    pulled = 0
    head = (
        b'--XyZ\r\nContent-Disposition: form-data; name="photos"; filename="a.jpg"\r\n'
        b"Content-Type: image/jpeg\r\n\r\n"
    )

    async def receive() -> dict[str, object]:
        nonlocal pulled
        pulled += 1
        if pulled > total:
            return {"type": "http.request", "body": b"\r\n--XyZ--\r\n", "more_body": False}
        return {"type": "http.request", "body": head if pulled == 1 else chunk, "more_body": True}

    answered: list[dict[str, object]] = []

    async def send(message: dict[str, object]) -> None:
        answered.append(message)

    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
        "scheme": "http", "path": "/lapor/dukcapil", "raw_path": b"/lapor/dukcapil",
        "root_path": "",
        "query_string": b"", "client": ("127.0.0.1", 5000), "server": ("testserver", 80),
        "headers": [
            (b"host", b"testserver"),
            (b"content-type", b"multipart/form-data; boundary=XyZ"),
            (b"transfer-encoding", b"chunked"),
        ],
    }  # fmt: skip
    await site.client.app(scope, receive, send)  # type: ignore[arg-type]
    [start] = [m for m in answered if m["type"] == "http.response.start"]
    body = b"".join(m.get("body", b"") for m in answered if m["type"] == "http.response.body")  # type: ignore[misc]
    assert start["status"] == 413 and "terlalu besar" in body.decode(), body.decode()[-600:]
    assert pulled <= MAX_BODY_BYTES // len(chunk) + 2  # the rest was never read


def test_a_nul_in_a_multipart_text_field_gets_400_with_a_message(
    office: Office,  # noqa: F811
) -> None:
    client = _survey_client(office)
    stamp = hidden(client.get("/nilai/dukcapil").text)["stamp"]
    fields = {
        "stamp": stamp,
        "service": str(office.ktp),
        "officer": "0",
        "comment": "a\x00b",
        **ANSWERS,
    }
    urlencoded = client.post("/nilai/dukcapil/kirim", data=fields, follow_redirects=False)
    assert urlencoded.status_code == 400  # (the guard: url-encoded bodies are checked whole)
    for path in ("/nilai/dukcapil/kirim", "/lacak"):
        multipart = client.post(
            path, content=_multipart(fields), headers={"content-type": MULTIPART}
        )
        assert multipart.status_code == 400 and "NUL" in multipart.text, path
    assert _officer_ratings(office) == 0


MULTIPART = "multipart/form-data; boundary=XyZ"


def _multipart(fields: dict[str, str]) -> bytes:
    """A multipart body of text fields only (as a browser sends a form with a file input
    left empty, minus the file)."""
    parts = [
        f'--XyZ\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'
        for k, v in fields.items()
    ]
    return ("".join(parts) + "--XyZ--\r\n").encode()


def _png(side: int) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (side, side), (200, 10, 10)).save(out, "PNG")
    return out.getvalue()


def test_pixel_bomb_photos_are_refused_before_the_write_turn(
    office: Office,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    bomb = _png(5000)  # 25 Mpx of one colour: a few dozen KB
    assert len(bomb) < 200_000
    decodes: list[int] = []
    real = attachments.strip_metadata

    def counted(data: bytes, max_bytes: int, **options: int | None) -> bytes:
        decodes.append(len(data))
        return real(data, max_bytes, **options)  # type: ignore[arg-type]

    monkeypatch.setattr("core.cases.web_reports.strip_metadata", counted)
    monkeypatch.setattr(attachments, "strip_metadata", counted)
    client = report_site(office)
    started = time.monotonic()
    r = report(client, files=[photo(bomb, f"p{n}.png") for n in range(3)])
    assert r.status_code == 400 and "bukan foto yang dapat dibaca" in r.text
    assert time.monotonic() - started < 5
    assert len(decodes) == 1  # the first photo refused; never decoded in a transaction
    with Session(office.engine) as s:
        assert s.exec(select(Case)).all() == []


def test_a_large_phone_photo_is_scaled_down_and_cleaned_once(
    office: Office,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    out = io.BytesIO()
    Image.new("RGB", (6000, 4000), (30, 120, 200)).save(out, "JPEG", quality=50)
    decodes: list[int] = []
    real = attachments.strip_metadata

    def counted(data: bytes, max_bytes: int, **options: int | None) -> bytes:
        decodes.append(len(data))
        return real(data, max_bytes, **options)  # type: ignore[arg-type]

    monkeypatch.setattr("core.cases.web_reports.strip_metadata", counted)
    monkeypatch.setattr(attachments, "strip_metadata", counted)
    r = report(report_site(office), files=[photo(out.getvalue())])
    assert r.status_code == 200, r.text
    assert len(decodes) == 1  # cleaned before the transaction, not stripped again in it
    with Session(office.engine) as s:
        [stored] = s.exec(select(Attachment)).all()
    assert stored.path is not None
    picture = Image.open(office.attachments / stored.path)
    assert picture.size == (2560, 1707)  # a 24 Mpx photo kept at a 2560 px long side


def test_https_answers_carry_hsts_and_http_ones_do_not(
    office: Office,  # noqa: F811
) -> None:
    secure = report_site(office).get("/")
    assert secure.headers["strict-transport-security"] == "max-age=31536000"
    http = office.settings.model_copy(update={"public_base_url": "http://localhost:8000"})
    plain = TestClient(create_site(build(http, office.engine))).get("/")
    assert plain.status_code == 200 and "strict-transport-security" not in plain.headers


def test_a_500s_log_names_the_route_never_the_path(
    site: Site,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    filed = site.file()

    async def broken(request: Request, reference: str, code: str) -> None:
        raise RuntimeError("boom")

    import web.routes_follow as routes_follow

    monkeypatch.setattr(routes_follow, "_open", broken)
    client = TestClient(site.client.app, raise_server_exceptions=False)
    with caplog.at_level(logging.ERROR):
        r = client.get(link(filed))
    assert r.status_code == 500
    logged = " ".join(rec.getMessage() for rec in caplog.records)
    assert "/lacak/{reference}/{code}" in logged
    assert filed.case.reference not in logged and filed.code[:4] not in logged
