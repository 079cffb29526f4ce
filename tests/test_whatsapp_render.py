"""WhatsApp's renderer against WhatsApp's limits, for every screen of every flow, in both
languages: the conversations are driven for real (`conversations.flow.handle` on the test
database, WhatsApp's channel and addresses), each outcome is drawn with
`whatsapp.render.render_outcome`, and every payload is checked against the limits Meta
documents (see whatsapp/render.py); every button of a screen must come back as a reply id,
its label must stay readable, and the screen's text must all be there. The citizen presses
only what the payloads offer: a reply's id, as WhatsApp would send it back."""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from conversations.engine import FlowConfig, Inbound, Outcome, Screen
from conversations.flow import handle
from conversations.i18n import t
from conversations.notices import render as notice_text
from core.access import Actor
from core.cases import service as svc
from core.cases.models import Attachment, Case, CaseOutcome
from core.outbox.models import MessageTemplate, OutboundMessage
from core.people.models import Channel, Intake, Role
from core.policies import build
from core.shared.config import Settings
from core.surveys.models import SurveyResponse
from tests.factories import make_officer, make_service, make_unit, make_user
from whatsapp import render as wa
from whatsapp.render import render_notice, render_outcome, render_screen, width

LANGS = ("id", "en")
UNIT_COUNT = 25
Payload = dict[str, Any]


# Limits -----------------------------------------------------------------------------------


def ids_of(payload: Payload) -> list[str]:
    if payload["type"] != "interactive":
        return []
    inner = payload["interactive"]
    if inner["type"] == "button":
        return [b["reply"]["id"] for b in inner["action"]["buttons"]]
    return [r["id"] for s in inner["action"]["sections"] for r in s["rows"]]


def assert_within_limits(payload: Payload) -> None:
    """One message payload within every limit Meta documents for its type."""
    assert "messaging_product" not in payload and "to" not in payload
    if payload["type"] == "text":
        body = payload["text"]["body"]
        assert body.strip() and width(body) <= wa.TEXT_MAX
        return
    assert payload["type"] == "interactive"
    inner = payload["interactive"]
    body = inner["body"]["text"]
    assert body.strip() and width(body) <= wa.INTERACTIVE_BODY_MAX
    if "header" in inner:
        assert width(inner["header"]["text"]) <= wa.HEADER_MAX
    if "footer" in inner:
        assert width(inner["footer"]["text"]) <= wa.FOOTER_MAX
    ids = ids_of(payload)
    assert ids and len(set(ids)) == len(ids)
    if inner["type"] == "button":
        buttons = inner["action"]["buttons"]
        assert 1 <= len(buttons) <= wa.REPLY_BUTTONS_MAX
        titles = [b["reply"]["title"] for b in buttons]
        assert len(set(titles)) == len(titles)
        for button in buttons:
            assert button["type"] == "reply"
            assert 0 < width(button["reply"]["title"]) <= wa.REPLY_TITLE_MAX
            assert 0 < len(button["reply"]["id"]) <= wa.REPLY_ID_MAX
        return
    assert inner["type"] == "list"
    action = inner["action"]
    assert 0 < width(action["button"]) <= wa.LIST_BUTTON_MAX
    sections = action["sections"]
    assert 1 <= len(sections) <= 10
    rows = [r for s in sections for r in s["rows"]]
    assert 1 <= len(rows) <= wa.LIST_ROWS_MAX
    for section in sections:
        assert len(sections) == 1 or section["title"]
        assert width(section.get("title", "")) <= wa.SECTION_TITLE_MAX
    for row in rows:
        assert 0 < width(row["title"]) <= wa.ROW_TITLE_MAX
        assert width(row.get("description", "")) <= wa.ROW_DESCRIPTION_MAX
        assert 0 < len(row["id"]) <= wa.ROW_ID_MAX


