"""Citizens as the bot knows them: Telegram id, language, privacy consent."""

from __future__ import annotations

from sqlalchemy import bindparam, delete, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from core.clock import utcnow
from core.models import Case, Citizen, ConversationState, Language, SurveyResponse

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


def erase_citizen(session: Session, citizen: Citizen) -> None:
    """Erase who the citizen is. Their survey answers stay, unlinked, for the statistics."""
    session.execute(
        update(SurveyResponse)
        .where(col(SurveyResponse.citizen_id) == citizen.id)
        .values(citizen_id=None, daily_key=None)
    )
    # Cases go on without a reporter: nobody can be told or asked about them any more.
    session.execute(update(Case).where(col(Case.citizen_id) == citizen.id).values(citizen_id=None))
    session.execute(
        delete(ConversationState).where(col(ConversationState.chat_id) == citizen.telegram_user_id)
    )
    session.delete(citizen)
    session.flush()
