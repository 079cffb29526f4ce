"""The one permission table (core.access) as a matrix: role x permission x own unit / other
unit, and case visibility (role x privacy x own / other unit x linked officer) in Python and
in its SQL twin, which must select exactly the same cases."""

from __future__ import annotations

import itertools
import json

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from admin_api import create_app
from core.access import (
    GRANTS,
    Actor,
    Permission,
    actor_for,
    can_see_location,
    can_see_reporter,
    can_view_case,
    may_open_every_case,
    roles_with,
    visible_cases_clause,
)
from core.cases import service as svc
from core.cases.models import Case, Privacy
from core.cases.sla import SlaPolicy
from core.outbox.models import OutboundMessage
from core.people.models import AccessAudit, AuditAction, Role
from core.shared.config import Settings
from core.shared.errors import Forbidden
from tests.contacts import link_telegram, telegram_citizen
from tests.factories import PASSWORD, make_officer, make_unit, make_user

OWN, OTHER = 1, 2
P = Permission

# The expected table, written out independently of core.access.GRANTS.
EXPECTED: dict[Role, set[Permission]] = {
    Role.admin: set(Permission) - {P.RECEIVE_DIGEST, P.RECEIVE_REMINDERS},
    Role.supervisor: {
        P.VIEW_UNIT,
        P.EDIT_MASTER_DATA,
        P.HANDLE_CASES,
        P.VIEW_CONFIDENTIAL_CASES,
        P.EVALUATE,
        P.VIEW_EVALUATIONS,
        P.RECEIVE_REMINDERS,
        P.RESPOND_OWN_EVALUATION,
        P.PLAN_FOLLOW_UP,
    },
    Role.unit_head: {
        P.VIEW_UNIT,
        P.HANDLE_CASES,
        P.VIEW_EVALUATIONS,
        P.RECEIVE_DIGEST,
        P.RECEIVE_REMINDERS,
        P.RESPOND_OWN_EVALUATION,
        P.PLAN_FOLLOW_UP,
    },
    Role.viewer: {P.VIEW_UNIT, P.VIEW_EVALUATIONS, P.RESPOND_OWN_EVALUATION},
    # A front-line officer: nothing of any unit, only their own evaluation evidence.
    Role.officer: {P.RESPOND_OWN_EVALUATION},
}


def _actor(role: Role, officer_id: int | None = None, officer_unit: int | None = None) -> Actor:
    units = frozenset() if role is Role.admin else frozenset({OWN})
    return Actor(1, role.value, role, units, officer_id=officer_id, officer_unit_id=officer_unit)


def test_every_role_has_a_row() -> None:
    assert set(GRANTS) == set(Role)


@pytest.mark.parametrize(
    ("role", "permission"), list(itertools.product(list(Role), list(Permission)))
)
def test_matrix_role_permission_unit(role: Role, permission: Permission) -> None:
    actor = _actor(role)
    granted = permission in EXPECTED[role]
    assert actor.may(permission, OWN) is granted
    # Only admins hold a right on a unit that is not theirs.
    assert actor.may(permission, OTHER) is (granted and role is Role.admin)
    if granted and role is not Role.admin:
        with pytest.raises(Forbidden):
            actor.require(permission, OTHER)
    assert (role in roles_with(permission)) is granted


def test_an_account_without_units_holds_nothing() -> None:
    lonely = Actor(1, "x", Role.supervisor, frozenset())
    assert not lonely.has(P.VIEW_UNIT)
    assert visible_cases_clause(actor=lonely)  # restricts to nothing, not to everything


class _Case:
    def __init__(self, unit_id: int, privacy: Privacy, officer_id: int | None) -> None:
        self.unit_id, self.privacy, self.officer_id = unit_id, privacy.value, officer_id


