"""The weekly digest of a unit (DESIGN section 8): figures in SQL, text from core's catalog,
an IKM trend chart, and exactly-once delivery through DigestRun claims and the outbox.

The digest is built per recipient: its case figures (new, open, overdue, resolved, the
oldest overdue references, officers with substantiated complaints) count only the cases that
recipient may open (`core.access.visible_cases_clause`), so a unit head is never told a
number derived from a `rahasia` case or from a case naming their own linked officer. The
survey figures (IKM, elements, trend) hold no case and are built once per unit.
"""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import func, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from core.access import Actor, Permission, roles_with, visible_cases_clause
from core.clock import local_day_bounds_utc, utcnow
from core.db import writer
from core.i18n import ct
from core.models import (
    OPEN_STATUSES,
    AppUser,
    Case,
    CaseOutcome,
    DigestRecipient,
    DigestRun,
    Officer,
    OutboundMessage,
    Unit,
    UserUnit,
)
from core.scores import Period, Score, effective_population, unit_ikm
from core.skm import ELEMENTS, minimum_sample
from core.users import actor_for
from core.workers import worker_gone

log = logging.getLogger(__name__)
# A run refreshes its claim before each recipient; a claim silent this long is taken over.
CLAIM_STALE_AFTER = timedelta(minutes=5)
TREND_WEEKS = 12
CHART_SIZE = (800, 400)  # pixels
SUBSTANTIATED = (CaseOutcome.substantiated.value, CaseOutcome.partly.value)
RECIPIENT_ROLES = tuple(sorted(r.value for r in roles_with(Permission.RECEIVE_DIGEST)))


@dataclass(frozen=True)
class IsoWeek:
    year: int
    week: int

    @classmethod
    def of(cls, day: date) -> IsoWeek:
        iso = day.isocalendar()
        return cls(iso.year, iso.week)

    @classmethod
    def parse(cls, text: str) -> IsoWeek:
        year, _, week = text.upper().partition("-W")
        value = cls(int(year), int(week))
        value.monday()  # validates
        return value

    def monday(self) -> date:
        return date.fromisocalendar(self.year, self.week, 1)

    def sunday(self) -> date:
        return self.monday() + timedelta(days=6)

    def previous(self, weeks: int = 1) -> IsoWeek:
        return IsoWeek.of(self.monday() - timedelta(weeks=weeks))

    def __str__(self) -> str:
        return f"{self.year}-W{self.week:02d}"


@dataclass(frozen=True)
class IkmFigure:
    n: int
    ikm: Decimal | None
    grade: str | None
    minimum: int


@dataclass
class DigestData:
    unit_id: int
    unit_name: str
    week: IsoWeek
    new: int = 0
    open: int = 0
    overdue: int = 0
    resolved: int = 0
    oldest_overdue: list[str] = field(default_factory=list)
    this_week: IkmFigure | None = None
    last_week: IkmFigure | None = None
    quarter: IkmFigure | None = None
    lowest_elements: list[tuple[str, Decimal]] = field(default_factory=list)
    officers_substantiated: list[tuple[str, int]] = field(default_factory=list)
    trend: list[tuple[str, Decimal | None]] = field(default_factory=list)

    @property
    def nothing_new(self) -> bool:
        return not (self.new or self.open or self.overdue or self.resolved) and not (
            self.this_week and self.this_week.n
        )


def _figure(score: Score, population: int) -> IkmFigure:
    grade = score.grade
    return IkmFigure(
        score.n, score.ikm, grade.letter if grade else None, minimum_sample(population)
    )


def build_digest(
    session: Session,
    unit: Unit,
    week: IsoWeek,
    tz: ZoneInfo,
    default_population: int,
    actor: Actor,
    *,
    now: datetime | None = None,
) -> DigestData:
    """The unit's digest for the week as `actor` may see it (`now`: see `digest_for`)."""
    base = survey_digest(session, unit, week, tz, default_population)
    return digest_for(session, base, actor, tz, now=now)


