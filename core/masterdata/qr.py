"""QR codes for counters, services and officers: deep links into the bot (segno), and a
printable A4 sheet of cards per unit (fpdf2). Payloads are lookup keys, never a NIP."""

from __future__ import annotations

import io
from dataclasses import dataclass

import segno
from fpdf import FPDF
from sqlmodel import Session, col, select

from core.masterdata.deeplinks import PAYLOAD_RE, officer_payload, service_payload, unit_payload
from core.masterdata.models import Officer, Service, Unit
from core.shared.errors import InvalidInput, NotFound
from core.shared.i18n import ct


@dataclass(frozen=True)
class Card:
    title: str  # unit name
    subtitle: str  # "Loket" / the service / the officer
    payload: str


def deep_link(bot_username: str, payload: str) -> str:
    if not PAYLOAD_RE.match(payload):
        raise InvalidInput("a payload is 1-64 characters of A-Z a-z 0-9 _ -")
    return f"https://t.me/{bot_username.lstrip('@')}?start={payload}"


def payload_for(
    session: Session, unit: Unit, service_id: int | None = None, officer_code: str | None = None
) -> str:
    """The payload for the unit, one of its services or one of its officers."""
    if service_id is not None:
        service = session.get(Service, service_id)
        if service is None or service.unit_id != unit.id:
            raise NotFound(f"service {service_id} is not a service of {unit.code}")
        return service_payload(service)
    if officer_code is not None:
        officer = session.exec(select(Officer).where(Officer.public_code == officer_code)).first()
        if officer is None or officer.unit_id != unit.id:
            raise NotFound(f"officer {officer_code!r} does not serve in {unit.code}")
        return officer_payload(officer)
    return unit_payload(unit)


def qr_png(link: str, scale: int = 8) -> bytes:
    buf = io.BytesIO()
    segno.make(link, error="m").save(buf, kind="png", scale=scale, border=4)
    return buf.getvalue()


def qr_svg(link: str, scale: int = 8) -> bytes:
    buf = io.BytesIO()
    segno.make(link, error="m").save(buf, kind="svg", scale=scale, border=4)
    return buf.getvalue()


def unit_cards(session: Session, unit: Unit, lang: str = "id") -> list[Card]:
    cards = [Card(unit.name, ct(lang, "qr.counter"), unit_payload(unit))]
    services = session.exec(
        select(Service)
        .where(Service.unit_id == unit.id, Service.active == True)  # noqa: E712
        .order_by(col(Service.name))
    ).all()
    cards += [Card(unit.name, s.name, service_payload(s)) for s in services]
    officers = session.exec(
        select(Officer)
        .where(Officer.unit_id == unit.id, Officer.active == True)  # noqa: E712
        .order_by(col(Officer.name))
    ).all()
    cards += [Card(unit.name, o.name, officer_payload(o)) for o in officers]
    return cards


def _latin1(text: str) -> str:
    return text.encode("latin-1", "replace").decode("latin-1")


def unit_sheet_pdf(cards: list[Card], bot_username: str, lang: str = "id") -> bytes:
    """A4 pages of 2 x 3 cards: the QR code, the unit, what it rates, how to use it."""
    pdf = FPDF(format="A4", unit="mm")
    pdf.set_compression(False)
    pdf.set_auto_page_break(auto=False)
    width, height, margin = 95.0, 92.0, 10.0
    for index, card in enumerate(cards):
        slot = index % 6
        if slot == 0:
            pdf.add_page()
        x = margin + (slot % 2) * width
        y = margin + (slot // 2) * height
        pdf.set_draw_color(180, 180, 180)
        pdf.rect(x, y, width - 5, height - 4)
        png = qr_png(deep_link(bot_username, card.payload), scale=6)
        pdf.image(io.BytesIO(png), x=x + (width - 5 - 48) / 2, y=y + 3, w=48, h=48)
        pdf.set_xy(x + 3, y + 53)
        pdf.set_font("Helvetica", "B", 11)
        pdf.multi_cell(width - 11, 5, _latin1(card.title), align="C")
        pdf.set_x(x + 3)
        pdf.set_font("Helvetica", "", 11)
        pdf.multi_cell(width - 11, 5, _latin1(card.subtitle), align="C")
        pdf.set_x(x + 3)
        pdf.set_font("Helvetica", "I", 9)
        pdf.multi_cell(width - 11, 4.5, _latin1(ct(lang, "qr.instruction")), align="C")
    return bytes(pdf.output())
