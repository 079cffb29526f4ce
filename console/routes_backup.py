"""Backups (admins): when the last `asn-feedback db backup` was taken, its size, what it
holds, and whether it is older than BACKUP_MAX_AGE_HOURS (/staff/backup). Backups are taken
and restored on the server's command line (app/backup.py); this page only reads their
record (core/backups.py)."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from babel.numbers import format_decimal
from fastapi import APIRouter, Request
from fastapi.responses import Response

from console.web import CurrentStaff, policies_of, render
from core.backups import backup_status

router = APIRouter()
UNITS = ("B", "KB", "MB", "GB", "TB")


def shown_size(size: int, lang: str) -> str:
    """ "1,2 MB" / "1.2 MB" (1 KB = 1024 bytes)."""
    value, unit = float(size), 0
    while value >= 1024 and unit < len(UNITS) - 1:
        value, unit = value / 1024, unit + 1
    shape = "0" if unit == 0 else "0.0"
    return f"{format_decimal(value, format=shape, locale=lang)} {UNITS[unit]}"


def age_hours(age: timedelta) -> int:
    return max(0, int(age.total_seconds() // 3600))


@router.get("/backup")
async def backup_page(request: Request, staff: CurrentStaff) -> Response:
    policies = policies_of(request)
    now = policies.now()
    status = await asyncio.to_thread(backup_status, policies.settings, actor=staff.actor, now=now)
    return render(
        request,
        "backup.html",
        staff.lang,
        staff,
        active="backup",
        status=status,
        size=lambda number: shown_size(number, staff.lang),
        age=age_hours(now - status.last.taken_at) if status.last else 0,
        max_age=age_hours(status.max_age),
    )
