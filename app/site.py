"""The whole site of one process, by URL: the JSON API under /api/, the staff console under
/staff/, health at the root, and the public site (citizens' forms, the transparency page and
its open data) at `/`.

With STAFF_PORT set, the staff console and the API answer only on that listener (its `/`
leads to the console) and the public listener serves only what the public may reach (the
public site, health and the Telegram webhook), so an office can put only the public
listener on the internet. Every request first passes `httpkit.guard.RequestGuard` (no NUL
characters, bounded bodies).
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.types import Receive, Scope, Send

from admin_api import create_app
from console import create_console
from core.health import readiness
from core.policies import Policies
from httpkit.guard import RequestGuard
from web import create_web


class Site:
    """One ASGI app for both listeners; a request is routed by the listener it came to."""

    def __init__(self, policies: Policies) -> None:
        from starlette.applications import Starlette

        self.policies = policies
        self.staff_port = policies.settings.staff_port
        engine = policies.engine

        async def healthz(_: Request) -> Response:
            return JSONResponse({"status": "ok"})

        async def readyz(_: Request) -> Response:
            state = readiness(engine, policies.settings)
            return JSONResponse(state.__dict__, status_code=200 if state.ready else 503)

        async def to_console(_: Request) -> Response:
            return RedirectResponse("/staff/", status_code=307)

        health: list[BaseRoute] = [Route("/healthz", healthz), Route("/readyz", readyz)]
        staff: list[BaseRoute] = [
            Mount("/api", app=create_app(policies)),
            Mount("/staff", app=create_console(policies)),
            Route("/staff", to_console),
        ]
        # The public site takes every path the routes before it leave: always the last route.
        public_site = Mount("", app=create_web(policies))
        self._guarded = RequestGuard(self._route)
        self.public = Starlette(routes=[*health, public_site])
        self.staff = Starlette(routes=[*health, *staff, Route("/", to_console)])
        self.everything = Starlette(routes=[*health, *staff, public_site])

    @property
    def split(self) -> bool:
        return self.staff_port != 0

    def add_public_route(self, route: BaseRoute) -> None:
        """A route the internet must reach (the Telegram webhook): on the public listener."""
        for app in (self.public, self.everything):
            app.router.routes.insert(len(app.router.routes) - 1, route)  # before the site

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self._guarded(scope, receive, send)

    async def _route(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self._app_for(scope)(scope, receive, send)

    def _app_for(self, scope: Scope) -> Any:
        if not self.split or scope["type"] == "lifespan":
            return self.everything
        server = scope.get("server") or (None, None)
        return self.staff if server[1] == self.staff_port else self.public


def create_site(policies: Policies) -> Site:
    return Site(policies)
