"""Holding an incomplete report ("tunda", SP4N-LAPOR!): before verification, ask the reporter
for what is missing; the verification clock pauses until they answer (core.cases.lifecycle
`hold`). A route of the cases resource, beside the other transitions."""

from __future__ import annotations

from fastapi import APIRouter

from admin_api.deps import CurrentActor, PoliciesDep, SessionDep
from admin_api.routes_cases import QuestionIn, TransitionOut, _transition
from core.cases import service as svc

router = APIRouter(tags=["cases"])


@router.post("/cases/{case_id}/hold", response_model=TransitionOut)
def hold_case(
    actor: CurrentActor, session: SessionDep, policies: PoliciesDep, case_id: int, body: QuestionIn
) -> TransitionOut:
    """received -> waiting_citizen: the report lacks something; the citizen is asked
    (`question`) and the verification clock pauses. Their answer brings it back to
    verification with its deadlines moved by the time it waited."""
    now = policies.now()
    return _transition(
        session, actor, case_id, now,
        lambda c: svc.hold(session, c, body.question, actor=actor, now=now),
    )  # fmt: skip
