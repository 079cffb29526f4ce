"""Removing the demo data once real data has arrived (`asn-feedback demo purge`).

The demo's rows are the ones `core.demo.seed_demo` listed in `demo_record` (units, services,
officers, accounts, citizens, complaints) and the survey answers of channel "demo". Purging
removes them with what hangs on them: the complaints' events, attachments and outbox rows,
the demo accounts' sessions, contacts, link codes, reminders and audit rows, the demo
units' digests and the demo officers' evaluation figures.

It is refused, with nothing removed, while any record that is not demo data refers to demo
data: a real answer or complaint on a demo unit, service or officer, a real account scoped
to a demo unit or linked to a demo officer, a real officer, service or sub-unit in a demo
unit, a real complaint or evaluation handled by a demo account, or a row of any table this
module does not know that points at a demo row. The refusal names each of them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, Table, and_, delete, false, func, or_, select, update
from sqlmodel import Session, SQLModel

# The tables named below, in the metadata; the command imports `core.tables` too, so that a
# table this module does not know is checked as well.
from core.access import Actor
from core.cases import models as _cases  # noqa: F401
from core.digests import models as _digests  # noqa: F401
from core.evaluations import models as _evaluations  # noqa: F401
from core.masterdata.models import DemoRecord
from core.outbox import models as _outbox  # noqa: F401
from core.people.models import Channel
from core.shared.errors import Conflict
from core.surveys import models as _surveys  # noqa: F401

DEMO_CHANNEL = "demo"
# demo_record kinds: each is the name of the table its ids are of.
KINDS = ("unit", "service", "officer", "app_user", "citizen", "cases")
SHOWN = 5  # examples named per kind of blocking record


@dataclass
class PurgeReport:
    """What was (or, on a dry run, would be) removed, table by table."""

    removed: dict[str, int] = field(default_factory=dict)
    dry_run: bool = False

    @property
    def total(self) -> int:
        return sum(self.removed.values())


@dataclass
class _Demo:
    ids: dict[str, set[int]]
    events: set[int] = field(default_factory=set)
    evaluations: set[int] = field(default_factory=set)
    citizen_addresses: set[str] = field(default_factory=set)
    user_addresses: set[tuple[str, str]] = field(default_factory=set)
    usernames: set[str] = field(default_factory=set)

    def __getitem__(self, kind: str) -> set[int]:
        return self.ids[kind]


def _t(name: str) -> Table:
    return SQLModel.metadata.tables[name]


def _in(column: Any, ids: Iterable[Any]) -> ColumnElement[bool]:
    values = list(ids)
    return column.in_(values) if values else false()


def mark_demo(session: Session, kind: str, ids: Iterable[int | None]) -> None:
    """Record rows the demo made (called by `seed_demo`)."""
    if kind not in KINDS:
        raise ValueError(f"unknown demo record kind {kind!r}")
    for record_id in ids:
        if record_id is not None:
            session.merge(DemoRecord(kind=kind, record_id=record_id))
    session.flush()


def has_listed_demo(session: Session) -> bool:
    """Whether `demo_record` lists any row."""
    return session.execute(select(_t("demo_record").c.kind).limit(1)).first() is not None


def has_demo_data(session: Session) -> bool:
    records = session.execute(select(func.count()).select_from(_t("demo_record"))).scalar_one()
    answers = session.execute(
        select(func.count())
        .select_from(_t("survey_response"))
        .where(_t("survey_response").c.channel == DEMO_CHANNEL)
    ).scalar_one()
    return bool(records or answers)


def _load(session: Session) -> _Demo:
    ids: dict[str, set[int]] = {kind: set() for kind in KINDS}
    for kind, record_id in session.execute(
        select(_t("demo_record").c.kind, _t("demo_record").c.record_id)
    ):
        if kind in ids:
            ids[kind].add(record_id)
    demo = _Demo(ids)
    event, evaluation, contact = _t("case_event"), _t("officer_evaluation"), _t("contact")
    demo.events = set(
        session.execute(select(event.c.id).where(_in(event.c.case_id, demo["cases"]))).scalars()
    )
    demo.evaluations = set(
        session.execute(
            select(evaluation.c.id).where(
                or_(
                    _in(evaluation.c.officer_id, demo["officer"]),
                    _in(evaluation.c.unit_id, demo["unit"]),
                )
            )
        ).scalars()
    )
    demo.citizen_addresses = set(
        session.execute(
            select(contact.c.address).where(
                contact.c.channel == Channel.telegram.value,
                _in(contact.c.citizen_id, demo["citizen"]),
            )
        ).scalars()
    )
    demo.user_addresses = {
        (row.channel, row.address)
        for row in session.execute(
            select(contact.c.channel, contact.c.address).where(
                _in(contact.c.user_id, demo["app_user"])
            )
        )
    }
    user = _t("app_user")
    demo.usernames = set(
        session.execute(select(user.c.username).where(_in(user.c.id, demo["app_user"]))).scalars()
    )
    return demo


def _examples(session: Session, column: Any, where: ColumnElement[bool]) -> list[str]:
    return [str(v) for v in session.execute(select(column).where(where).limit(SHOWN)).scalars()]


def _blockers(session: Session, demo: _Demo) -> list[str]:
    """Every kind of non-demo record that refers to demo data, with a few examples."""
    units, services, officers = demo["unit"], demo["service"], demo["officer"]
    users, citizens, cases = demo["app_user"], demo["citizen"], demo["cases"]
    found: list[str] = []

    def check(what: str, column: Any, where: ColumnElement[bool]) -> None:
        examples = _examples(session, column, where)
        if examples:
            more = " ..." if len(examples) == SHOWN else ""
            found.append(f"{what}: {', '.join(examples)}{more}")

    unit, service, officer = _t("unit"), _t("service"), _t("officer")
    check("units under a demo unit", unit.c.code,
          and_(~_in(unit.c.id, units), _in(unit.c.parent_id, units)))  # fmt: skip
    check("services of a demo unit (ids)", service.c.id,
          and_(~_in(service.c.id, services), _in(service.c.unit_id, units)))  # fmt: skip
    check("officers in a demo unit (public codes)", officer.c.public_code,
          and_(~_in(officer.c.id, officers), _in(officer.c.unit_id, units)))  # fmt: skip
    answer = _t("survey_response")
    check(
        "survey answers about demo units, services or officers (ids)",
        answer.c.id,
        and_(
            answer.c.channel != DEMO_CHANNEL,
            or_(
                _in(answer.c.unit_id, units),
                _in(answer.c.service_id, services),
                _in(answer.c.officer_id, officers),
                _in(answer.c.citizen_id, citizens),
            ),
        ),
    )
    case = _t("cases")
    check(
        "complaints about demo units, services or officers, or handled by a demo account",
        case.c.reference,
        and_(
            ~_in(case.c.id, cases),
            or_(
                _in(case.c.unit_id, units),
                _in(case.c.service_id, services),
                _in(case.c.officer_id, officers),
                _in(case.c.citizen_id, citizens),
                _in(case.c.assignee_id, users),
                _in(case.c.duplicate_of_id, cases),
            ),
        ),
    )
    event = _t("case_event")
    check(
        "complaints whose history names a demo account",
        case.c.reference,
        case.c.id.in_(
            select(event.c.case_id).where(
                ~_in(event.c.case_id, cases), _in(event.c.actor_user_id, users)
            )
        ),
    )
    user, user_unit = _t("app_user"), _t("user_unit")
    check(
        "accounts scoped to a demo unit or linked to a demo officer",
        user.c.username,
        and_(
            ~_in(user.c.id, users),
            or_(
                _in(user.c.officer_id, officers),
                user.c.id.in_(select(user_unit.c.user_id).where(_in(user_unit.c.unit_id, units))),
            ),
        ),
    )
    period, evaluation = _t("evaluation_period"), _t("officer_evaluation")
    check("evaluation periods made or finalized by a demo account", period.c.name,
          or_(_in(period.c.created_by, users), _in(period.c.finalized_by, users)))  # fmt: skip
    check(
        "evaluations decided by a demo account (officer names)",
        evaluation.c.officer_name,
        and_(~_in(evaluation.c.id, demo.evaluations), _in(evaluation.c.decided_by, users)),
    )
    eval_event = _t("evaluation_event")
    check(
        "evaluation history written by a demo account (ids)",
        eval_event.c.id,
        and_(
            _in(eval_event.c.actor_user_id, users),
            ~_in(eval_event.c.officer_evaluation_id, demo.evaluations),
        ),
    )
    closed = _t("closed_day")
    check("closed days added or removed by a demo account", closed.c.day,
          or_(_in(closed.c.created_by_id, users), _in(closed.c.removed_by_id, users)))  # fmt: skip
    audit = _t("access_audit")
    check(
        "access audit rows of demo accounts about real records (ids)",
        audit.c.id,
        and_(
            _in(audit.c.actor_user_id, users),
            ~or_(
                and_(audit.c.target_kind == "case", _in(audit.c.target_id, cases)),
                and_(audit.c.target_kind == "user", _in(audit.c.target_id, users)),
            ),
        ),
    )
    found += _unknown_references(session, demo)
    return found


# Tables handled above or removed with the demo below; any other table's foreign key to a
# demo row blocks the purge (a table added later is never emptied by guesswork).
_KNOWN = frozenset({
    "unit", "service", "officer", "app_user", "citizen", "cases", "case_event", "attachment",
    "outbound_message", "survey_response", "user_unit", "contact", "link_code", "staff_session",
    "reminder_run", "access_audit", "digest_run", "digest_recipient", "evaluation_period",
    "evaluation_period_unit", "officer_evaluation", "evaluation_event", "closed_day",
    "login_throttle", "demo_record",
})  # fmt: skip


def _unknown_references(session: Session, demo: _Demo) -> list[str]:
    targets = {**{kind: demo[kind] for kind in KINDS}, "case_event": demo.events,
               "officer_evaluation": demo.evaluations}  # fmt: skip
    found = []
    for table in SQLModel.metadata.sorted_tables:
        if table.name in _KNOWN:
            continue
        for fk in table.foreign_keys:
            ids = targets.get(fk.column.table.name)
            if not ids:
                continue
            count = session.execute(
                select(func.count()).select_from(table).where(_in(fk.parent, ids))
            ).scalar_one()
            if count:
                found.append(
                    f"{count} row(s) of table {table.name} refer to demo {fk.column.table.name}"
                )
    return found


def purge_demo(session: Session, *, actor: Actor, dry_run: bool = False) -> PurgeReport:
    """Remove the demo data (admins); refused with nothing removed while real data refers
    to it. On `dry_run` only counts what would go."""
    actor.require_admin()
    if not has_demo_data(session):
        raise Conflict("there is no demo data to remove")
    demo = _load(session)
    blockers = _blockers(session, demo)
    if blockers:
        raise Conflict(
            "demo data cannot be removed while real records refer to it; nothing was removed. "
            + "; ".join(blockers)
        )
    report = PurgeReport(dry_run=dry_run)
    if not dry_run:
        _unlink_parents(session, demo)
    for name, where in _removals(demo):
        table = _t(name)
        if dry_run:
            count = session.execute(
                select(func.count()).select_from(table).where(where)
            ).scalar_one()
        else:
            count = session.execute(delete(table).where(where)).rowcount  # type: ignore[attr-defined]
        if count:
            report.removed[name] = report.removed.get(name, 0) + int(count)
    if not dry_run:
        session.flush()
    return report


def _removals(demo: _Demo) -> list[tuple[str, ColumnElement[bool]]]:
    """(table, which rows) in an order that no foreign key is ever left dangling."""
    units, services, officers = demo["unit"], demo["service"], demo["officer"]
    users, citizens, cases = demo["app_user"], demo["citizen"], demo["cases"]
    out, att, ev, case = _t("outbound_message"), _t("attachment"), _t("case_event"), _t("cases")
    audit, answer, evaluation = _t("access_audit"), _t("survey_response"), _t("officer_evaluation")
    eval_event, period_unit = _t("evaluation_event"), _t("evaluation_period_unit")
    run, recipient, reminder = _t("digest_run"), _t("digest_recipient"), _t("reminder_run")
    session_t, link, contact = _t("staff_session"), _t("link_code"), _t("contact")
    user_unit, user, citizen = _t("user_unit"), _t("app_user"), _t("citizen")
    officer, service, unit = _t("officer"), _t("service"), _t("unit")
    record = _t("demo_record")
    telegram = Channel.telegram.value
    user_address = or_(false(), *(
        and_(out.c.channel == channel, out.c.address == address)
        for channel, address in sorted(demo.user_addresses)
    ))  # fmt: skip
    return [
        ("outbound_message", or_(
            _in(out.c.case_event_id, demo.events),
            and_(out.c.channel == telegram, _in(out.c.address, demo.citizen_addresses)),
            user_address,
        )),
        ("attachment", _in(att.c.case_id, cases)),
        ("access_audit", or_(
            and_(audit.c.target_kind == "case", _in(audit.c.target_id, cases)),
            and_(audit.c.target_kind == "user", _in(audit.c.target_id, users)),
            _in(audit.c.actor_user_id, users),
        )),
        ("case_event", _in(ev.c.case_id, cases)),
        ("cases", _in(case.c.id, cases)),
        ("survey_response", answer.c.channel == DEMO_CHANNEL),
        ("evaluation_event", _in(eval_event.c.officer_evaluation_id, demo.evaluations)),
        ("officer_evaluation", _in(evaluation.c.id, demo.evaluations)),
        ("evaluation_period_unit", _in(period_unit.c.unit_id, units)),
        ("digest_recipient", or_(
            _in(recipient.c.user_id, users),
            recipient.c.run_id.in_(select(run.c.id).where(_in(run.c.unit_id, units))),
        )),
        ("digest_run", _in(run.c.unit_id, units)),
        ("reminder_run", _in(reminder.c.user_id, users)),
        ("staff_session", _in(session_t.c.user_id, users)),
        ("link_code", or_(_in(link.c.user_id, users), _in(link.c.created_by, users))),
        ("contact", or_(_in(contact.c.user_id, users), _in(contact.c.citizen_id, citizens))),
        ("user_unit", or_(_in(user_unit.c.user_id, users), _in(user_unit.c.unit_id, units))),
        ("login_throttle", _in(_t("login_throttle").c.username, demo.usernames)),
        ("app_user", _in(user.c.id, users)),
        ("citizen", _in(citizen.c.id, citizens)),
        ("officer", _in(officer.c.id, officers)),
        ("service", _in(service.c.id, services)),
        ("unit", _in(unit.c.id, units)),
        ("demo_record", record.c.kind.in_(KINDS)),
    ]  # fmt: skip


def _unlink_parents(session: Session, demo: _Demo) -> None:
    """Links inside the demo data (a duplicate of another demo complaint, a demo parent unit)
    are cut first, so that the order of the deletes within a table does not matter."""
    case, unit = _t("cases"), _t("unit")
    session.execute(update(case).where(_in(case.c.id, demo["cases"])).values(duplicate_of_id=None))
    session.execute(update(unit).where(_in(unit.c.id, demo["unit"])).values(parent_id=None))
