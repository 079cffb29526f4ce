"""QR codes of deep links into the bot, and the printable sheet of a unit."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query
from fastapi.responses import Response

from admin_api.deps import CurrentActor, SessionDep, SettingsDep
from core.masterdata.qr import deep_link, payload_for, qr_png, qr_svg, unit_cards, unit_sheet_pdf
from core.masterdata.service import visible_unit

router = APIRouter(tags=["qr"])


@router.get(
    "/qr/{code}",
    response_class=Response,
    responses={200: {"content": {"image/png": {}, "image/svg+xml": {}}}},
)
def qr_code(
    actor: CurrentActor,
    session: SessionDep,
    settings: SettingsDep,
    code: str,
    service: int | None = None,
    officer: Annotated[str | None, Query(max_length=16, description="officer public code")] = None,
    format: Literal["png", "svg"] = "png",
) -> Response:
    """The QR code that opens the bot with the unit, a service or an officer pre-selected."""
    unit = visible_unit(session, code, actor=actor)
    link = deep_link(settings.public_bot_username, payload_for(session, unit, service, officer))
    if format == "svg":
        return Response(qr_svg(link), media_type="image/svg+xml", headers={"X-Deep-Link": link})
    return Response(qr_png(link), media_type="image/png", headers={"X-Deep-Link": link})


@router.get(
    "/qr/{code}/sheet.pdf",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}}},
)
def qr_sheet(
    actor: CurrentActor, session: SessionDep, settings: SettingsDep, code: str
) -> Response:
    """A4 cards to print: the counter, every active service, every active officer."""
    unit = visible_unit(session, code, actor=actor)
    pdf = unit_sheet_pdf(unit_cards(session, unit), settings.public_bot_username)
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="qr-{unit.code}.pdf"'},
    )