EXPECTED_VIEW = {
    # role: privacy levels visible in the own unit (other units: only admins)
    Role.admin: {Privacy.biasa, Privacy.anonim, Privacy.rahasia},
    Role.supervisor: {Privacy.biasa, Privacy.anonim, Privacy.rahasia},
    Role.unit_head: {Privacy.biasa, Privacy.anonim},
    Role.viewer: {Privacy.biasa, Privacy.anonim},
    Role.officer: set(),
}


@pytest.mark.parametrize(
    ("role", "privacy", "unit", "names_me"),
    list(itertools.product(list(Role), list(Privacy), (OWN, OTHER), (False, True))),
)
def test_case_visibility_matrix(role: Role, privacy: Privacy, unit: int, names_me: bool) -> None:
    me = 77
    actor = _actor(role, officer_id=me, officer_unit=OWN)
    case = _Case(unit, privacy, me if names_me else 5)
    expected = (
        privacy in EXPECTED_VIEW[role] and (unit == OWN or role is Role.admin) and not names_me
    )
    assert can_view_case(case, actor=actor) is expected
    # Reporter and location of anonim / rahasia reports: admins only.
    reporter = expected and (privacy is Privacy.biasa or role is Role.admin)
    assert can_see_reporter(case, actor=actor) is reporter
    assert can_see_location(case, actor=actor) is reporter


def test_full_evidence_needs_every_case_of_the_units() -> None:
    assert may_open_every_case({OWN, OTHER}, actor=_actor(Role.admin))
    assert may_open_every_case({OWN}, actor=_actor(Role.supervisor))
    assert not may_open_every_case({OWN, OTHER}, actor=_actor(Role.supervisor))
    assert not may_open_every_case({OWN}, actor=_actor(Role.unit_head))
    assert not may_open_every_case({OWN}, actor=_actor(Role.viewer))
    # A supervisor linked to an officer of the unit cannot open the cases naming them.
    assert not may_open_every_case({OWN}, actor=_actor(Role.supervisor, 9, OWN))
    assert may_open_every_case({OWN}, actor=_actor(Role.supervisor, 9, OTHER))


def test_sql_twin_selects_exactly_the_viewable_cases(settings: Settings, engine: Engine) -> None:
    policy = svc.CasePolicy(sla=SlaPolicy(tz=settings.tz))
    with Session(engine, expire_on_commit=False) as s:
        units = [make_unit(s, "unit-a"), make_unit(s, "unit-b")]
        officers = [make_officer(s, u, f"Petugas {u.code}") for u in units]
        reporters = itertools.count(4242)
        citizen = telegram_citizen(s, next(reporters))
        for unit, officer, privacy in itertools.product(units, [*officers, None], Privacy):
            if officer is not None and officer.unit_id != unit.id:
                continue
            svc.file_complaint(
                s,
                citizen,
                svc.ComplaintDraft(
                    unit_id=unit.id or 0,
                    officer_id=officer.id if officer else None,
                    category="pungli",
                    privacy=privacy,
                    description="Petugas meminta uang tambahan di loket pelayanan.",
                ),
                policy,
            )
            citizen = telegram_citizen(s, next(reporters))
        s.commit()
        cases = s.exec(select(Case)).all()
        assert len(cases) == 12
        a, b = (u.id or 0 for u in units)
        actors = [
            Actor(1, "admin", Role.admin),
            *(Actor(2, r.value, r, frozenset({a})) for r in Role if r is not Role.admin),
            Actor(3, "linked", Role.supervisor, frozenset({a}), officers[0].id, a),
            Actor(4, "two", Role.unit_head, frozenset({a, b})),
        ]
        for actor in actors:
            in_sql = set(s.exec(select(Case.id).where(*visible_cases_clause(actor=actor))).all())
            in_python = {c.id for c in cases if can_view_case(c, actor=actor)}
            assert in_sql == in_python, actor.username
        linked = actors[-2]
        hidden = {c.id for c in cases if c.officer_id == officers[0].id}
        assert hidden and not hidden & set(
            s.exec(select(Case.id).where(*visible_cases_clause(actor=linked))).all()
        )


