"""Citizens as the bot knows them: Telegram id, language, privacy consent."""

from __future__ import annotations

from sqlalchemy import bindparam, delete, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from core.cases.models import Case, CaseStatus
from core.cases.service import reporter_erased
from core.chat.inbox import forget_chat
from core.chat.models import ConversationState
from core.outbox.service import forget_citizen_messages
from core.people.models import Citizen, Language
from core.shared.clock import utcnow
from core.surveys.models import SurveyResponse

# Built once: every update the bot handles looks its citizen up.
_BY_TELEGRAM_ID = select(Citizen).where(Citizen.telegram_user_id == bindparam("telegram_user_id"))


def get_citizen(session: Session, telegram_user_id: int) -> Citizen | None:
    return session.exec(_BY_TELEGRAM_ID, params={"telegram_user_id": telegram_user_id}).first()


def get_or_create_citizen(session: Session, telegram_user_id: int) -> Citizen:
    citizen = get_citizen(session, telegram_user_id)
    if citizen is not None:
        return citizen
    citizen = Citizen(telegram_user_id=telegram_user_id)
    try:
        with session.begin_nested():
            session.add(citizen)
    except IntegrityError:  # created by a concurrent update of the same user
        found = get_citizen(session, telegram_user_id)
        assert found is not None
        return found
    return citizen


def set_language(session: Session, citizen: Citizen, language: Language) -> None:
    citizen.language = language.value
    session.add(citizen)


def give_consent(session: Session, citizen: Citizen) -> None:
    if citizen.consent_at is None:
        citizen.consent_at = utcnow()
        session.add(citizen)


# Reports still being worked on (or awaiting the reporter's rating): erasing cuts the reporter
# off from them, which the citizen is told before they confirm.
_UNFINISHED = (CaseStatus.closed.value, CaseStatus.rejected.value)


def unfinished_reports(session: Session, citizen: Citizen) -> list[str]:
    """References of the citizen's reports that are not closed or rejected, oldest first."""
    return list(
        session.exec(
            select(Case.reference)
            .where(Case.citizen_id == citizen.id, col(Case.status).not_in(_UNFINISHED))
            .order_by(col(Case.received_at), col(Case.id))
        ).all()
    )


def erase_citizen(session: Session, citizen: Citizen) -> None:
    """Erase who the citizen is. Their survey answers stay, unlinked, for the statistics;
    their reports go on without them; their notifications (sent or not) and the raw
    Telegram updates still stored from their chat are deleted."""
    session.execute(
        update(SurveyResponse)
        .where(col(SurveyResponse.citizen_id) == citizen.id)
        .values(citizen_id=None, daily_key=None)
    )
    # Cases go on without a reporter: nobody can be told or asked about them any more.
    waiting = session.exec(
        select(Case).where(
            Case.citizen_id == citizen.id, Case.status == CaseStatus.waiting_citizen.value
        )
    ).all()
    for case in waiting:
        reporter_erased(session, case)
    session.execute(update(Case).where(col(Case.citizen_id) == citizen.id).values(citizen_id=None))
    chat_id = citizen.telegram_user_id  # a private chat's id is its user's id
    session.execute(delete(ConversationState).where(col(ConversationState.chat_id) == chat_id))
    forget_citizen_messages(session, chat_id)
    forget_chat(session, chat_id)
    session.delete(citizen)
    session.flush()
