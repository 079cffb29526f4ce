"""The site's front page: what a citizen can do here, in four large buttons."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from web.pages import render

router = APIRouter()


@router.get("/")
async def home(request: Request) -> Response:
    return render(request, "home.html")