def survey_digest(
    session: Session, unit: Unit, week: IsoWeek, tz: ZoneInfo, default_population: int
) -> DigestData:
    """The figures that hold no case (IKM, lowest elements, trend); no case figure yet."""
    assert unit.id is not None
    data = DigestData(unit_id=unit.id, unit_name=unit.name, week=week)
    population = effective_population(unit, default_population)

    def ikm(start: date, end: date) -> Score:
        return unit_ikm(session, unit.id or 0, Period(start, end), tz)

    this = ikm(week.monday(), week.sunday())
    data.this_week = _figure(this, population)
    data.last_week = _figure(ikm(week.previous().monday(), week.previous().sunday()), population)
    sunday = week.sunday()
    quarter_start = date(sunday.year, 3 * ((sunday.month - 1) // 3) + 1, 1)
    quarter = ikm(quarter_start, sunday)
    data.quarter = _figure(quarter, population)
    elements = sorted(quarter.elements(), key=lambda e: (e.nrr, e.number))[:2]
    data.lowest_elements = [(ELEMENTS[e.number - 1], e.nrr) for e in elements]
    for back in range(TREND_WEEKS - 1, -1, -1):
        w = week.previous(back)
        data.trend.append((str(w), ikm(w.monday(), w.sunday()).ikm))
    return data


def digest_for(
    session: Session,
    base: DigestData,
    actor: Actor,
    tz: ZoneInfo,
    *,
    now: datetime | None = None,
) -> DigestData:
    """`base` (from `survey_digest`) with the case figures over the cases `actor` may open.

    Overdue means overdue at the end of the week, or at `now` if the week is not over yet
    (a preview of the current week does not count deadlines still to come)."""
    lo, hi = local_day_bounds_utc(base.week.monday(), base.week.sunday(), tz)
    open_values = [s.value for s in OPEN_STATUSES]
    mine = (col(Case.unit_id) == base.unit_id, *visible_cases_clause(actor))
    late_by = hi if now is None else min(hi, now)
    overdue = (*mine, col(Case.status).in_(open_values), col(Case.due_at) < late_by)
    officers = session.exec(
        select(Officer.name, func.count())
        .join(Case, col(Case.officer_id) == col(Officer.id))
        .where(
            *mine,
            col(Case.outcome).in_(SUBSTANTIATED),
            col(Case.resolved_at) >= lo,
            col(Case.resolved_at) < hi,
        )
        .group_by(col(Officer.name))
        .order_by(func.count().desc(), col(Officer.name))
    ).all()
    return replace(
        base,
        new=_count(session, *mine, col(Case.received_at) >= lo, col(Case.received_at) < hi),
        resolved=_count(session, *mine, col(Case.resolved_at) >= lo, col(Case.resolved_at) < hi),
        open=_count(session, *mine, col(Case.status).in_(open_values), col(Case.received_at) < hi),
        overdue=_count(session, *overdue),
        oldest_overdue=list(
            session.exec(
                select(Case.reference)
                .where(*overdue)
                .order_by(col(Case.due_at), col(Case.id))
                .limit(5)
            ).all()
        ),
        officers_substantiated=[(str(name), int(n)) for name, n in officers],
    )


def _count(session: Session, *where: object) -> int:
    return int(session.exec(select(func.count()).select_from(Case).where(*where)).one())  # type: ignore[arg-type]


# Text and chart ---------------------------------------------------------------------------


def _num(value: Decimal | None, lang: str) -> str:
    if value is None:
        return "-"
    text = f"{value:.2f}"
    return text.replace(".", ",") if lang == "id" else text


def _ikm_line(fig: IkmFigure | None, lang: str) -> str:
    if fig is None or not fig.n:
        return ct(lang, "digest.ikm_none")
    return ct(
        lang,
        "digest.ikm_value",
        ikm=_num(fig.ikm, lang),
        grade=fig.grade or "-",
        n=fig.n,
        minimum=fig.minimum,
    )


def digest_title(data: DigestData, lang: str) -> str:
    return ct(lang, "digest.title", unit=data.unit_name, week=str(data.week))


def render_digest(data: DigestData, lang: str) -> str:
    """The digest as a Telegram message in `lang` (never a reporter, never a NIP)."""
    start, end = data.week.monday(), data.week.sunday()
    if data.nothing_new:
        return ct(lang, "digest.nothing_new", unit=data.unit_name, week=str(data.week))
    lines = [
        digest_title(data, lang),
        ct(lang, "digest.period", start=start.strftime("%d-%m-%Y"), end=end.strftime("%d-%m-%Y")),
        "",
        ct(
            lang,
            "digest.cases",
            new=data.new,
            open=data.open,
            overdue=data.overdue,
            resolved=data.resolved,
        ),
    ]
    if data.oldest_overdue:
        lines.append(ct(lang, "digest.oldest_overdue", refs=", ".join(data.oldest_overdue)))
    lines += [
        "",
        ct(lang, "digest.ikm_this_week", value=_ikm_line(data.this_week, lang)),
        ct(lang, "digest.ikm_last_week", value=_ikm_line(data.last_week, lang)),
        ct(lang, "digest.ikm_quarter", value=_ikm_line(data.quarter, lang)),
    ]
    if data.lowest_elements:
        worst = ", ".join(f"{name} ({_num(nrr, lang)})" for name, nrr in data.lowest_elements)
        lines.append(ct(lang, "digest.lowest", elements=worst))
    if data.officers_substantiated:
        names = ", ".join(f"{name} ({n})" for name, n in data.officers_substantiated)
        lines.append(ct(lang, "digest.officers", officers=names))
    return "\n".join(lines)


def render_chart(data: DigestData, lang: str) -> bytes:
    """PNG of the IKM over the last 12 weeks (matplotlib, no display needed)."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    fig = Figure(figsize=(CHART_SIZE[0] / 100, CHART_SIZE[1] / 100), dpi=100)
    ax = fig.subplots()
    labels = [w.split("-")[1] for w, _ in data.trend]
    values = [float(v) if v is not None else float("nan") for _, v in data.trend]
    ax.plot(labels, values, marker="o", color="#1f6feb")
    for floor, color in ((88.31, "#2da44e"), (76.61, "#bf8700"), (65.0, "#cf222e")):
        ax.axhline(floor, color=color, linewidth=0.8, linestyle="--")
    ax.set_ylim(25, 100)
    ax.set_title(ct(lang, "digest.chart_title", unit=data.unit_name)[:80])
    ax.set_ylabel("IKM")
    ax.grid(alpha=0.3)
    fig.subplots_adjust(left=0.08, right=0.98, top=0.9, bottom=0.1)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100)
    return buf.getvalue()


# Exactly-once delivery ----------------------------------------------------------------------


def digest_recipients(session: Session, unit_id: int) -> list[AppUser]:
    """Linked, active users who receive the unit's digest (`Permission.RECEIVE_DIGEST` on
    it: today its unit heads)."""
    return list(
        session.exec(
            select(AppUser)
            .join(UserUnit, col(UserUnit.user_id) == col(AppUser.id))
            .where(
                UserUnit.unit_id == unit_id,
                col(AppUser.role).in_(RECIPIENT_ROLES),
                AppUser.active == True,  # noqa: E712
                col(AppUser.telegram_chat_id).is_not(None),
            )
            .order_by(col(AppUser.id))
        ).all()
    )


def claim_run(
    session: Session, unit_id: int, week: IsoWeek, worker: str, now: datetime
) -> DigestRun | None:
    """The run for (unit, week) if this worker may work on it now, else None."""
    run = DigestRun(unit_id=unit_id, week=str(week), claimed_by=worker, claimed_at=now)
    try:
        with session.begin_nested():
            session.add(run)
        return run
    except IntegrityError:
        pass
    existing = session.exec(
        select(DigestRun).where(DigestRun.unit_id == unit_id, DigestRun.week == str(week))
    ).one()
    if existing.status == "done":
        return None
    if now - existing.claimed_at < CLAIM_STALE_AFTER and not worker_gone(existing.claimed_by):
        return None
    # A stale claim, or its worker is gone: take it over, unless another worker just did.
    taken = session.execute(
        update(DigestRun)
        .where(col(DigestRun.id) == existing.id, col(DigestRun.claimed_at) == existing.claimed_at)
        .values(claimed_by=worker, claimed_at=now)
    )
    if taken.rowcount != 1:  # type: ignore[attr-defined]
        return None
    session.refresh(existing)
    return existing


@dataclass
class RunReport:
    units: int = 0
    messages: int = 0
    skipped_units: int = 0


def send_unit_digest(
    engine: Engine,
    unit_id: int,
    week: IsoWeek,
    tz: ZoneInfo,
    default_population: int,
    worker: str,
    now: datetime | None = None,
    on_recipient: Callable[[AppUser], None] | None = None,
    clock: Callable[[], datetime] = utcnow,
) -> int | None:
    """Claim (unit, week) and queue the digest for every recipient not yet served, each
    with the figures over the cases that recipient may open (`digest_for`).

    Each recipient is one transaction (the claim's heartbeat, outbox rows, DigestRecipient),
    so a crash loses nothing and a resumed run continues with the remaining heads. A run
    whose claim was taken over stops; the primary key of DigestRecipient makes a second
    digest for the same head impossible even then. Returns the number of messages queued,
    or None when another worker has (or had) the claim. `now` dates the messages; the
    claim and its heartbeat read `clock`, the time every worker shares.
    """
    now = now or clock()
    with Session(writer(engine), expire_on_commit=False) as session:
        run = claim_run(session, unit_id, week, worker, clock())
        session.commit()
        if run is None:
            return None
        unit = session.get(Unit, unit_id)
        assert unit is not None and run.id is not None
        base = survey_digest(session, unit, week, tz, default_population)
        done = set(
            session.exec(select(DigestRecipient.user_id).where(DigestRecipient.run_id == run.id))
        )
        queued = 0
        charts: dict[str, bytes] = {}
        for head in digest_recipients(session, unit_id):
            if head.id in done:
                continue
            if on_recipient is not None:
                on_recipient(head)
            if not _still_ours(session, run.id, worker, clock()):
                session.rollback()
                return queued
            actor = actor_for(session, head.id or 0)
            if actor is None or not actor.may(Permission.RECEIVE_DIGEST, unit_id):
                session.commit()  # the heartbeat
                continue
            data = digest_for(session, base, actor, tz, now=now)
            count = _queue_digest(session, data, head, charts, now)
            session.add(DigestRecipient(run_id=run.id, user_id=head.id or 0, created_at=now))
            try:
                session.commit()
            except IntegrityError:  # another worker served this head
                session.rollback()
                return queued
            queued += count
        run.status, run.finished_at = "done", now
        session.add(run)
        session.commit()
        return queued


def _still_ours(session: Session, run_id: int, worker: str, at: datetime) -> bool:
    """Refresh the claim's heartbeat; False when another worker has taken the run over."""
    beat = session.execute(
        update(DigestRun)
        .where(col(DigestRun.id) == run_id, col(DigestRun.claimed_by) == worker)
        .values(claimed_at=at)
    )
    return bool(beat.rowcount == 1)  # type: ignore[attr-defined]


def _queue_digest(
    session: Session, data: DigestData, head: AppUser, charts: dict[str, bytes], now: datetime
) -> int:
    assert head.telegram_chat_id is not None
    lang = head.language
    messages: list[tuple[str, bytes | None]] = []
    if not data.nothing_new:
        if lang not in charts:
            charts[lang] = render_chart(data, lang)
        messages.append((digest_title(data, lang), charts[lang]))
    messages.append((render_digest(data, lang), None))
    for text, photo in messages:
        session.add(
            OutboundMessage(
                chat_id=head.telegram_chat_id,
                language=lang,
                template="plain",
                params=json.dumps({"text": text}, ensure_ascii=False),
                photo=photo,
                next_attempt_at=now,
                created_at=now,
            )
        )
    return len(messages)


def week_to_report(fire_time_local: datetime) -> IsoWeek:
    """A digest fired during week W reports on week W-1."""
    return IsoWeek.of(fire_time_local.date()).previous()


def send_all_digests(
    engine: Engine,
    week: IsoWeek,
    tz: ZoneInfo,
    default_population: int,
    worker: str,
    unit_ids: Sequence[int] | None = None,
    now: datetime | None = None,
) -> RunReport:
    """Every active unit with a linked digest recipient (or the given units)."""
    report = RunReport()
    with Session(engine) as session:
        if unit_ids is None:
            unit_ids = list(
                session.exec(
                    select(UserUnit.unit_id)
                    .join(AppUser, col(AppUser.id) == col(UserUnit.user_id))
                    .join(Unit, col(Unit.id) == col(UserUnit.unit_id))
                    .where(
                        col(AppUser.role).in_(RECIPIENT_ROLES),
                        AppUser.active == True,  # noqa: E712
                        col(AppUser.telegram_chat_id).is_not(None),
                        Unit.active == True,  # noqa: E712
                    )
                    .distinct()
                ).all()
            )
    for unit_id in sorted(unit_ids):
        try:
            queued = send_unit_digest(engine, unit_id, week, tz, default_population, worker, now)
        except Exception:
            log.exception(
                "digest for unit %s, week %s failed; a later run resumes it", unit_id, week
            )
            continue
        if queued is None:
            report.skipped_units += 1
        else:
            report.units += 1
            report.messages += queued
    return report