def shown_label(payloads: list[Payload], data: str) -> tuple[str, str]:
    """What the citizen reads for the button `data`: its title and description."""
    for payload in payloads:
        if payload["type"] != "interactive":
            continue
        inner = payload["interactive"]
        if inner["type"] == "button":
            for b in inner["action"]["buttons"]:
                if b["reply"]["id"] == data:
                    return b["reply"]["title"], ""
        else:
            for s in inner["action"]["sections"]:
                for r in s["rows"]:
                    if r["id"] == data:
                        return r["title"], r.get("description", "")
    raise AssertionError(f"button {data} is not offered")


def squeeze(text: str) -> str:
    return re.sub(r"\s+", "", text)


def assert_screen_drawn(screen: Screen, payloads: list[Payload]) -> None:
    """Each payload within limits; every button there, readable; the whole text there."""
    for payload in payloads:
        assert_within_limits(payload)
    offered = [i for p in payloads for i in ids_of(p)]
    assert len(offered) == len(set(offered))
    for row in screen.buttons:
        for label, data in row:
            assert data in offered, f"{data} ({label}) lost"
            title, description = shown_label(payloads, data)
            label = " ".join(label.split())
            if width(label) <= wa.ROW_TITLE_MAX:
                assert title == label
                continue
            # Shortened at a word's end, with the whole label (or most of it) beneath.
            assert title.endswith("…") and label.startswith(title[:-1].rstrip())
            assert width(title) >= wa.ROW_TITLE_MAX // 2
            if width(label) <= wa.ROW_DESCRIPTION_MAX:
                assert description == label
            else:  # its start and its end: long names often differ at the end
                head, tail = description.split(" … ")
                assert label.startswith(head) and label.endswith(tail)
                assert width(tail) >= 10
    for payload in payloads:  # the choices of a list can be told apart
        if payload["type"] == "interactive" and payload["interactive"]["type"] == "list":
            rows = [r for s in payload["interactive"]["action"]["sections"] for r in s["rows"]]
            shown = [(r["title"], r.get("description", "")) for r in rows]
            labels = {" ".join(lb.split()) for row in screen.buttons for lb, _ in row}
            assert len(set(shown)) == len(shown) or len(labels) < len(offered)
    texts = [p["text"]["body"] for p in payloads if p["type"] == "text"]
    first_body = next(
        (p["interactive"]["body"]["text"] for p in payloads if p["type"] == "interactive"), ""
    )
    if texts:  # the text on its own, in parts
        assert squeeze("".join(texts)) == squeeze(screen.text) or not screen.text.strip()
    else:
        assert first_body == screen.text.strip()


# Driving the conversations ----------------------------------------------------------------


@dataclass
class World:
    engine: Engine
    cfg: FlowConfig
    unit_id: int  # the unit with many services and officers (first in the list)
    officer_ids: list[int]
    admin: Actor
    policy: svc.CasePolicy


@dataclass
class WaCitizen:
    """A citizen on WhatsApp: what they send goes through `handle`; what they are shown is
    the payloads, checked; they press only what those payloads offer."""

    world: World
    lang: str
    address: str = "6281234567890"
    last: list[Payload] = field(default_factory=list)
    screens_seen: int = 0
    ids: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    def send(self, kind: str, **kw: Any) -> list[Payload]:
        ev = Inbound(
            channel=Channel.whatsapp,
            message_id=f"wamid.T{next(self.ids)}",
            address=self.address,
            kind=kind,  # type: ignore[arg-type]
            **kw,
        )
        with Session(self.world.engine) as s:
            out = handle(s, self.world.cfg, ev)
            s.commit()
        return self.shown(out)

    def shown(self, out: Outcome) -> list[Payload]:
        payloads = render_outcome(out, self.lang)
        drawn: list[Payload] = []
        if out.toast and not out.screens:  # a note alone (a toast on Telegram): a text
            drawn.append({"type": "text", "text": {"body": out.toast, "preview_url": False}})
        for screen in out.screens:
            one = render_screen(screen, self.lang)
            assert_screen_drawn(screen, one)
            drawn.extend(one)
            self.screens_seen += 1
        assert payloads == drawn
        assert payloads, "every message is answered"
        self.last = payloads
        return payloads

    def text(self, text: str) -> list[Payload]:
        return self.send("text", text=text)

    def offered(self) -> list[str]:
        return [i for p in self.last for i in ids_of(p)]

    def press(self, pattern: str) -> list[Payload]:
        """Tap the first row or button whose id matches `pattern` (a regex, whole id)."""
        matching = [i for i in self.offered() if re.fullmatch(pattern, i)]
        assert matching, f"nothing matches {pattern} in {self.offered()}"
        return self.send("callback", data=matching[0])

    def reads(self) -> str:
        parts = []
        for p in self.last:
            if p["type"] == "text":
                parts.append(p["text"]["body"])
            else:
                parts.append(p["interactive"]["body"]["text"])
        return "\n".join(parts)


