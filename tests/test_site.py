"""Where things live: the JSON API under /api/, the staff console under /staff/, health at
the root, the public site at `/`; with STAFF_PORT, staff pages only on that listener (whose
`/` leads to the console)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from app.site import create_site
from core.policies import build
from core.shared.config import Settings, load_settings


def test_the_url_layout(settings: Settings, engine: Engine) -> None:
    client = TestClient(create_site(build(settings, engine)))
    assert client.get("/healthz").json() == {"status": "ok"}
    assert client.get("/readyz").status_code in (200, 503)
    root = client.get("/", follow_redirects=False)
    assert root.status_code == 200 and "Suara Warga" in root.text  # the public site
    console = client.get("/staff/", follow_redirects=False)
    assert console.status_code == 303
    assert console.headers["location"].startswith("/staff/login?next=")
    schema = client.get("/api/openapi.json").json()
    assert "/cases" in schema["paths"]  # paths relative to the /api server
    assert schema["servers"] == [{"url": "/api"}]
    docs = client.get("/api/docs").text
    assert "/api/openapi.json" in docs and "/api/static/swagger-ui/swagger-ui.css" in docs
    assert client.get("/api/static/swagger-ui/swagger-ui.css").status_code == 200
    token_url = schema["components"]["securitySchemes"]["OAuth2PasswordBearer"]
    assert token_url["flows"]["password"]["tokenUrl"] == "auth/token"  # /api/auth/token
    assert (
        client.post("/api/auth/token", data={"username": "x", "password": "y"}).status_code == 401
    )
    assert client.get("/api/cases").status_code == 401
    assert client.get("/cases").status_code == 404  # moved, without aliases
    assert client.get("/docs").status_code == 404


def test_a_separate_staff_listener_keeps_staff_pages_off_the_public_one(
    settings: Settings, engine: Engine
) -> None:
    split = load_settings(
        database_url=settings.database_url, environment="test", staff_port=8443, _env_file=None
    )
    site = create_site(build(split, engine))
    public = TestClient(site, base_url="http://kupang.example:8000")
    staff = TestClient(site, base_url="http://intranet.example:8443")
    assert public.get("/healthz").status_code == 200
    for path in ("/staff/login", "/api/openapi.json", "/api/auth/token"):
        assert public.get(path, follow_redirects=False).status_code == 404, path
    assert "Suara Warga" in public.get("/").text  # the public site is the public listener's
    to_console = staff.get("/", follow_redirects=False)
    assert to_console.status_code == 307 and to_console.headers["location"] == "/staff/"
    assert staff.get("/staff/login").status_code == 200
    assert staff.get("/api/openapi.json").status_code == 200
    assert staff.get("/healthz").status_code == 200


def test_nul_characters_and_huge_bodies_are_refused_before_any_page(
    settings: Settings, engine: Engine
) -> None:
    """PostgreSQL text cannot hold NUL: every field would fail deep in a query (500)."""
    client = TestClient(create_site(build(settings, engine)))
    for path in ("/staff/?q=a%00b", "/staff/cases/KPG%00", "/api/cases?q=a%00b"):
        r = client.get(path, follow_redirects=False)
        assert r.status_code == 400, path
    login = client.post("/staff/login", data={"username": "ad\x00min", "password": "x"})
    assert login.status_code == 400 and "NUL" in login.text
    note = client.post(
        "/api/cases/1/notes",
        content=b'{"body": "a\\u0000b"}',
        headers={"content-type": "application/json"},
    )
    assert note.status_code == 400 and note.headers["content-type"] == "application/problem+json"
    big = client.post(
        "/staff/login",
        content=b"username=" + b"x" * (11 * 1024 * 1024),
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert big.status_code == 413
    # Text that merely looks alike passes: "%2500" is a typed "%00", JSON "%00" is text.
    fine = client.get("/staff/login?next=%2500")
    assert fine.status_code == 200


def test_the_staff_port_cannot_be_the_public_one() -> None:
    from app.serve import listeners

    with pytest.raises(ValueError, match="must differ"):
        listeners("127.0.0.1", 8000, 8000)


async def test_a_chunked_body_past_the_limit_gets_413_from_an_app_that_does_not_answer_it() -> None:
    """An app without its own answer to BodyTooLarge (a 500 of it) is silenced: the guard
    answers 413, and reads no further than the limit."""
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import PlainTextResponse
    from starlette.routing import Route

    from httpkit.guard import RequestGuard

    async def upload(request: Request) -> PlainTextResponse:
        form = await request.form(max_files=5)
        return PlainTextResponse(str(len(form)))

    guarded = RequestGuard(Starlette(routes=[Route("/up", upload, methods=["POST"])]), 1000)
    pulled = 0

    async def receive() -> dict[str, object]:
        nonlocal pulled
        pulled += 1
        if pulled == 1:
            head = b'--B\r\nContent-Disposition: form-data; name="f"; filename="a"\r\n\r\n'
            return {"type": "http.request", "body": head, "more_body": True}
        return {"type": "http.request", "body": b"x" * 300, "more_body": True}  # endless

    sent: list[dict[str, object]] = []

    async def send(message: dict[str, object]) -> None:
        sent.append(message)

    scope = {
        "type": "http", "method": "POST", "path": "/up", "raw_path": b"/up", "root_path": "",
        "query_string": b"", "scheme": "http", "server": ("testserver", 80),
        "headers": [(b"content-type", b"multipart/form-data; boundary=B")],
    }  # fmt: skip
    await guarded(scope, receive, send)  # type: ignore[arg-type]
    statuses = [m["status"] for m in sent if m["type"] == "http.response.start"]
    assert statuses == [413] and pulled <= 5
    assert b"terlalu besar" in b"".join(m.get("body", b"") for m in sent)  # type: ignore[misc]
