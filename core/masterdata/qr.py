"""QR codes for counters, services and officers: deep links into the bot (segno), and a
printable A4 sheet of cards per unit (fpdf2). Payloads are lookup keys, never a NIP.

Every card (the PNG and SVG codes as well as the sheet's cards) shows the bot's @name and a
short link under the code, for people who cannot scan. The bot name is the one
`core.masterdata.bot_identity.printable_bot` allows. A card says what scanning it opens:
every deep link opens the survey of what the card names (conversations/flow.py `_start`);
a complaint is filed from the same bot's menu.

With PUBLIC_BASE_URL set, every card offers the public web site as well, for citizens
without Telegram: a second QR code and the printed address of the same survey on the site
(`web_link`: `/nilai/<unit code>`, or `/nilai/<payload>` for a service or an officer, the
payloads web/routes_survey.py takes as the bot does). Without it, the cards offer only the
bot.

With WHATSAPP_BUSINESS_NUMBER set, every card offers WhatsApp as well: a QR code of a
`wa.me` link whose first message carries the card's payload (`whatsapp_text`: "START
<payload>", e.g. "START u_dukcapil"; the WhatsApp channel opens the same survey as the bot's
deep link), and that text and number printed for people who cannot scan."""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import quote
from xml.sax.saxutils import escape

import segno
from fpdf import FPDF
from PIL import Image, ImageDraw, ImageFont
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
    kind: str = "unit"  # unit, service or officer: what the card's text says it opens


def deep_link(bot_username: str, payload: str) -> str:
    if not PAYLOAD_RE.match(payload):
        raise InvalidInput("a payload is 1-64 characters of A-Z a-z 0-9 _ -")
    return f"https://t.me/{bot_username.lstrip('@')}?start={payload}"


def short_link(bot_username: str, payload: str) -> str:
    """The deep link as a person types it: t.me/<bot>?start=<payload>."""
    return deep_link(bot_username, payload).removeprefix("https://")


def web_link(base_url: str, payload: str) -> str:
    """The web survey of what a card names: `{PUBLIC_BASE_URL}/nilai/<unit code>` for a unit,
    `{PUBLIC_BASE_URL}/nilai/<payload>` for a service or an officer."""
    if not PAYLOAD_RE.match(payload):
        raise InvalidInput("a payload is 1-64 characters of A-Z a-z 0-9 _ -")
    path = payload.removeprefix("u_") if payload.startswith("u_") else payload
    return f"{base_url.rstrip('/')}/nilai/{path}"


def web_short_link(base_url: str, payload: str) -> str:
    """The web address as a person types it (without https://)."""
    return web_link(base_url, payload).removeprefix("https://").removeprefix("http://")


# The first message of a wa.me link: this word, a space and the card's payload.
WHATSAPP_START = "START"


def whatsapp_text(payload: str) -> str:
    """The first message a card's wa.me link writes for the citizen: "START <payload>"."""
    if not PAYLOAD_RE.match(payload):
        raise InvalidInput("a payload is 1-64 characters of A-Z a-z 0-9 _ -")
    return f"{WHATSAPP_START} {payload}"


def whatsapp_link(number: str, payload: str) -> str:
    """https://wa.me/<number>?text=START%20<payload>: WhatsApp opens a chat with the office's
    number with that first message written, ready to send."""
    if not (number.isascii() and number.isdigit() and 7 <= len(number) <= 15):
        raise InvalidInput("a WhatsApp number is its 7-15 digits in international form")
    return f"https://wa.me/{number}?text={quote(whatsapp_text(payload))}"


def whatsapp_short_link(number: str) -> str:
    """The office's chat as a person types it: wa.me/<number>."""
    return f"wa.me/{number}"


def caption(bot_username: str, payload: str) -> tuple[str, str]:
    """The two lines under every QR code: the bot's @name and the short link."""
    return f"@{bot_username.lstrip('@')}", short_link(bot_username, payload)