def long_name(i: int) -> str:
    kinds = (
        "Dinas Kependudukan dan Pencatatan Sipil Kabupaten Kupang Wilayah Pelayanan {i:02d}",
        "Kecamatan Pelayanan {i:02d}",
        "Puskesmas Rawat Inap dan Pelayanan Kesehatan Masyarakat Nomor {i:02d}",
        "Unit {i:02d}",
        "Rumah Sakit Umum Daerah Pelayanan {i:02d}",
    )
    return kinds[i % len(kinds)].format(i=i)


@pytest.fixture
def world(engine: Engine, settings: Settings) -> World:
    policies = build(settings, engine)
    with Session(engine) as s:
        first = make_unit(s, "bpptsp", "Badan Pelayanan Perizinan Terpadu Satu Pintu Kabupaten")
        for i in range(1, UNIT_COUNT):
            make_unit(s, f"u{i:02d}", long_name(i))
        for i in range(20):
            make_service(s, first, f"Layanan perizinan berusaha nomor {i + 1:02d} (OSS RBA)")
        officers = [
            make_officer(s, first, f"Yohanes Benediktus Ndun Nomor {i + 1:02d}, S.Sos., M.Si.")
            for i in range(12)
        ]
        admin = make_user(s, "admin", Role.admin)
        s.commit()
        unit_id, officer_ids, admin_id = first.id or 0, [o.id or 0 for o in officers], admin.id
    cfg = FlowConfig(
        tz=settings.tz,
        area_name="Kabupaten Kupang",
        case_policy=policies.cases,
        pseudonym_key="k" * 32,
        clock=policies.clock,
    )
    actor = Actor(admin_id or 0, "admin", Role.admin)
    return World(engine, cfg, unit_id, officer_ids, actor, policies.cases)


def onboarded(world: World, lang: str) -> WaCitizen:
    c = WaCitizen(world, lang)
    c.text("Halo")
    assert set(c.offered()) >= {"lang:id", "lang:en"}
    c.press(f"lang:{lang}")
    c.press("consent:no")  # declined: the notice again
    c.press("consent:yes")
    assert {"m:rate", "m:report", "m:mine", "m:lang", "m:privacy"} <= set(c.offered())
    return c


# The flows --------------------------------------------------------------------------------


