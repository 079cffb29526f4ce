"""QR codes of deep links into the bot, and the printable sheet of a unit."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query
from fastapi.responses import Response

from admin_api.deps import CurrentActor, SessionDep, SettingsDep
from core.masterdata.bot_identity import printable_bot
from core.masterdata.qr import (
    caption,
    deep_link,
    payload_for,
    qr_png,
    qr_svg,
    unit_cards,
    unit_sheet_pdf,
)
from core.masterdata.service import visible_unit

router = APIRouter(tags=["qr"])
Force = Annotated[
    bool,
    Query(
        description=(
            "print anyway although PUBLIC_BOT_USERNAME is not the bot recorded at its last "
            "start (409 otherwise): the cards may lead citizens to another bot"
        )
    ),
]


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
    force: Force = False,
) -> Response:
    """The QR code that opens the bot with the unit, a service or an officer pre-selected,
    with the bot's @name and short link under it."""
    unit = visible_unit(session, code, actor=actor)
    payload = payload_for(session, unit, service, officer)
    bot = printable_bot(session, settings.public_bot_username, force=force)
    link, lines = deep_link(bot, payload), caption(bot, payload)
    headers = {"X-Deep-Link": link}
    if format == "svg":
        return Response(qr_svg(link, lines=lines), media_type="image/svg+xml", headers=headers)
    return Response(qr_png(link, lines=lines), media_type="image/png", headers=headers)


@router.get(
    "/qr/{code}/sheet.pdf",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}}},
)
def qr_sheet(
    actor: CurrentActor, session: SessionDep, settings: SettingsDep, code: str, force: Force = False
) -> Response:
    """A4 cards to print: the counter, every active service, every active officer."""
    unit = visible_unit(session, code, actor=actor)
    cards = unit_cards(session, unit)
    bot = printable_bot(session, settings.public_bot_username, force=force)
    pdf = unit_sheet_pdf(
        cards,
        bot,
        web_base=settings.public_base_url,
        wa_number=settings.whatsapp_business_number,
    )
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="qr-{unit.code}.pdf"'},
    )
