"""ASGI factory for `asn-feedback api --workers N` (each worker is a process: it builds its
own engine and policies, once): the whole site (app/site.py)."""

from __future__ import annotations

from app.site import Site, create_site
from core.policies import build
from core.shared.config import load_settings
from core.shared.db import make_engine

# Idle keep-alive connections are closed after this long: longer than a proxy's or a
# client's own idle timeout (nginx's upstream default is 60 s), so the client or proxy closes
# first. With uvicorn's 5 s, a request sent just as the server closed the connection failed
# (ReadError / RemoteProtocolError in bench/load_bench.py).
KEEP_ALIVE_SECONDS = 75


def site() -> Site:
    settings = load_settings()
    return create_site(build(settings, make_engine(settings.database_url)))