@pytest.mark.parametrize("lang", LANGS)
def test_a_whole_survey_on_whatsapp_fits_every_limit(world: World, lang: str) -> None:
    c = onboarded(world, lang)
    c.press("m:rate")
    # 25 units: four pages; the middle ones have more than 10 buttons.
    pages = [c.offered()]
    for page in (1, 2, 3):
        c.press(f"svy:pg:{page}")
        pages.append(c.offered())
    units = {i for ids in pages for i in ids if i.startswith("svy:u:")}
    assert len(units) == UNIT_COUNT  # every unit reachable, none lost to the limits
    c.press("svy:pg:2")
    assert len(c.last) == 2  # ten rows of units and arrows, then Menu as a reply button
    assert c.last[1]["interactive"]["type"] == "button"
    c.press("svy:pg:1")
    c.press("svy:pg:0")
    c.press(f"svy:u:{world.unit_id}")
    # 20 services, "other / skip", Back and Menu: lists of at most 10, then the way out.
    services = [i for i in c.offered() if re.fullmatch(r"svy:s:[1-9][0-9]*", i)]
    assert len(services) == 20 and "svy:s:0" in c.offered()
    c.press(services[3])
    # 12 officers: two pages.
    first_page = [i for i in c.offered() if re.fullmatch(r"svy:o:[1-9][0-9]*", i)]
    assert len(first_page) == 8
    c.press("svy:opg:1")
    second_page = [i for i in c.offered() if re.fullmatch(r"svy:o:[1-9][0-9]*", i)]
    assert len(second_page) == 4
    c.press(second_page[-1])
    for qi in range(9):
        c.press(f"svy:a:{qi}:4")
        if qi == 2:  # back to question 3: the answer given is marked
            c.press("svy:back")
            title, _ = shown_label(c.last, "svy:a:2:4")
            assert title.startswith("✅")
            c.press("svy:a:2:4")
    c.text("Pelayanan cepat dan ramah. " * 50)  # too long: kept to cut
    assert "svy:c:cut" in c.offered()
    c.press("svy:c:cut")
    while any(re.fullmatch(r"svy:p:[0-9]+:0", i) for i in c.offered()):
        c.press(r"svy:p:[0-9]+:0")
    with Session(world.engine) as s:
        [response] = s.exec(select(SurveyResponse)).all()
    assert response.channel == Intake.whatsapp.value
    assert response.officer_id == int(second_page[-1].split(":")[2])
    assert response.unit_id == world.unit_id and response.q9 == 4


@pytest.mark.parametrize("lang", LANGS)
def test_a_whole_complaint_and_its_follow_up_on_whatsapp_fit_every_limit(
    world: World, lang: str
) -> None:
    c = onboarded(world, lang)
    c.press("m:report")
    c.press("cmp:pg:1")
    c.press("cmp:pg:0")
    c.press(f"cmp:u:{world.unit_id}")
    c.press("cmp:opg:1")
    c.press("cmp:opg:0")
    c.press(f"cmp:o:{world.officer_ids[0]}")
    categories = [i for i in c.offered() if i.startswith("cmp:c:")]
    assert len(categories) == 11  # eleven categories, in lists of at most ten
    assert {"cmp:back", "cmp:home"} <= set(c.offered())
    c.press("cmp:c:10")
    c.text("Pendek.")  # too short: the step again
    assert c.reads()
    c.text("Petugas loket meminta uang tambahan tanpa kuitansi resmi. " * 40)  # too long
    c.press("cmp:cut")
    c.send("photo", data="wa-media-1")
    c.press("cmp:ph:done")
    c.send("location", latitude=-10.17, longitude=123.61)
    c.press("cmp:pv:rahasia")
    # The summary with a 2,000-character description: the text first, then the buttons.
    assert c.last[0]["type"] == "text" and len(c.last) >= 2
    c.press("cmp:phone")
    c.text("0812-3456-7890")
    c.press("cmp:edit")
    assert {f"cmp:e:{k}" for k in ("unit", "cat", "desc", "photo", "loc", "pv")} <= set(c.offered())
    c.press("cmp:back")
    c.press("cmp:send")
    with Session(world.engine) as s:
        [case] = s.exec(select(Case)).all()
        ref = case.reference
    assert case.category and case.officer_id == world.officer_ids[0]
    # My reports, then the case's page.
    c.press("m:mine")
    c.press(f"case:view:{ref}")
    c.press("case:list")
    c.press("case:home")

    def staff(action: Callable[[Session, Case], object]) -> None:
        with Session(world.engine) as s:
            found = s.exec(select(Case).where(Case.reference == ref)).one()
            action(s, found)
            s.commit()

    admin, policy = world.admin, world.policy
    staff(lambda s, k: svc.verify(s, k, policy, actor=admin))
    staff(lambda s, k: svc.assign(s, k, actor=admin, assignee_id=admin.user_id))
    staff(lambda s, k: svc.request_info(s, k, "Jam berapa kejadiannya? " * 40, actor=admin))
    notices = outbox_for(world, c.address)
    assert [n.template for n in notices][-1] == MessageTemplate.case_info_requested.value
    c.last = render_and_check_notice(notices[-1])
    c.press(f"case:reply:{ref}")  # the notice's button, pressed as WhatsApp sends it back
    c.text("Sekitar pukul sepuluh pagi, di loket dua. " * 120)  # too long: kept to cut
    c.press("case:cut")
    staff(
        lambda s, k: svc.resolve(s, k, CaseOutcome.substantiated, "Petugas ditegur.", actor=admin)
    )
    notices = outbox_for(world, c.address)
    assert notices[-1].template == MessageTemplate.case_resolved.value
    c.last = render_and_check_notice(notices[-1])
    assert {f"case:rate:{ref}:y", f"case:rate:{ref}:n"} <= set(c.offered())
    c.press(f"case:rate:{ref}:n")
    assert "case:cancel" in c.offered()
    c.press("case:cancel")
    resolved = render_and_check_notice(notices[-1])
    c.last = resolved
    c.press(f"case:rate:{ref}:y")  # satisfied after all: thanks, as a text
    assert [p["type"] for p in c.last] == ["text"] and ref in c.reads()
    c.last = resolved
    c.press(f"case:rate:{ref}:y")  # the old button again: a note alone (a toast on Telegram)
    assert c.reads() == t(lang, "case.already_rated")
    for notice in notices:
        render_and_check_notice(notice)