def instruction(lang: str, kind: str) -> str:
    """What scanning the card opens, said honestly: the survey of its officer or service."""
    return ct(lang, "qr.opens_officer" if kind == "officer" else "qr.opens_survey")


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


def qr_png(link: str, scale: int = 8, lines: Sequence[str] = ()) -> bytes:
    """The QR code of `link`, with `lines` of text under it (the bot's name and short link)."""
    buf = io.BytesIO()
    segno.make(link, error="m").save(buf, kind="png", scale=scale, border=4)
    if not lines:
        return buf.getvalue()
    code = Image.open(io.BytesIO(buf.getvalue())).convert("L")
    size = max(12, scale * 2)
    font = ImageFont.load_default(size=size)
    width = max([code.width] + [int(font.getlength(line)) + 2 * scale for line in lines])
    height = code.height + len(lines) * (size + scale // 2) + 2 * scale
    card = Image.new("L", (width, height), 255)
    card.paste(code, ((width - code.width) // 2, 0))
    draw = ImageDraw.Draw(card)
    y = code.height
    for line in lines:
        draw.text(((width - font.getlength(line)) / 2, y), line, fill=0, font=font)
        y += size + scale // 2
    out = io.BytesIO()
    card.save(out, format="PNG")
    return out.getvalue()


def qr_svg(link: str, scale: int = 8, lines: Sequence[str] = ()) -> bytes:
    """The QR code of `link` as SVG, with `lines` of text under it."""
    qr = segno.make(link, error="m")
    width, height = qr.symbol_size(scale=scale, border=4)
    size = max(12, scale * 2)
    total = height + len(lines) * (size + scale // 2) + (2 * scale if lines else 0)
    buf = io.BytesIO()
    qr.save(buf, kind="svg", scale=scale, border=4, xmldecl=False, svgns=False, svgclass=None,
            lineclass=None, omitsize=True)  # fmt: skip
    body = buf.getvalue().decode()
    inner = body[body.index(">") + 1 : body.rindex("</svg>")]
    texts = "".join(
        f'<text x="{width / 2:g}" y="{height + (n + 1) * (size + scale // 2) - scale // 2:g}" '
        f'font-family="sans-serif" font-size="{size}" text-anchor="middle">{escape(line)}</text>'
        for n, line in enumerate(lines)
    )
    svg = (
        f'<?xml version="1.0" encoding="utf-8"?>\n<svg xmlns="http://www.w3.org/2000/svg" '
        f'width="{width}" height="{total}" viewBox="0 0 {width} {total}">'
        f'<rect width="100%" height="100%" fill="#fff"/>{inner}{texts}</svg>'
    )
    return svg.encode()


def unit_cards(session: Session, unit: Unit, lang: str = "id") -> list[Card]:
    cards = [Card(unit.name, ct(lang, "qr.counter"), unit_payload(unit), "unit")]
    services = session.exec(
        select(Service)
        .where(Service.unit_id == unit.id, Service.active == True)  # noqa: E712
        .order_by(col(Service.name))
    ).all()
    cards += [Card(unit.name, s.name, service_payload(s), "service") for s in services]
    officers = session.exec(
        select(Officer)
        .where(Officer.unit_id == unit.id, Officer.active == True)  # noqa: E712
        .order_by(col(Officer.name))
    ).all()
    cards += [Card(unit.name, o.name, officer_payload(o), "officer") for o in officers]
    return cards


def _latin1(text: str) -> str:
    return text.encode("latin-1", "replace").decode("latin-1")


def unit_sheet_pdf(
    cards: list[Card],
    bot_username: str,
    lang: str = "id",
    *,
    web_base: str = "",
    wa_number: str = "",
) -> bytes:
    """A4 pages of 2 x 3 cards: the QR code, the unit, what it rates, what scanning opens,
    and the bot's @name with the short link for people who cannot scan. With `web_base`
    (PUBLIC_BASE_URL), each card has a second QR code and the printed address of the same
    survey on the public web site; with `wa_number` (WHATSAPP_BUSINESS_NUMBER), a QR code of
    the wa.me link and the first message to send the number by hand."""
    pdf = FPDF(format="A4", unit="mm")
    pdf.set_compression(False)
    pdf.set_auto_page_break(auto=False)
    width, height, margin = 95.0, 92.0, 10.0
    extra = bool(web_base) + bool(wa_number)
    for index, card in enumerate(cards):
        slot = index % 6
        if slot == 0:
            pdf.add_page()
        x = margin + (slot % 2) * width
        y = margin + (slot // 2) * height
        pdf.set_draw_color(180, 180, 180)
        pdf.rect(x, y, width - 5, height - 4)
        text = width - 11
        codes = [(deep_link(bot_username, card.payload), "qr.scan_telegram")]
        if wa_number:
            codes.append((whatsapp_link(wa_number, card.payload), "qr.scan_whatsapp"))
        if web_base:  # the rightmost code ("qr.web_open" says so)
            codes.append((web_link(web_base, card.payload), "qr.scan_web"))
        if extra:
            size, gap = (31.0, 6.0) if len(codes) == 2 else (26.0, 3.0)
            row = len(codes) * size + (len(codes) - 1) * gap
            left = x + (width - 5 - row) / 2
            # Each code's label on one line under it: "scan to open Telegram / ...".
            for n, (link, key) in enumerate(codes):
                at = left + n * (size + gap)
                png = qr_png(link, scale=6)
                pdf.image(io.BytesIO(png), x=at, y=y + 1, w=size, h=size)
                pdf.set_font("Helvetica", "B", 6.5 if len(codes) == 2 else 5.5)
                pdf.set_xy(at - gap / 2, y + size + 1.5)
                pdf.cell(size + gap, 3.2, _latin1(ct(lang, key)), align="C")
            pdf.set_xy(x + 3, y + size + 6)
            line = 4.2 if extra == 1 else 3.8
        else:
            bot_png = qr_png(codes[0][0], scale=6)
            pdf.image(io.BytesIO(bot_png), x=x + (width - 5 - 42) / 2, y=y + 2, w=42, h=42)
            pdf.set_xy(x + 3, y + 45)
            line = 4.6
        # More codes leave less room for the words: a size smaller.
        big, small, step, link_size, link_step = (
            (10.5, 8.0, 3.6, 8.5, 4.0),
            (9.5, 7.0, 3.1, 7.5, 3.4),
            (8.5, 6.5, 2.8, 7.0, 3.1),
        )[extra]
        pdf.set_font("Helvetica", "B", big)
        pdf.multi_cell(text, line, _latin1(card.title), align="C")
        pdf.set_x(x + 3)
        pdf.set_font("Helvetica", "", big)
        pdf.multi_cell(text, line, _latin1(card.subtitle), align="C")
        pdf.set_x(x + 3)
        pdf.set_font("Helvetica", "I", small)
        pdf.multi_cell(text, step, _latin1(instruction(lang, card.kind)), align="C")
        name, link = caption(bot_username, card.payload)
        pdf.set_x(x + 3)
        pdf.set_font("Helvetica", "", small)
        pdf.multi_cell(text, step, _latin1(ct(lang, "qr.no_scan", bot=name)), align="C")
        pdf.set_x(x + 3)
        pdf.set_font("Helvetica", "B", link_size)
        pdf.multi_cell(text, link_step, _latin1(link), align="C")
        if wa_number:
            pdf.set_x(x + 3)
            pdf.set_font("Helvetica", "", small)
            said = ct(lang, "qr.wa_open", text=whatsapp_text(card.payload), number=wa_number)
            pdf.multi_cell(text, step, _latin1(said), align="C")
        if web_base:
            pdf.set_x(x + 3)
            pdf.set_font("Helvetica", "", small)
            pdf.multi_cell(text, step, _latin1(ct(lang, "qr.web_open")), align="C")
            pdf.set_x(x + 3)
            pdf.set_font("Helvetica", "B", link_size)
            address = web_short_link(web_base, card.payload)
            pdf.multi_cell(text, link_step, _latin1(address), align="C")
    return bytes(pdf.output())