def test_opening_a_sensitive_case_is_recorded(settings: Settings, engine: Engine) -> None:
    policy = svc.CasePolicy(sla=SlaPolicy(tz=settings.tz))
    with Session(engine, expire_on_commit=False) as s:
        unit = make_unit(s, "unit-a")
        make_user(s, "spv", Role.supervisor, [unit])
        ids = {}
        for n, privacy in enumerate(Privacy):
            case = svc.file_complaint(
                s,
                telegram_citizen(s, 900 + n),
                svc.ComplaintDraft(
                    unit_id=unit.id or 0,
                    category="pungli",
                    privacy=privacy,
                    description="Petugas meminta uang tambahan di loket pelayanan.",
                ),
                policy,
            )
            ids[privacy] = case.id
        s.commit()
    client = TestClient(create_app(settings, engine))
    token = client.post("/auth/token", data={"username": "spv", "password": PASSWORD}).json()
    headers = {"Authorization": f"Bearer {token['access_token']}"}
    for case_id in ids.values():
        assert client.get(f"/cases/{case_id}", headers=headers).status_code == 200
    with Session(engine) as s:
        rows = s.exec(
            select(AccessAudit)
            .where(AccessAudit.target_kind == "case")
            .order_by(col(AccessAudit.id))
        ).all()
    seen = {(r.action, r.target_id) for r in rows}
    # biasa: the page shows the reporter; rahasia: a confidential case (reporter hidden).
    assert seen == {
        (AuditAction.case_read_reporter.value, ids[Privacy.biasa]),
        (AuditAction.case_read_confidential.value, ids[Privacy.rahasia]),
    }
    assert {r.actor_user_id for r in rows} == {rows[0].actor_user_id} != {None}


def _admin_alerts(s: Session, chat_id: int) -> list[str]:
    rows = s.exec(select(OutboundMessage).where(OutboundMessage.address == str(chat_id))).all()
    return [json.loads(r.params)["text"] for r in rows]


def test_a_complaint_only_its_subject_could_see_reaches_the_admins(
    settings: Settings, engine: Engine
) -> None:
    policy = svc.CasePolicy(sla=SlaPolicy(tz=settings.tz))
    with Session(engine, expire_on_commit=False) as s:
        unit = make_unit(s, "unit-a", "Dinas A")
        boss = make_officer(s, unit, "Kepala Seksi")
        admin = make_user(s, "admin", Role.admin)
        link_telegram(s, admin, 4001)
        spv = make_user(s, "spv", Role.supervisor, [unit])
        spv.officer_id = boss.id
        s.add_all([admin, spv])
        s.flush()

        def complain(n: int) -> Case:
            return svc.file_complaint(
                s,
                telegram_citizen(s, 5000 + n),
                svc.ComplaintDraft(
                    unit_id=unit.id or 0,
                    officer_id=boss.id,
                    category="pungli",
                    privacy=Privacy.rahasia,
                    description="Kepala seksi meminta uang agar berkas diproses.",
                ),
                policy,
            )

        first = complain(1)
        alerts = _admin_alerts(s, 4001)
        assert len(alerts) == 1 and first.reference in alerts[0] and "Dinas A" in alerts[0]
        # The linked supervisor cannot open it, in Python or in SQL.
        linked = actor_for(s, spv.id or 0)
        assert linked is not None and not can_view_case(first, actor=linked)
        assert (
            first.id not in s.exec(select(Case.id).where(*visible_cases_clause(actor=linked))).all()
        )
        # With a second supervisor in the unit, the complaint has an audience: no alert.
        make_user(s, "spv2", Role.supervisor, [unit])
        complain(2)
        assert len(_admin_alerts(s, 4001)) == 1


def test_only_admins_manage_the_canned_responses() -> None:
    assert roles_with(P.MANAGE_TEXTS) == {Role.admin}
    assert _actor(Role.admin).may(P.MANAGE_TEXTS)
    assert not any(_actor(role).may(P.MANAGE_TEXTS) for role in set(Role) - {Role.admin})