@pytest.mark.parametrize("lang", LANGS)
def test_privacy_erasure_language_and_help_on_whatsapp_fit_every_limit(
    world: World, lang: str
) -> None:
    c = onboarded(world, lang)
    c.press("m:lang")
    assert {"lang:id", "lang:en", "lang:back"} <= set(c.offered())
    c.press("lang:back")
    c.press("m:privacy")
    c.press("pv:erase")
    c.press("pv:no")
    c.send("command", command="help")
    c.send("command", command="status", args="LPR-0000-0000")
    c.send("other")
    c.send("command", command="privacy")
    c.press("pv:back")
    c.text("Pelayanan di kantor kecamatan lambat sekali, saya menunggu tiga jam.")
    assert "m:report" in c.offered()  # typed at the menu: offered as a report
    c.press("m:report")
    c.press(f"cmp:u:{world.unit_id}")
    c.press("cmp:o:0")
    c.press("cmp:c:0")
    c.press("cmp:keep")  # the text typed at the menu, as the description
    c.press("cmp:home")
    c.send("callback", data="svy:u:999999")  # a stale button: the screen again, said once
    assert len(c.last) == 1 and c.last[0]["type"] == "interactive"
    assert t(lang, "hint.stale_button") in c.reads()
    c.press("m:privacy")
    c.press("pv:erase")
    c.press("pv:yes")
    assert not c.offered()  # erased: a farewell, nothing to press


def test_a_complaint_from_whatsapp_is_filed_as_whatsapps_with_its_photo(world: World) -> None:
    c = onboarded(world, "id")
    c.press("m:report")
    c.press(f"cmp:u:{world.unit_id}")
    c.press("cmp:o:0")
    c.press("cmp:c:0")
    c.text("Petugas loket meminta uang tambahan tanpa kuitansi.")
    c.send("photo", data="wa-media-7")
    c.press("cmp:ph:done")
    c.press("cmp:loc:skip")
    c.press("cmp:pv:biasa")
    c.press("cmp:send")
    with Session(world.engine) as s:
        [case] = s.exec(select(Case)).all()
        [photo] = s.exec(select(Attachment)).all()
    assert photo.reference == "wa-media-7"
    # Where it came in, and whose channel fetches the photo (pending_attachments).
    assert (case.channel, photo.source) == (Intake.whatsapp.value, Intake.whatsapp.value)


# Notices ----------------------------------------------------------------------------------


