"""E-mail through the office's SMTP server (issue 17): a web reporter who left an address gets
the follow-up link with its code once (and the outbox forgets the code once it is sent), then
every public change of the case in their language with the follow-up page's link and never
the code; a greylisting server's 451 is retried and delivered; a 550 fails the notice for good
with the server's reason, shown to staff as not delivered; staff who choose e-mail get their
digests (chart attached) and alerts by e-mail. All through the real Dispatcher and
EmailSender against a local SMTP server (tests/smtp_server.py)."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from playwright.sync_api import Browser, Page, expect
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from app.serve import serve
from app.site import create_site
from core.access import Actor, can_see_reporter
from core.cases import service as svc
from core.cases.alerts import AlertPolicy, send_case_alerts
from core.cases.models import Case, CaseEvent, CaseEventKind, Privacy
from core.cases.reading import DeliveryState, event_deliveries
from core.cases.reminders import send_reminders
from core.cases.sla import SlaPolicy
from core.cases.web_mail import follow_up_path, queue_follow_up_link
from core.cases.web_reports import FiledWebReport, WebReporter, file_web_complaint, shown_code
from core.digests.service import send_all_digests
from core.outbox.addresses import set_staff_notices, staff_notice_address
from core.outbox.dispatch import Dispatcher, Undeliverable
from core.outbox.models import MessageTemplate, OutboundMessage, OutboxStatus
from core.outbox.service import prune_outbox
from core.people.models import AccessAudit, AppUser, AuditAction, Channel, Intake, Language, Role
from core.policies import build
from core.shared.config import Settings, load_settings
from core.shared.errors import Conflict, InvalidInput
from mail.render import render_mail
from mail.sender import EmailSender, SmtpConfig, build_email
from tests.console_kit import live_server
from tests.contacts import link_telegram, messages_to
from tests.factories import PASSWORD, make_unit, make_user
from tests.smtp_server import SmtpServer, free_port, smtp_server
from tests.test_console_browser import serious_violations
from tests.test_digests import W46, WITA, World, wita

__all__ = ["smtp_server"]

BASE = "https://skm.kupangkota.go.id"
FROM = "skm@kupangkota.go.id"
T0 = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)  # Monday 23 November, 09.00 WITA
POLICY = svc.CasePolicy(sla=SlaPolicy(tz=ZoneInfo("Asia/Makassar")), complaints_per_day=100)
DESCRIPTION = "Petugas loket meminta uang tambahan untuk mempercepat KTP-el saya."


class Clock:
    """The dispatcher's wall clock, moved by hand past a retry's backoff."""

    def __init__(self, start: datetime) -> None:
        self.at = start

    def now(self) -> datetime:
        return self.at

    def advance(self, seconds: float) -> None:
        self.at += timedelta(seconds=seconds)


def email_sender(server: SmtpServer) -> EmailSender:
    config = SmtpConfig(host="127.0.0.1", port=server.port, security="none", sender=FROM)
    return EmailSender(config, base_url=BASE)


def dispatcher(engine: Engine, server: SmtpServer, clock: Clock) -> Dispatcher:
    return Dispatcher(engine, {Channel.email: email_sender(server)}, clock=clock.now)


class Desk:
    """A unit, its admin, and web reports filed by citizens who left an e-mail address."""

    def __init__(self, engine: Engine, tmp: Path, secret: str) -> None:
        self.engine = engine
        self.tmp = tmp
        self.secret = secret
        with Session(engine, expire_on_commit=False) as s:
            self.unit = make_unit(s, "dukcapil", "Dinas Dukcapil")
            admin = make_user(s, "admin", Role.admin)
            self.admin = Actor(admin.id or 0, "admin", Role.admin)
            s.commit()
        self.devices = 0

    def file(self, email: str, lang: Language = Language.id) -> FiledWebReport:
        """File a web complaint and queue its follow-up link, as the web filing does."""
        self.devices += 1
        with Session(self.engine, expire_on_commit=False) as s:
            filed = file_web_complaint(
                s,
                svc.ComplaintDraft(
                    unit_id=self.unit.id or 0,
                    category="pungli",
                    description=DESCRIPTION,
                    channel=Intake.web,
                ),
                POLICY,
                WebReporter(language=lang, email=email),
                device_token=f"device-token-{self.devices:08d}",
                secret=self.secret,
                attachments_root=self.tmp,
                max_photo_bytes=1_000_000,
                now=T0,
            )
            queue_follow_up_link(
                s,
                case=filed.case,
                code=shown_code(filed.code),
                to_email=email,
                language=lang.value,
                now=T0,
            )
            s.commit()
        return filed

    def verify(self, reference: str, at: datetime) -> int:
        """Verify the case; the id of its `verified` event."""
        with Session(self.engine, expire_on_commit=False) as s:
            case = s.exec(select(Case).where(Case.reference == reference)).one()
            event = svc.verify(s, case, POLICY, actor=self.admin, now=at)
            s.commit()
            return event.id or 0

    def rows(self, reference: str) -> list[OutboundMessage]:
        with Session(self.engine) as s:
            return list(
                s.exec(
                    select(OutboundMessage)
                    .join(CaseEvent, col(CaseEvent.id) == col(OutboundMessage.case_event_id))
                    .join(Case, col(Case.id) == col(CaseEvent.case_id))
                    .where(Case.reference == reference)
                    .order_by(col(OutboundMessage.id))
                ).all()
            )


@pytest.fixture
def desk(engine: Engine, tmp_path: Path, settings: Settings) -> Desk:
    return Desk(engine, tmp_path, settings.pseudonym_key)


async def drain(d: Dispatcher) -> None:
    while await d.run_once():
        pass


@pytest.mark.parametrize(
    ("lang", "subject", "page_words"),
    [
        (Language.id, "Laporan {ref} telah diverifikasi", "kode tindak lanjut yang Anda terima"),
        (Language.en, "Report {ref} has been verified", "follow-up code you received"),
    ],
)
async def test_a_web_reporter_gets_the_link_once_then_the_changes_without_the_code(
    desk: Desk,
    smtp_server: SmtpServer,
    settings: Settings,
    lang: Language,
    subject: str,
    page_words: str,
) -> None:
    email = f"warga.{lang.value}@contoh.id"
    filed = desk.file(email, lang)
    ref, code = filed.case.reference, shown_code(filed.code)
    clock = Clock(T0 + timedelta(minutes=1))
    d = dispatcher(desk.engine, smtp_server, clock)
    await drain(d)

    [link_mail] = smtp_server.to(email)
    assert ref in link_mail.subject
    assert link_mail.message["From"] == FROM
    assert link_mail.message["Content-Language"] == lang.value
    assert code in link_mail.text
    assert f"{BASE}{follow_up_path(ref, code)}" in link_mail.text
    [row] = desk.rows(ref)
    assert row.status == OutboxStatus.sent
    assert row.external_id == link_mail.message["Message-ID"]
    assert json.loads(row.params) == {"ref": ref}  # the code is not kept once sent
    assert filed.code not in row.params
    # The private link opens the report on the public site.
    with TestClient(create_site(build(settings, desk.engine))) as web:
        opened = web.get(follow_up_path(ref, code))
    assert opened.status_code == 200 and ref in opened.text

    desk.verify(ref, T0 + timedelta(minutes=5))
    clock.advance(600)
    await drain(d)
    notice = smtp_server.to(email)[-1]
    assert notice.subject == subject.format(ref=ref)
    assert notice.message["Content-Language"] == lang.value
    assert f"{BASE}/lacak/{ref}" in notice.text and page_words in notice.text
    assert code not in notice.text and filed.code not in notice.text
    assert f"/lacak/{ref}/" not in notice.text  # the page, not the private link
    assert notice.message["Auto-Submitted"] == "auto-generated"


async def test_a_greylisted_mail_is_retried_later_and_delivered(
    desk: Desk, smtp_server: SmtpServer
) -> None:
    email = "sabar@contoh.id"
    smtp_server.greylist(email, times=1)
    filed = desk.file(email)
    clock = Clock(T0 + timedelta(minutes=1))
    d = dispatcher(desk.engine, smtp_server, clock)
    assert await d.run_once() == 0
    [row] = desk.rows(filed.case.reference)
    assert row.status == OutboxStatus.pending and row.attempts == 1
    assert row.last_error is not None and "451" in row.last_error
    assert smtp_server.to(email) == []
    assert await d.run_once() == 0  # not before its backoff is over

    clock.advance(10)
    await drain(d)
    [mail] = smtp_server.to(email)
    assert shown_code(filed.code) in mail.text
    [row] = desk.rows(filed.case.reference)
    assert row.status == OutboxStatus.sent and row.attempts == 2
    assert "code" not in json.loads(row.params)


async def test_a_refused_mailbox_fails_for_good_and_staff_see_why(
    desk: Desk, smtp_server: SmtpServer
) -> None:
    email = "tidak.ada@contoh.id"
    # (the server quotes the address, in its own case: an anonim reporter's address)
    smtp_server.refuse(email, "550 5.1.1 <Tidak.Ada@Contoh.ID>: Recipient address rejected")
    filed = desk.file(email)
    ref = filed.case.reference
    verified = desk.verify(ref, T0 + timedelta(minutes=5))
    clock = Clock(T0 + timedelta(minutes=10))
    d = dispatcher(desk.engine, smtp_server, clock)
    assert await d.run_once() == 0  # the link fails; the notice waits behind it ...
    assert await d.run_once() == 0  # ... and then fails too
    assert smtp_server.to(email) == []
    link_row, notice_row = desk.rows(ref)
    assert link_row.status == notice_row.status == OutboxStatus.failed
    assert "code" not in json.loads(link_row.params)  # failed for good: the code goes too
    with Session(desk.engine) as s:
        [delivery] = event_deliveries(s, [verified])[verified]
    assert delivery.state is DeliveryState.failed
    assert delivery.reason is not None
    assert "550" in delivery.reason and "Recipient address rejected" in delivery.reason
    # Staff who may not see the reporter see the reason: it never names the address.
    assert "<penerima>" in delivery.reason and "tidak.ada" not in delivery.reason.lower()
    assert "tidak.ada" not in (link_row.last_error or "").lower()
    clock.advance(3600)
    assert await d.run_once() == 0  # never tried again


async def test_an_unreachable_server_keeps_the_mail_for_later(
    desk: Desk, smtp_server: SmtpServer
) -> None:
    filed = desk.file("nanti@contoh.id")
    config = SmtpConfig(host="127.0.0.1", port=free_port(), security="none", sender=FROM)
    clock = Clock(T0 + timedelta(minutes=1))
    down = Dispatcher(
        desk.engine, {Channel.email: EmailSender(config, base_url=BASE)}, clock=clock.now
    )
    assert await down.run_once() == 0
    [row] = desk.rows(filed.case.reference)
    assert row.status == OutboxStatus.pending and row.attempts == 1
    assert row.last_error is not None and "not reached" in row.last_error
    assert "code" in json.loads(row.params)  # not sent yet: the link must still go out
    clock.advance(10)
    await drain(dispatcher(desk.engine, smtp_server, clock))
    assert len(smtp_server.to("nanti@contoh.id")) == 1


async def test_a_server_without_starttls_keeps_the_mail_and_says_why(
    desk: Desk, smtp_server: SmtpServer
) -> None:
    """SMTP_SECURITY=starttls against a server that offers no TLS: nothing is sent in clear,
    the message waits (a configuration to correct, not the citizen's fault)."""
    filed = desk.file("aman@contoh.id")
    config = SmtpConfig(host="127.0.0.1", port=smtp_server.port, security="starttls", sender=FROM)
    senders = {Channel.email: EmailSender(config, base_url=BASE)}
    clock = Clock(T0 + timedelta(minutes=1))
    assert await Dispatcher(desk.engine, senders, clock=clock.now).run_once() == 0
    [row] = desk.rows(filed.case.reference)
    assert row.status == OutboxStatus.pending and row.attempts == 1
    assert row.last_error is not None and "STARTTLS" in row.last_error
    assert smtp_server.received == []


def test_an_address_that_is_not_one_fails_naming_no_address() -> None:
    message = OutboundMessage(
        channel=Channel.email.value, address="budi<x>@contoh.id", language="id",
        template=MessageTemplate.web_follow_up_link.value,
        params=json.dumps({"ref": "KPG-2611-0001", "code": "ABCD-EFGH"}),
    )  # fmt: skip
    with pytest.raises(Undeliverable) as refused:
        build_email(message, SmtpConfig(host="127.0.0.1", sender=FROM), base_url=BASE)
    assert str(refused.value) == "not an e-mail address" and "budi" not in str(refused.value)


async def test_an_address_the_server_cannot_take_fails_for_good_with_why(desk: Desk) -> None:
    """A server without SMTPUTF8 never takes a non-ASCII address: failed, not retried; one
    with it delivers."""
    old_server = SmtpServer(smtputf8=False).start()
    try:
        filed = desk.file("wárga@contoh.id")
        await drain(dispatcher(desk.engine, old_server, Clock(T0 + timedelta(minutes=1))))
        [row] = desk.rows(filed.case.reference)
        assert row.status == OutboxStatus.failed
        assert row.last_error is not None and "non-ASCII" in row.last_error
        assert old_server.received == []
    finally:
        old_server.stop()
    modern = SmtpServer().start()
    try:
        filed = desk.file("sérvér@contoh.id")
        await drain(dispatcher(desk.engine, modern, Clock(T0 + timedelta(minutes=1))))
        assert [m.recipients for m in modern.received] == [["sérvér@contoh.id"]]
    finally:
        modern.stop()


def test_a_follow_up_link_never_sent_loses_its_code_after_a_week(desk: Desk) -> None:
    """No e-mail configured: the link waits, but its code does not stay for good."""
    filed = desk.file("tanpa.smtp@contoh.id")
    assert prune_outbox(desk.engine, 30, now=T0 + timedelta(days=6)) == 0
    [row] = desk.rows(filed.case.reference)
    assert row.status == OutboxStatus.pending and "code" in json.loads(row.params)
    prune_outbox(desk.engine, 30, now=T0 + timedelta(days=7, minutes=1))
    [row] = desk.rows(filed.case.reference)
    assert row.status == OutboxStatus.failed and json.loads(row.params) == {
        "ref": filed.case.reference
    }
    assert row.last_error is not None and "7 days" in row.last_error


async def test_serve_sends_mail_without_a_bot_token(
    settings: Settings, engine: Engine, desk: Desk, smtp_server: SmtpServer
) -> None:
    """`serve` with SMTP_HOST set and no TELEGRAM_BOT_TOKEN still runs the dispatcher, with
    e-mail as its channel."""
    cfg = load_settings(
        database_url=settings.database_url,
        environment="test",
        timezone="Asia/Makassar",
        smtp_host="127.0.0.1",
        smtp_port=smtp_server.port,
        smtp_security="none",
        smtp_from=FROM,
        public_base_url=BASE,
        _env_file=None,
    )
    assert not cfg.telegram_bot_token
    filed = desk.file("lewat.serve@contoh.id")
    stop = asyncio.Event()
    task = asyncio.create_task(
        serve(build(cfg, engine), "127.0.0.1", free_port(), stop=stop, outbox_idle=0.05,
              run_scheduler=False)
    )  # fmt: skip
    try:
        arrived = await asyncio.to_thread(smtp_server.wait_for, 1)
    finally:
        stop.set()
        await asyncio.wait_for(task, 20)
    assert [m.recipients for m in arrived] == [["lewat.serve@contoh.id"]]
    assert shown_code(filed.code) in arrived[0].text


# Staff who choose e-mail ---------------------------------------------------------------------


async def test_a_head_who_chose_email_gets_the_digest_with_its_chart(
    engine: Engine, smtp_server: SmtpServer
) -> None:
    world = World(engine)
    world.fixture_week()
    head_en = world.heads[1]
    with Session(engine) as s:
        actor = Actor(head_en.id or 0, head_en.username, Role.unit_head)
        set_staff_notices(s, email="Kadis@Dukcapil.Go.Id", channel=Channel.email, actor=actor)
        s.commit()
    send_all_digests(engine, W46, WITA, 1000, "w", now=wita(16, 7))
    await drain(dispatcher(engine, smtp_server, Clock(wita(16, 8))))

    [mail] = smtp_server.received
    assert mail.recipients == ["Kadis@dukcapil.go.id"]
    assert mail.subject == "📊 Weekly digest for Dinas Dukcapil, 2026-W46"
    assert "Weekly digest for Dinas Dukcapil" in mail.text
    [(name, kind, data)] = mail.attachments()
    assert (name, kind) == ("chart.png", "image/png") and data.startswith(b"\x89PNG")
    with Session(engine) as s:  # the other head still reads it in Telegram: chart, then text
        telegram = messages_to(s, 901)
        assert [m.photo is not None for m in telegram] == [True, False]
        assert all(m.status == OutboxStatus.pending for m in telegram)


async def test_a_supervisor_who_chose_email_gets_new_complaint_alerts_by_email(
    engine: Engine, desk: Desk, smtp_server: SmtpServer
) -> None:
    with Session(engine, expire_on_commit=False) as s:
        spv = make_user(s, "spv", Role.supervisor, [desk.unit])
        link_telegram(s, spv, 903)
        actor = Actor(spv.id or 0, "spv", Role.supervisor, frozenset({desk.unit.id or 0}))
        set_staff_notices(s, email="spv@kupangkota.go.id", channel=Channel.email, actor=actor)
        s.commit()
        assert staff_notice_address(s, spv.id or 0) is not None
    filed = desk.file("pelapor@contoh.id")
    policy = AlertPolicy(interval=timedelta(minutes=15), tz=WITA)
    assert send_case_alerts(engine, policy, now=T0 + timedelta(minutes=1)) >= 1
    await drain(dispatcher(engine, smtp_server, Clock(T0 + timedelta(minutes=2))))
    [alert] = smtp_server.to("spv@kupangkota.go.id")
    assert filed.case.reference in alert.text and "Dinas Dukcapil" in alert.text
    assert alert.subject == alert.text.splitlines()[0].strip()
    assert DESCRIPTION not in alert.text and shown_code(filed.code) not in alert.text
    with Session(engine) as s:
        assert messages_to(s, 903) == []  # nothing to the Telegram chat any more


async def test_a_head_who_chose_email_gets_the_reminders_by_email(
    engine: Engine, smtp_server: SmtpServer
) -> None:
    world = World(engine)
    refs = world.fixture_week()
    head_id = world.heads[0]
    with Session(engine) as s:
        actor = Actor(head_id.id or 0, head_id.username, Role.unit_head)
        set_staff_notices(s, email="kadis@kupangkota.go.id", channel=Channel.email, actor=actor)
        s.commit()
    assert send_reminders(engine, POLICY.sla, now=wita(16, 8)) == 3
    await drain(dispatcher(engine, smtp_server, Clock(wita(16, 9))))
    [reminder] = smtp_server.to("kadis@kupangkota.go.id")
    assert refs["b"] in reminder.text and "terlambat sejak" in reminder.text
    assert reminder.subject == reminder.text.splitlines()[0].strip()
    with Session(engine) as s:
        assert messages_to(s, 901) == []  # her Telegram chat gets none
        assert len(messages_to(s, 902)) == 1  # the other head's still does


def test_the_choice_of_email_is_checked(engine: Engine, desk: Desk) -> None:
    with Session(engine, expire_on_commit=False) as s:
        one = make_user(s, "spv-1", Role.supervisor, [desk.unit])
        two = make_user(s, "spv-2", Role.supervisor, [desk.unit])
        a1 = Actor(one.id or 0, "spv-1", Role.supervisor)
        a2 = Actor(two.id or 0, "spv-2", Role.supervisor)
        with pytest.raises(InvalidInput) as needed:
            set_staff_notices(s, email=" ", channel=Channel.email, actor=a1)
        assert needed.value.why == "notify.email_needed"
        with pytest.raises(InvalidInput) as bad:
            set_staff_notices(s, email="bukan alamat", channel=Channel.email, actor=a1)
        assert bad.value.why == "notify.email_bad"
        set_staff_notices(s, email="satu@kupangkota.go.id", channel=Channel.email, actor=a1)
        with pytest.raises(Conflict):
            set_staff_notices(s, email="satu@kupangkota.go.id", channel=Channel.email, actor=a2)
        # Back to Telegram, address removed: nothing left to send by e-mail.
        set_staff_notices(s, email="", channel=Channel.telegram, actor=a1)
        assert s.get_one(AppUser, one.id).notify_channel == "telegram"
        assert staff_notice_address(s, one.id or 0) is None  # no Telegram linked either


# The console page ----------------------------------------------------------------------------


@pytest.fixture
def console(settings: Settings, engine: Engine) -> Iterator[TestClient]:
    with Session(engine) as s:
        unit = make_unit(s, "dukcapil", "Dinas Dukcapil")
        make_user(s, "spv", Role.supervisor, [unit])
        s.commit()
    mail_on = settings.model_copy(update={"smtp_host": "127.0.0.1", "smtp_from": FROM})
    with TestClient(create_site(build(mail_on, engine))) as client:
        yield client


def _log_in(client: TestClient) -> str:
    form = client.get("/staff/login").text
    csrf = re.search(r'name="csrf" value="([^"]+)"', form)
    assert csrf is not None
    r = client.post(
        "/staff/login",
        data={"username": "spv", "password": PASSWORD, "csrf": csrf.group(1), "next": ""},
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    token = re.search(r'name="csrf" value="([^"]+)"', client.get("/staff/telegram").text)
    assert token is not None
    return token.group(1)


def test_the_console_page_saves_the_email_choice_and_says_what_is_wrong(
    console: TestClient, engine: Engine
) -> None:
    csrf = _log_in(console)
    page = console.get("/staff/telegram")
    assert page.status_code == 200
    assert "Telegram &amp; e-mail" in page.text and "Kirim pemberitahuan lewat:" in page.text

    bad = console.post(
        "/staff/telegram/notices", data={"csrf": csrf, "email": "spv@", "channel": "email"}
    )
    assert bad.status_code == 400 and "Alamat e-mail itu tidak valid" in bad.text
    assert 'value="spv@"' in bad.text  # what they typed stays in the field
    empty = console.post("/staff/telegram/notices", data={"csrf": csrf, "channel": "email"})
    assert empty.status_code == 400 and "isi alamat e-mail Anda" in empty.text
    odd = console.post("/staff/telegram/notices", data={"csrf": csrf, "channel": "pos"})
    assert odd.status_code == 400 and "Pilih Telegram atau E-mail" in odd.text
    no_csrf = console.post("/staff/telegram/notices", data={"channel": "email"})
    assert no_csrf.status_code in (400, 403)

    ok = console.post(
        "/staff/telegram/notices",
        data={"csrf": csrf, "email": "spv@kupangkota.go.id", "channel": "email"},
    )
    assert ok.status_code == 200 and "Pilihan pemberitahuan Anda telah disimpan." in ok.text
    assert "dikirim lewat e-mail ke spv@kupangkota.go.id" in ok.text
    with Session(engine) as s:
        user = s.exec(select(AppUser).where(AppUser.username == "spv")).one()
        assert user.notify_channel == "email"
        to = staff_notice_address(s, user.id or 0)
        assert to is not None and to.address == "spv@kupangkota.go.id"
        [audit] = s.exec(
            select(AccessAudit).where(
                AccessAudit.target_id == user.id,
                AccessAudit.action == AuditAction.user_changed.value,
            )
        ).all()
        assert audit.detail == "own notices by email"
        assert "spv@" not in str(audit.detail)  # the change, not the address


def test_without_smtp_the_console_refuses_the_email_choice(
    settings: Settings, engine: Engine
) -> None:
    with Session(engine) as s:
        unit = make_unit(s, "dukcapil", "Dinas Dukcapil")
        make_user(s, "spv", Role.supervisor, [unit])
        s.commit()
    assert not settings.smtp_host
    with TestClient(create_site(build(settings, engine))) as client:
        csrf = _log_in(client)
        page = client.get("/staff/telegram").text
        assert "E-mail belum disiapkan di server ini" in page
        r = client.post(
            "/staff/telegram/notices",
            data={"csrf": csrf, "email": "spv@kupangkota.go.id", "channel": "email"},
        )
        assert r.status_code == 409 and "SMTP_HOST kosong" in r.text
    with Session(engine) as s:
        user = s.exec(select(AppUser).where(AppUser.username == "spv")).one()
        assert user.notify_channel == "telegram"


# Rendering -----------------------------------------------------------------------------------


@pytest.mark.parametrize("lang", ["id", "en"])
@pytest.mark.parametrize("template", list(MessageTemplate))
def test_every_template_renders_as_an_email(template: MessageTemplate, lang: str) -> None:
    ref, code = "KPG-2611-0042", "ABCD-EFGH"
    if template is MessageTemplate.plain:
        params = {"text": "📊 Ringkasan mingguan\nbaris kedua"}
    elif template is MessageTemplate.web_follow_up_link:
        params = {"ref": ref, "code": code}
    else:
        params = {"ref": ref, "body": "Mohon kirim foto loket.", "outcome": "partly"}
    message = OutboundMessage(
        channel="email", address="a@b.id", language=lang, template=template.value,
        params=json.dumps(params),
    )  # fmt: skip
    mail = render_mail(message, base_url=BASE)
    assert mail.subject and "\n" not in mail.subject and "mail." not in mail.subject
    assert not re.search(r"(?<![-\w])(mail|notify)\.\w", mail.body)
    assert "{" not in mail.body and "}" not in mail.body
    if template is MessageTemplate.plain:
        assert mail.subject == "📊 Ringkasan mingguan" and "baris kedua" in mail.body
        return
    assert ref in mail.subject and ref in mail.body
    if template is MessageTemplate.web_follow_up_link:
        assert code in mail.body and f"{BASE}/lacak/{ref}/{code}" in mail.body
    else:
        assert code not in mail.body
        assert "Tekan Balas" not in mail.body and "Press Reply" not in mail.body
    if template in (MessageTemplate.case_info_requested, MessageTemplate.case_resolved):
        assert f"{BASE}/lacak/{ref}" in mail.body


def test_a_verified_event_reaches_an_email_reporter(desk: Desk) -> None:
    """Core queues a web reporter's notices to their e-mail address (lifecycle)."""
    filed = desk.file("alamat@contoh.id")
    desk.verify(filed.case.reference, T0 + timedelta(minutes=5))
    rows = desk.rows(filed.case.reference)
    assert [(r.channel, r.address, r.template) for r in rows] == [
        ("email", "alamat@contoh.id", "web_follow_up_link"),
        ("email", "alamat@contoh.id", "case_verified"),
    ]
    with Session(desk.engine) as s:
        kinds = [s.get_one(CaseEvent, r.case_event_id).kind for r in rows]
    assert kinds == [CaseEventKind.created, CaseEventKind.verified]


# In Chromium, at phone size -----------------------------------------------------------------


@pytest.fixture
def phone(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 360, "height": 740}, bypass_csp=True)
    yield context.new_page()
    context.close()


@pytest.mark.browser
def test_a_supervisor_chooses_email_in_the_console_and_the_alerts_come_by_email(
    phone: Page, settings: Settings, engine: Engine, desk: Desk, smtp_server: SmtpServer
) -> None:
    with Session(engine) as s:
        make_user(s, "spv", Role.supervisor, [desk.unit])
        s.commit()
    cfg = settings.model_copy(
        update={"smtp_host": "127.0.0.1", "smtp_port": smtp_server.port, "smtp_from": FROM}
    )
    with live_server(create_site(build(cfg, engine))) as base:
        phone.goto(f"{base}/staff/login")
        phone.get_by_label("Nama pengguna").fill("spv")
        phone.get_by_label("Kata sandi").fill(PASSWORD)
        phone.get_by_role("button", name="Masuk").click()
        expect(phone.get_by_role("heading", name="Kotak masuk")).to_be_visible()
        phone.goto(f"{base}/staff/telegram")
        expect(phone.get_by_role("heading", name="Telegram & e-mail", exact=True)).to_be_visible()
        block = phone.locator("section.notice-channel")
        expect(block).to_contain_text("dikirim lewat Telegram")
        block.get_by_label("Alamat e-mail untuk pemberitahuan").fill(
            "spv@kupangkota"
        )  # the browser lets it through
        block.get_by_role("radio", name="E-mail").check()
        block.get_by_role("button", name="Simpan").click()
        expect(phone.get_by_role("alert")).to_contain_text("Alamat e-mail itu tidak valid")
        assert serious_violations(phone) == []

        block.get_by_label("Alamat e-mail untuk pemberitahuan").fill("spv@kupangkota.go.id")
        block.get_by_role("radio", name="E-mail").check()
        block.get_by_role("button", name="Simpan").click()
        expect(phone.get_by_role("status")).to_have_text(
            "Pilihan pemberitahuan Anda telah disimpan."
        )
        expect(block).to_contain_text("dikirim lewat e-mail ke spv@kupangkota.go.id")
        expect(block.get_by_role("radio", name="E-mail")).to_be_checked()
        assert serious_violations(phone) == []
        width = phone.evaluate("document.documentElement.scrollWidth")
        assert width <= 360, "the page scrolls sideways on a phone"

    filed = desk.file("pelapor.baru@contoh.id")
    policy = AlertPolicy(interval=timedelta(minutes=15), tz=WITA)
    send_case_alerts(engine, policy, now=T0 + timedelta(minutes=1))
    d = dispatcher(engine, smtp_server, Clock(T0 + timedelta(minutes=2)))
    with ThreadPoolExecutor(1) as pool:  # Playwright's loop runs in this thread
        pool.submit(asyncio.run, drain(d)).result(timeout=30)
    [alert] = smtp_server.to("spv@kupangkota.go.id")
    assert filed.case.reference in alert.text


async def test_an_anonim_reporters_address_never_reaches_staff_in_a_delivery_reason(
    engine: Engine, settings: Settings, tmp_path: Path, smtp_server: SmtpServer
) -> None:
    """Review M2: the server's refusal quoted the address, and the case page showed it to a
    supervisor who may not see an anonim reporter."""
    email = "budi.pelapor@contoh.id"
    smtp_server.refuse(email, f"550 5.1.1 <{email.upper()}>: Recipient address rejected")
    with Session(engine, expire_on_commit=False) as s:
        unit = make_unit(s, "dukcapil", "Dinas Dukcapil")
        spv = make_user(s, "spv", Role.supervisor, [unit])
        draft = svc.ComplaintDraft(
            unit_id=unit.id, category="pungli", description=DESCRIPTION, channel=Intake.web,
            privacy=Privacy.anonim,
        )  # fmt: skip
        filed = file_web_complaint(
            s, draft, POLICY, WebReporter(language=Language.id, email=email),
            device_token="device-token-00000001", secret=settings.pseudonym_key,
            attachments_root=tmp_path, max_photo_bytes=1_000_000, now=T0,
        )  # fmt: skip
        queue_follow_up_link(
            s, case=filed.case, code=shown_code(filed.code), to_email=email, language="id", now=T0
        )
        s.commit()
    d = dispatcher(engine, smtp_server, Clock(T0 + timedelta(minutes=1)))
    await drain(d)
    with Session(engine) as s:
        case = s.exec(select(Case).where(Case.reference == filed.case.reference)).one()
        assert not can_see_reporter(case, actor=Actor(spv.id, "spv", Role.supervisor))
        ids = [e.id for e in s.exec(select(CaseEvent).where(CaseEvent.case_id == case.id))]
        reasons = [dl.reason or "" for v in event_deliveries(s, ids).values() for dl in v]
        errors = [m.last_error or "" for m in s.exec(select(OutboundMessage))]
    assert reasons and all("<penerima>" in r for r in reasons if r)
    assert not any("budi.pelapor" in text.lower() for text in reasons + errors)
