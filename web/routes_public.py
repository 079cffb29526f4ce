"""(filled by its feature: see web/app.py)"""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
