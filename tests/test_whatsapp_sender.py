"""WhatsApp through the outbox: the real dispatcher, the real sender and Graph client, over
HTTP to the fake Graph API. Within 24 hours of the citizen's last message a notice goes as
free-form text with its buttons; after, as the approved template in the citizen's language;
with no template it fails and staff see why; rate limits pause, network errors retry."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from core.access import Actor
from core.cases import service as svc
from core.cases.lifecycle import assign, request_info, resolve, verify
from core.cases.models import Case, CaseEvent, CaseOutcome
from core.cases.policy import ComplaintDraft
from core.cases.reading import DeliveryState, event_deliveries
from core.cases.sla import SlaPolicy
from core.chat.window import last_inbound_at, note_inbound
from core.outbox.dispatch import Dispatcher
from core.outbox.models import OutboundMessage
from core.people.citizens import erase_citizen, get_or_create_citizen, set_language
from core.people.models import Channel, Citizen, Intake, Language, Role
from core.shared.config import Settings
from tests.factories import make_unit, make_user
from tests.graph_api_server import (
    ACCESS_TOKEN,
    APP_SECRET,
    BUSINESS_NUMBER,
    PAIR_RATE_LIMIT,
    PHONE_NUMBER_ID,
    RATE_LIMIT,
    VERIFY_TOKEN,
    GraphApiServer,
)
from whatsapp.graph import GraphClient
from whatsapp.sender import NO_TEMPLATE, WhatsAppSender

WA = Channel.whatsapp
T0 = datetime(2026, 11, 16, 1, 0, tzinfo=UTC)
DESC = "Petugas loket meminta uang tambahan untuk mempercepat KTP saya."


class FakeTime:
    """Wall clock and monotonic clock moving together; sleeping only moves them."""

    def __init__(self) -> None:
        self.wall = T0
        self.t = 1000.0

    def now(self) -> datetime:
        return self.wall

    def mono(self) -> float:
        return self.t

    async def sleep(self, seconds: float) -> None:
        self.advance(seconds)

    def advance(self, seconds: float) -> None:
        self.t += seconds
        self.wall += timedelta(seconds=seconds)


class TimedClient(GraphClient):
    """The real client, noting when (fake monotonic time) each send was answered and how."""

    def __init__(self, clock: FakeTime, *args: Any) -> None:
        super().__init__(*args)
        self.fake = clock
        self.log: list[tuple[float, str]] = []

    async def send(self, payload: dict[str, Any]) -> str:
        try:
            wamid = await super().send(payload)
        except Exception as exc:
            self.log.append((self.fake.mono(), f"refused:{type(exc).__name__}"))
            raise
        self.log.append((self.fake.mono(), "ok"))
        return wamid


@dataclass
class Office:
    engine: Engine
    clock: FakeTime
    graph: GraphApiServer
    client: TimedClient
    settings: Settings
    admin: Actor
    unit_id: int

    def sender(self) -> WhatsAppSender:
        return WhatsAppSender(self.engine, self.client, self.settings, clock=self.clock.now)

    def dispatcher(self) -> Dispatcher:
        return Dispatcher(
            self.engine,
            {WA: self.sender()},
            clock=self.clock.now,
            monotonic=self.clock.mono,
            sleep=self.clock.sleep,
        )

    def citizen(self, number: str, lang: Language = Language.id) -> Citizen:
        with Session(self.engine, expire_on_commit=False) as s:
            citizen = get_or_create_citizen(s, WA, number)
            set_language(s, citizen, lang)
            s.commit()
            return citizen

    def writes(self, number: str, ago: timedelta = timedelta(0)) -> None:
        """The citizen sent a message `ago` before now (as the webhook records it)."""
        with Session(self.engine) as s:
            note_inbound(s, WA, number, self.clock.now() - ago)
            s.commit()

    def file(self, citizen: Citizen) -> int:
        policy = svc.CasePolicy(sla=SlaPolicy(tz=self.settings.tz))
        with Session(self.engine) as s:
            case = svc.file_complaint(
                s,
                citizen,
                ComplaintDraft(
                    unit_id=self.unit_id, category="pungli", description=DESC,
                    channel=Intake.whatsapp,
                ),
                policy,
                now=self.clock.now(),
            )  # fmt: skip
            s.commit()
            assert case.id is not None
            return case.id

    def act(self, case_id: int, step: str, **kw: Any) -> int:
        """A staff step on the case; the id of its event (whose notice is queued)."""
        now = self.clock.now()
        policy = svc.CasePolicy(sla=SlaPolicy(tz=self.settings.tz))
        with Session(self.engine) as s:
            case = s.get(Case, case_id)
            assert case is not None
            if step == "verify":
                event = verify(s, case, policy, actor=self.admin, now=now)
            elif step == "assign":
                event = assign(s, case, actor=self.admin, assignee_id=self.admin.user_id, now=now)
            elif step == "ask":
                event = request_info(s, case, kw["question"], actor=self.admin, now=now)
            else:
                event = resolve(s, case, kw["outcome"], kw["resolution"], actor=self.admin, now=now)
            s.commit()
            assert event.id is not None
            return event.id

    def deliveries(self, event_id: int) -> list[Any]:
        with Session(self.engine) as s:
            return event_deliveries(s, [event_id]).get(event_id, [])

    def rows(self, number: str) -> list[OutboundMessage]:
        with Session(self.engine) as s:
            return list(
                s.exec(
                    select(OutboundMessage)
                    .where(OutboundMessage.channel == WA.value, OutboundMessage.address == number)
                    .order_by(col(OutboundMessage.id))
                ).all()
            )


def pending(engine: Engine) -> int:
    with Session(engine) as s:
        rows = s.exec(select(OutboundMessage.id).where(OutboundMessage.status == "pending"))
        return len(rows.all())


async def drain(d: Dispatcher, clock: FakeTime, rounds: int = 400, step: float = 1.0) -> None:
    """Run the dispatcher until nothing is pending, letting time pass when it waits."""
    for _ in range(rounds):
        if not await d.run_once():
            if not pending(d.engine):
                return
            clock.advance(step)
    raise AssertionError(f"{pending(d.engine)} messages still pending after {rounds} rounds")


@pytest.fixture
def graph() -> Iterator[GraphApiServer]:
    with GraphApiServer() as server:
        yield server


@pytest.fixture
def wa_settings(settings: Settings, graph: GraphApiServer) -> Settings:
    return settings.model_copy(
        update={
            "whatsapp_phone_number_id": PHONE_NUMBER_ID,
            "whatsapp_access_token": ACCESS_TOKEN,
            "whatsapp_app_secret": APP_SECRET,
            "whatsapp_verify_token": VERIFY_TOKEN,
            "whatsapp_business_number": BUSINESS_NUMBER,
            "whatsapp_api_base_url": graph.base_url,
            "whatsapp_messages_per_second": 20,
            "whatsapp_per_citizen_per_minute": 10,
        }
    )


@pytest.fixture
async def office(
    engine: Engine, graph: GraphApiServer, wa_settings: Settings
) -> AsyncIterator[Office]:
    clock = FakeTime()
    with Session(engine, expire_on_commit=False) as s:
        unit = make_unit(s, "dukcapil")
        user = make_user(s, "admin", Role.admin)
        s.commit()
        assert user.id is not None and unit.id is not None
        admin = Actor(user.id, "admin", Role.admin, frozenset())
        unit_id = unit.id
    async with httpx.AsyncClient() as http:
        client = TimedClient(clock, graph.base_url, PHONE_NUMBER_ID, ACCESS_TOKEN, http)
        yield Office(engine, clock, graph, client, wa_settings, admin, unit_id)


def ref_of(office: Office, case_id: int) -> str:
    with Session(office.engine) as s:
        case = s.get(Case, case_id)
        assert case is not None
        return case.reference


async def test_within_the_window_a_notice_is_free_form_with_its_buttons(office: Office) -> None:
    number = "6281234500001"
    citizen = office.citizen(number)
    office.writes(number, ago=timedelta(hours=2))
    case_id = office.file(citizen)
    office.act(case_id, "verify")
    office.act(case_id, "assign")
    resolved = office.act(
        case_id, "resolve", outcome=CaseOutcome.partly, resolution="Petugas telah ditegur."
    )
    await drain(office.dispatcher(), office.clock)
    ref = ref_of(office, case_id)
    sent = office.graph.sent(number)
    texts = office.graph.texts(number)
    assert any(f"Laporan {ref} telah diverifikasi" in t for t in texts)
    assert any(f"Laporan {ref} sedang ditangani" in t for t in texts)
    last = sent[-1]
    assert last["type"] == "interactive" and "Terbukti sebagian" in texts[-1]
    ids = [b["reply"]["id"] for b in last["interactive"]["action"]["buttons"]]
    assert ids == [f"case:rate:{ref}:y", f"case:rate:{ref}:n"]
    assert all(p["type"] != "template" for p in sent)
    [delivery] = office.deliveries(resolved)
    assert delivery.state == DeliveryState.sent
    assert all(r.status == "sent" and r.external_id for r in office.rows(number))


async def test_after_the_window_closes_a_resolution_goes_as_its_template(office: Office) -> None:
    number = "6281234500002"
    citizen = office.citizen(number, Language.en)
    office.writes(number)
    case_id = office.file(citizen)
    office.act(case_id, "verify")
    office.act(case_id, "assign")
    await drain(office.dispatcher(), office.clock)
    mark = office.graph.mark()
    office.clock.advance(25 * 3600)  # the citizen has not written for more than a day
    long_text = "Kami telah memeriksa.\n\n\tPetugas     ditegur.  " + "x" * 900
    resolved = office.act(case_id, "resolve", outcome=CaseOutcome.partly, resolution=long_text)
    await drain(office.dispatcher(), office.clock)
    ref = ref_of(office, case_id)
    [payload] = office.graph.sent_since(mark, number)
    assert payload["type"] == "template"
    template = payload["template"]
    assert template["name"] == "laporan_selesai"
    assert template["language"] == {"code": "en"}
    body, yes, no = template["components"]
    params = [p["text"] for p in body["parameters"]]
    assert params[:2] == [ref, "Partly substantiated"]
    # No newlines, tabs or runs of spaces in a parameter; cut to fit the template's body.
    assert params[2].startswith("Kami telah memeriksa. Petugas ditegur. xxx")
    assert params[2].endswith("…") and len(params[2]) <= 600
    assert "\n" not in params[2] and "\t" not in params[2] and "  " not in params[2]
    assert [yes["sub_type"], yes["index"], yes["parameters"][0]["payload"]] == [
        "quick_reply", "0", f"case:rate:{ref}:y",
    ]  # fmt: skip
    assert no["parameters"][0]["payload"] == f"case:rate:{ref}:n"
    [delivery] = office.deliveries(resolved)
    assert delivery.state == DeliveryState.sent


async def test_a_notice_without_a_template_outside_the_window_is_not_delivered_and_says_why(
    office: Office,
) -> None:
    number = "6281234500003"
    citizen = office.citizen(number)
    case_id = office.file(citizen)  # filed on the web or long ago: no message from them yet
    verified = office.act(case_id, "verify")
    in_progress = office.act(case_id, "assign")  # case_in_progress has no template configured
    await drain(office.dispatcher(), office.clock)
    texts = office.graph.texts(number)
    assert texts == ["laporan_diverifikasi"]  # the verified notice, as its template
    [ok] = office.deliveries(verified)
    [failed] = office.deliveries(in_progress)
    assert ok.state == DeliveryState.sent
    assert failed.state == DeliveryState.failed and failed.reason == NO_TEMPLATE


async def test_whatsapp_saying_the_window_closed_gets_the_template_once(office: Office) -> None:
    number = "6281234500004"
    citizen = office.citizen(number)
    office.writes(number, ago=timedelta(hours=23, minutes=59))
    case_id = office.file(citizen)
    office.act(case_id, "verify")
    office.act(case_id, "assign")
    office.graph.close_window(number)  # WhatsApp's clock says the window has closed
    asked = office.act(case_id, "ask", question="Kapan Anda datang ke loket?")
    await drain(office.dispatcher(), office.clock)
    attempts = [(a.payload["type"], a.code) for a in office.graph.attempts]
    # Each free-form notice is refused once (131047): the two with a template go as it.
    assert attempts.count(("template", None)) == 2
    names = office.graph.texts(number)
    assert names == ["laporan_diverifikasi", "pertanyaan_petugas"]
    [asked_delivery] = office.deliveries(asked)
    assert asked_delivery.state == DeliveryState.sent
    in_progress = office.rows(number)[1]
    assert in_progress.status == "failed" and in_progress.last_error == NO_TEMPLATE
    ask_params = office.graph.sent(number)[-1]["template"]["components"]
    assert ask_params[0]["parameters"][1]["text"] == "Kapan Anda datang ke loket?"
    assert ask_params[1]["parameters"][0]["payload"].startswith("case:reply:")


async def test_a_429_storm_pauses_and_everything_arrives_once_within_pacing(
    office: Office,
) -> None:
    numbers = [f"62812345100{n:02d}" for n in range(30)]
    cases = []
    for number in numbers:
        office.writes(number)
        cases.append(office.file(office.citizen(number)))
    for case_id in cases:
        office.act(case_id, "verify")
    office.graph.fail_next(429, RATE_LIMIT, times=6)
    office.graph.fail_next(429, PAIR_RATE_LIMIT, times=2, to=numbers[7])
    await drain(office.dispatcher(), office.clock)
    for number in numbers:
        assert len(office.graph.sent(number)) == 1, number
        assert [r.status for r in office.rows(number)] == ["sent"]
    log = office.client.log
    refused = [n for n, (_, what) in enumerate(log) if what != "ok"]
    assert len(refused) == 8 and sum(what == "ok" for _, what in log) == 30
    for n in range(1, len(log)):
        gap = log[n][0] - log[n - 1][0]
        assert gap >= 1 / 20 - 1e-9  # never above 20 messages a second
        if n - 1 in refused:
            assert gap >= 2.0  # a rate limit pauses the whole number


async def test_one_citizen_gets_at_most_ten_messages_a_minute(office: Office) -> None:
    number = "6281234500005"
    citizen = office.citizen(number)
    office.writes(number)
    cases = [office.file(citizen) for _ in range(3)]
    events: list[int] = []
    for case_id in cases:
        events.append(office.act(case_id, "verify"))
        events.append(office.act(case_id, "assign"))
        events.append(office.act(case_id, "ask", question="Mohon kirim foto antrean."))
        events.append(office.act(case_id, "resolve", outcome=CaseOutcome.partly, resolution="Ok."))
    office.writes(number)
    start = office.clock.mono()
    await drain(office.dispatcher(), office.clock)
    times = [at for at, what in office.client.log if what == "ok"]
    assert len(times) == 12
    assert all(t - start < 60 for t in times[:10])
    assert all(t - start >= 60 for t in times[10:])
    refs = [ref_of(office, c) for c in cases]
    # In the order they were written: nothing overtakes an earlier notice to the citizen.
    order = [next(r for r in refs if r in t) for t in office.graph.texts(number)]
    assert order == [r for r in refs for _ in range(4)]


async def test_server_errors_and_bad_requests(office: Office) -> None:
    ok_number, bad_number = "6281234500006", "6281234500007"
    for number in (ok_number, bad_number):
        office.writes(number)
        office.act(office.file(office.citizen(number)), "verify")
    office.graph.fail_next(500, 131000, times=2, to=ok_number)
    office.graph.fail_next(400, 131026, to=bad_number)
    await drain(office.dispatcher(), office.clock)
    [good] = office.rows(ok_number)
    assert good.status == "sent" and good.attempts == 3
    [bad] = office.rows(bad_number)
    assert bad.status == "failed" and bad.last_error is not None
    assert bad.last_error.startswith("WhatsApp 131026:")


async def test_network_errors_keep_the_message(office: Office, wa_settings: Settings) -> None:
    number = "6281234500008"
    office.writes(number)
    office.act(office.file(office.citizen(number)), "verify")
    async with httpx.AsyncClient() as http:
        dead = GraphClient("http://127.0.0.1:9/v21.0", PHONE_NUMBER_ID, ACCESS_TOKEN, http)
        sender = WhatsAppSender(office.engine, dead, wa_settings, clock=office.clock.now)
        d = Dispatcher(
            office.engine, {WA: sender}, clock=office.clock.now,
            monotonic=office.clock.mono, sleep=office.clock.sleep,
        )  # fmt: skip
        assert await d.run_once() == 0
    [row] = office.rows(number)
    assert row.status == "pending" and row.attempts == 1 and row.last_error
    await drain(office.dispatcher(), office.clock)
    assert [r.status for r in office.rows(number)] == ["sent"]


async def test_plain_messages_on_whatsapp_only_within_the_window(office: Office) -> None:
    inside, outside = "6281234500009", "6281234500010"
    office.writes(inside)
    with Session(office.engine) as s:
        for number in (inside, outside):
            s.add(OutboundMessage(
                channel=WA.value, address=number, template="plain",
                params=json.dumps({"text": "Halo dari kantor."}),
                next_attempt_at=office.clock.now(),
            ))  # fmt: skip
        s.commit()
    await drain(office.dispatcher(), office.clock)
    assert office.graph.texts(inside) == ["Halo dari kantor."]
    assert office.graph.texts(outside) == []
    [row] = office.rows(outside)
    assert row.status == "failed" and row.last_error == NO_TEMPLATE


async def test_the_window_is_kept_per_conversation_and_erasure_forgets_it(office: Office) -> None:
    number = "6281234500011"
    citizen = office.citizen(number)
    office.writes(number, ago=timedelta(hours=1))
    office.writes(number, ago=timedelta(hours=5))  # a late redelivery: the window stays
    with Session(office.engine) as s:
        seen = last_inbound_at(s, WA, number)
    assert seen == office.clock.now() - timedelta(hours=1)
    office.act(office.file(citizen), "verify")
    await drain(office.dispatcher(), office.clock)
    assert len(office.rows(number)) == 1
    with Session(office.engine) as s:
        found = s.get(Citizen, citizen.id)
        assert found is not None
        erase_citizen(s, found)
        s.commit()
    assert office.rows(number) == []
    with Session(office.engine) as s:
        assert last_inbound_at(s, WA, number) is None
        assert s.exec(select(CaseEvent)).all()  # the case goes on, without its reporter


async def test_a_rate_limit_that_says_how_long_is_waited_out(office: Office) -> None:
    first, second = "6281234500012", "6281234500013"
    for number in (first, second):
        office.writes(number)
        office.act(office.file(office.citizen(number)), "verify")
    office.graph.fail_next(429, RATE_LIMIT, retry_after=30)
    await drain(office.dispatcher(), office.clock)
    (refused_at, refused), *rest = office.client.log
    assert refused == "refused:GraphError"
    assert [what for _, what in rest] == ["ok", "ok"]
    assert rest[0][0] - refused_at >= 30  # WhatsApp's Retry-After, not a guess
    assert len(office.graph.sent(first)) == len(office.graph.sent(second)) == 1
