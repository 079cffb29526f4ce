"""Who may see and do what: one permission table, checked by every service call.

Every right is a `Permission`; `GRANTS` says which roles hold it. A right is held on the
actor's own units (admins: on every unit). Cases add two rules on top of the unit: a
`rahasia` case needs `VIEW_CONFIDENTIAL_CASES`, and a case that names an officer is never
visible to the staff account linked to that officer (conflict of interest). `can_view_case`
is the rule in Python, `visible_cases_clause` its SQL twin; every list, count and figure
built from cases goes through the SQL twin, so an actor is never shown a number derived
from a case they could not open.

A new role is one `Role` member and one row of `GRANTS`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol

from sqlmodel import Session, col, or_, select

from core.cases.models import Case, Privacy
from core.masterdata.models import Officer
from core.people.models import AppUser, Role, UserUnit
from core.shared.errors import Forbidden


class Permission(StrEnum):
    """Every right in the system. Unit-scoped unless the role holds it as an admin."""

    VIEW_UNIT = "view_unit"  # a unit's master data, scores, its ordinary cases
    EDIT_MASTER_DATA = "edit_master_data"  # services and officers of a unit, unit settings
    MANAGE_UNITS = "manage_units"  # create units, import officers across units
    HANDLE_CASES = "handle_cases"  # verify, reject, assign, request info, resolve, notes
    REOPEN_CASES = "reopen_cases"  # reopen a closed case by hand
    VIEW_CONFIDENTIAL_CASES = "view_confidential_cases"  # `rahasia` cases
    VIEW_HIDDEN_REPORTER = "view_hidden_reporter"  # reporter and location of anonim/rahasia
    EVALUATE = "evaluate"  # create, compute, decide and finalize evaluation periods
    VIEW_EVALUATIONS = "view_evaluations"  # a period's non-confidential evidence, decisions
    MANAGE_USERS = "manage_users"  # accounts, roles, units, passwords, unlocks, audit
    MANAGE_DIGESTS = "manage_digests"  # preview and send a unit's digest now
    RECEIVE_DIGEST = "receive_digest"  # the weekly digest in Telegram
    RECEIVE_REMINDERS = "receive_reminders"  # the daily SLA reminder in Telegram
    MANAGE_TEXTS = "manage_texts"  # the canned responses offered in the console's forms
    MANAGE_CALENDAR = "manage_calendar"  # the office's closed days (the SLA clock skips them)
    FINALIZE_EARLY = "finalize_early"  # finalize an evaluation period before it ends (reason)
    # The evidence about the account's own linked officer in its evaluations, and a written
    # response to it while the period is open (not unit-scoped: it follows the officer link).
    RESPOND_OWN_EVALUATION = "respond_own_evaluation"
    PLAN_FOLLOW_UP = "plan_follow_up"  # a unit's follow-up plan of its SKM (rencana tindak lanjut)


P = Permission

GRANTS: dict[Role, frozenset[Permission]] = {
    # Admins hold every right but the two deliveries, which follow a unit role.
    Role.admin: frozenset(Permission) - {P.RECEIVE_DIGEST, P.RECEIVE_REMINDERS},
    Role.supervisor: frozenset(
        {
            P.VIEW_UNIT,
            P.EDIT_MASTER_DATA,
            P.HANDLE_CASES,
            P.VIEW_CONFIDENTIAL_CASES,
            P.EVALUATE,
            P.VIEW_EVALUATIONS,
            P.RECEIVE_REMINDERS,
            P.RESPOND_OWN_EVALUATION,
            P.PLAN_FOLLOW_UP,
        }
    ),
    Role.unit_head: frozenset(
        {
            P.VIEW_UNIT,
            P.HANDLE_CASES,
            P.VIEW_EVALUATIONS,
            P.RECEIVE_DIGEST,
            P.RECEIVE_REMINDERS,
            P.RESPOND_OWN_EVALUATION,
            P.PLAN_FOLLOW_UP,
        }
    ),
    Role.viewer: frozenset({P.VIEW_UNIT, P.VIEW_EVALUATIONS, P.RESPOND_OWN_EVALUATION}),
    # A front-line officer (ASN) with an account only to read and answer their own evidence.
    Role.officer: frozenset({P.RESPOND_OWN_EVALUATION}),
}

# Held on every unit, whatever the actor's unit list says.
GLOBAL_ROLES = frozenset({Role.admin})


def roles_with(permission: Permission) -> frozenset[Role]:
    """The roles that hold `permission` (e.g. who receives reminders)."""
    return frozenset(role for role, grants in GRANTS.items() if permission in grants)


class CaseLike(Protocol):
    @property
    def unit_id(self) -> int: ...
    @property
    def officer_id(self) -> int | None: ...
    @property
    def privacy(self) -> str: ...


@dataclass(frozen=True)
class Actor:
    """A logged-in staff user, as the core sees them."""

    user_id: int
    username: str
    role: Role
    unit_ids: frozenset[int] = field(default_factory=frozenset)
    officer_id: int | None = None  # the officer this account belongs to, if linked
    officer_unit_id: int | None = None  # that officer's unit

    @property
    def is_admin(self) -> bool:
        return self.role is Role.admin

    @property
    def is_global(self) -> bool:
        return self.role in GLOBAL_ROLES

    def has(self, permission: Permission) -> bool:
        """Holds `permission` on at least one unit."""
        return permission in GRANTS[self.role] and (self.is_global or bool(self.unit_ids))

    def may(self, permission: Permission, unit_id: int | None = None) -> bool:
        """Holds `permission`; with a unit, holds it on that unit."""
        if permission not in GRANTS[self.role]:
            return False
        return unit_id is None or self.is_global or unit_id in self.unit_ids

    def require(self, permission: Permission, unit_id: int | None = None) -> None:
        if not self.may(permission, unit_id):
            raise Forbidden(f"role {self.role.value} may not do this ({permission.value})")

    def unit_scope(self) -> frozenset[int] | None:
        """None means every unit (admins)."""
        return None if self.is_global else self.unit_ids

    def can_see_unit(self, unit_id: int) -> bool:
        return self.may(P.VIEW_UNIT, unit_id)

    def require_unit(self, unit_id: int) -> None:
        if not self.can_see_unit(unit_id):
            raise Forbidden("this unit is outside your scope")

    def require_write(self, unit_id: int | None = None) -> None:
        """May change master data (of `unit_id`)."""
        if not self.may(P.EDIT_MASTER_DATA):
            raise Forbidden(f"role {self.role.value} may not change master data")
        if unit_id is not None:
            self.require_unit(unit_id)

    def require_admin(self) -> None:
        if not self.is_admin:
            raise Forbidden("only an admin may do this")


# Cases --------------------------------------------------------------------------------------


def can_view_case(case: CaseLike, *, actor: Actor) -> bool:
    """The one rule for opening a case (its SQL twin is `visible_cases_clause`)."""
    if not actor.may(P.VIEW_UNIT, case.unit_id):
        return False
    if actor.officer_id is not None and case.officer_id == actor.officer_id:
        return False
    return case.privacy != Privacy.rahasia or actor.may(P.VIEW_CONFIDENTIAL_CASES, case.unit_id)


def visible_cases_clause(*, actor: Actor) -> list[Any]:
    """SQL conditions selecting exactly the cases `can_view_case` allows."""
    clauses: list[Any] = []
    if not actor.may(P.VIEW_UNIT):
        return [Case.id == -1]
    if not actor.is_global:
        clauses.append(col(Case.unit_id).in_(actor.unit_ids or {-1}))
    if actor.officer_id is not None:
        clauses.append(
            or_(col(Case.officer_id).is_(None), col(Case.officer_id) != actor.officer_id)
        )
    if not actor.may(P.VIEW_CONFIDENTIAL_CASES):
        clauses.append(Case.privacy != Privacy.rahasia.value)
    return clauses


def can_see_reporter(case: CaseLike, *, actor: Actor) -> bool:
    """Who reported an `anonim` or `rahasia` case, and where, only for `VIEW_HIDDEN_REPORTER`."""
    if not can_view_case(case, actor=actor):
        return False
    return case.privacy == Privacy.biasa or actor.may(P.VIEW_HIDDEN_REPORTER, case.unit_id)


def can_see_location(case: CaseLike, *, actor: Actor) -> bool:
    """The location of a report is often the reporter's own position: same rule."""
    return can_see_reporter(case, actor=actor)


def may_open_every_case(unit_ids: Iterable[int], *, actor: Actor) -> bool:
    """True when no case of these units is hidden from the actor (confidential evidence)."""
    units = set(unit_ids)
    if actor.officer_unit_id is not None and actor.officer_unit_id in units:
        return False
    return all(actor.may(P.VIEW_CONFIDENTIAL_CASES, u) for u in units)


# Actors ---------------------------------------------------------------------------------------


def actor_for(session: Session, user_id: int, *, token_version: int | None = None) -> Actor | None:
    """The active account as an Actor; with `token_version`, only while that version holds."""
    user = session.get(AppUser, user_id)
    if user is None or not user.active:
        return None
    if token_version is not None and token_version != user.token_version:
        return None
    unit_ids = session.exec(select(UserUnit.unit_id).where(UserUnit.user_id == user_id)).all()
    assert user.id is not None
    officer_unit_id = None
    if user.officer_id is not None:
        officer = session.get(Officer, user.officer_id)
        officer_unit_id = officer.unit_id if officer is not None else None
    return Actor(
        user_id=user.id,
        username=user.username,
        role=Role(user.role),
        unit_ids=frozenset(unit_ids),
        officer_id=user.officer_id,
        officer_unit_id=officer_unit_id,
    )
