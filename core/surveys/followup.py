"""A unit's follow-up plan (rencana tindak lanjut) for one survey period.

PermenPANRB 14/2017 ends the SKM report with what the unit will do about its results: per
element (usually the lowest), the program or activity, when, and who answers for it. The plan
is kept per unit and period (the report's first and last day), read by everyone who may see
the unit (`VIEW_UNIT`), written by those who hold `PLAN_FOLLOW_UP` on it (admins, the unit's
supervisors and head). A unit outside the actor's reach answers as an unknown one; an item of
another unit as an unknown item."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from core.access import Actor, Permission
from core.masterdata.models import Unit
from core.masterdata.service import clean_text
from core.shared.clock import utcnow
from core.shared.errors import Forbidden, InvalidInput, NotFound
from core.surveys.models import FollowUpItem
from core.surveys.skm import ELEMENT_COUNT
from core.surveys.unit_scores import Period

MAX_ACTION = 1000
MAX_TIMEFRAME = 100
MAX_RESPONSIBLE = 200
MAX_ITEMS = 50  # per unit and period
# The rule keys of an empty field (the console names them in the user's words).
EMPTY_ACTION = "followup.action_empty"
EMPTY_TIMEFRAME = "followup.timeframe_empty"
EMPTY_RESPONSIBLE = "followup.responsible_empty"


@dataclass(frozen=True)
class FollowUpDraft:
    """One row as typed: the element (1-9, or None for the service as a whole), what will be
    done, when, and who answers for it."""

    element: int | None
    action: str
    timeframe: str
    responsible: str


def _clean(draft: FollowUpDraft) -> FollowUpDraft:
    """The draft with its texts trimmed; InvalidInput (with the rule's key) for what cannot be
    kept."""
    if draft.element is not None and not 1 <= draft.element <= ELEMENT_COUNT:
        raise InvalidInput(f"element must be between 1 and {ELEMENT_COUNT}", why="followup.element")
    action = clean_text(draft.action).strip()
    timeframe = clean_text(draft.timeframe).strip()
    responsible = clean_text(draft.responsible).strip()
    for value, limit, what, empty in (
        (action, MAX_ACTION, "action", EMPTY_ACTION),
        (timeframe, MAX_TIMEFRAME, "timeframe", EMPTY_TIMEFRAME),
        (responsible, MAX_RESPONSIBLE, "responsible", EMPTY_RESPONSIBLE),
    ):
        if not value:
            raise InvalidInput(f"{what} is empty", why=empty)
        if len(value) > limit:
            raise InvalidInput(
                f"{what} is {len(value)} characters long; at most {limit}",
                why="text.too_long",
                max=limit,
                length=len(value),
            )
    return FollowUpDraft(draft.element, action, timeframe, responsible)


def _unit(session: Session, unit_id: int, actor: Actor) -> Unit:
    unit = session.get(Unit, unit_id)
    if unit is None or not actor.can_see_unit(unit_id):
        raise NotFound(f"unit {unit_id} does not exist")
    return unit


def _require_planner(actor: Actor, unit_id: int) -> None:
    if not actor.may(Permission.PLAN_FOLLOW_UP, unit_id):
        raise Forbidden(
            f"role {actor.role.value} may not change this unit's follow-up plan",
            why="followup.forbidden",
        )


def follow_up_plan(
    session: Session, unit_id: int, period: Period, *, actor: Actor
) -> list[FollowUpItem]:
    """The unit's plan for exactly this period, by element (the whole service last), then in
    the order it was written."""
    _unit(session, unit_id, actor)
    rows = session.exec(
        select(FollowUpItem).where(
            FollowUpItem.unit_id == unit_id,
            FollowUpItem.period_start == period.start,
            FollowUpItem.period_end == period.end,
        )
    ).all()
    return sorted(rows, key=lambda r: (r.element is None, r.element or 0, r.id or 0))


def add_follow_up(
    session: Session,
    unit_id: int,
    period: Period,
    draft: FollowUpDraft,
    *,
    actor: Actor,
    now: datetime | None = None,
) -> FollowUpItem:
    """Add one row to the unit's plan for the period."""
    _unit(session, unit_id, actor)
    _require_planner(actor, unit_id)
    clean = _clean(draft)
    count = len(
        session.exec(
            select(col(FollowUpItem.id)).where(
                FollowUpItem.unit_id == unit_id,
                FollowUpItem.period_start == period.start,
                FollowUpItem.period_end == period.end,
            )
        ).all()
    )
    if count >= MAX_ITEMS:
        raise InvalidInput(
            f"a plan holds at most {MAX_ITEMS} rows", why="followup.full", max=MAX_ITEMS
        )
    now = now or utcnow()
    item = FollowUpItem(
        unit_id=unit_id,
        period_start=period.start,
        period_end=period.end,
        element=clean.element,
        action=clean.action,
        timeframe=clean.timeframe,
        responsible=clean.responsible,
        created_by=actor.user_id or None,
        created_at=now,
        updated_by=actor.user_id or None,
        updated_at=now,
    )
    session.add(item)
    session.flush()
    return item


def _item(session: Session, item_id: int, actor: Actor) -> FollowUpItem:
    item = session.get(FollowUpItem, item_id)
    if item is None or not actor.can_see_unit(item.unit_id):
        raise NotFound(f"follow-up item {item_id} does not exist")
    return item


def update_follow_up(
    session: Session,
    item_id: int,
    draft: FollowUpDraft,
    *,
    actor: Actor,
    now: datetime | None = None,
) -> FollowUpItem:
    item = _item(session, item_id, actor)
    _require_planner(actor, item.unit_id)
    clean = _clean(draft)
    item.element, item.action = clean.element, clean.action
    item.timeframe, item.responsible = clean.timeframe, clean.responsible
    item.updated_by, item.updated_at = actor.user_id or None, now or utcnow()
    session.add(item)
    session.flush()
    return item


def remove_follow_up(session: Session, item_id: int, *, actor: Actor) -> FollowUpItem:
    """Remove one row; returns it (its unit and period tell the caller where it was)."""
    item = _item(session, item_id, actor)
    _require_planner(actor, item.unit_id)
    session.delete(item)
    session.flush()
    return item