def outbox_for(world: World, address: str) -> list[OutboundMessage]:
    with Session(world.engine) as s:
        return list(
            s.exec(
                select(OutboundMessage)
                .where(OutboundMessage.address == address)
                .order_by(OutboundMessage.id)  # type: ignore[arg-type]
            ).all()
        )


def render_and_check_notice(message: OutboundMessage) -> list[Payload]:
    rendered = notice_text(message)
    payloads = render_notice(message)
    assert_screen_drawn(Screen(rendered.text, rendered.buttons), payloads)
    return payloads


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("template", list(MessageTemplate))
def test_every_notice_fits_every_limit(lang: str, template: MessageTemplate) -> None:
    params = {
        "ref": "LPR-2611-0042",
        "body": "Mohon jelaskan lebih rinci kapan dan di loket mana kejadiannya. " * 30,
        "outcome": CaseOutcome.substantiated.value,
        "text": "Ringkasan mingguan.\n\n" + "Baris ringkasan. " * 400,
        "code": "ABCD-EFGH",
    }
    message = OutboundMessage(
        channel=Channel.whatsapp.value,
        address="6281234567890",
        language=lang,
        template=template.value,
        params=json.dumps(params),
    )
    payloads = render_and_check_notice(message)
    if template == MessageTemplate.case_resolved:
        assert set(ids_of(payloads[-1])) == {
            "case:rate:LPR-2611-0042:y",
            "case:rate:LPR-2611-0042:n",
        }


# The renderer's rules on their own --------------------------------------------------------


def test_a_long_text_is_split_at_paragraphs_within_4096() -> None:
    paragraphs = [f"Paragraf {i}. " + "kata " * 150 for i in range(20)]
    text = "\n\n".join(paragraphs)
    payloads = render_screen(Screen(text), "id")
    assert len(payloads) > 1
    for payload in payloads:
        assert_within_limits(payload)
        body = payload["text"]["body"]
        assert body.startswith("Paragraf")  # each part starts at a paragraph
    assert squeeze("".join(p["text"]["body"] for p in payloads)) == squeeze(text)
    one_word = "x" * 9000  # no boundary at all: cut anywhere, nothing lost
    parts = render_screen(Screen(one_word), "en")
    assert "".join(p["text"]["body"] for p in parts) == one_word


def test_a_few_short_buttons_are_reply_buttons_and_long_text_goes_first() -> None:
    screen = Screen("Lanjutkan?", [[("Ya", "x:yes"), ("Tidak", "x:no")]])
    [payload] = render_screen(screen, "id")
    assert payload["interactive"]["type"] == "button"
    long = Screen("Teks panjang. " * 100, screen.buttons)
    payloads = render_screen(long, "en")
    assert [p["type"] for p in payloads] == ["text", "interactive"]
    assert payloads[1]["interactive"]["body"]["text"] == "Please choose one:"
    assert_screen_drawn(long, payloads)


def test_emoji_count_twice_where_whatsapp_may_count_them_twice() -> None:
    label = "↩️ Kembali ke daftar laporan"  # 2 + 1 + 24 code units: too long for a button
    screen = Screen("Pilih:", [[(label, "case:list")], [("🏠 Menu", "case:home")]])
    [payload] = render_screen(screen, "id")
    assert payload["interactive"]["type"] == "list"
    assert_screen_drawn(screen, [payload])
    assert width("📂") == 2 and width("⭐") == 1


def test_many_reports_are_lists_with_the_menu_after() -> None:
    buttons = [
        [(f"LPR-2611-{i:04d} · Sedang ditangani", f"case:view:LPR-2611-{i:04d}")] for i in range(15)
    ]
    screen = Screen("Laporan Anda:", [*buttons, [("🏠 Menu", "case:home")]])
    payloads = render_screen(screen, "id")
    assert [p["interactive"]["type"] for p in payloads] == ["list", "list", "button"]
    assert [len(ids_of(p)) for p in payloads] == [8, 7, 1]
    assert_screen_drawn(screen, payloads)
