"""Citizens: known by their contacts (channel and address), language and privacy consent."""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, bindparam, delete, literal, update
from sqlalchemy import select as sa_select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.sql.elements import BindParameter
from sqlmodel import Session, col, select

from core.cases.models import Case, CaseStatus
from core.cases.service import reporter_erased
from core.cases.web_reports import forget_web_reports
from core.chat.inbox import forget_conversation
from core.chat.models import ConversationState
from core.chat.state import ChatState, state_from_row
from core.masterdata.models import DemoRecord
from core.outbox.service import forget_messages_to
from core.people.models import Address, Channel, Citizen, Contact, Language
from core.shared.clock import utcnow
from core.surveys.models import SurveyResponse, erased_respondent_key

_CHANNEL: BindParameter[str] = bindparam("channel")
_ADDRESS: BindParameter[str] = bindparam("address")
_OF_CITIZEN = and_(
    col(Contact.channel) == _CHANNEL,
    col(Contact.address) == _ADDRESS,
    col(Contact.citizen_id).is_not(None),
)
# Built once: every inbound message looks its citizen up.
_BY_CONTACT = (
    select(Citizen).join(Contact, col(Contact.citizen_id) == col(Citizen.id)).where(_OF_CITIZEN)
)
# The citizen (if any) and the conversation's state in one round trip.
_ANCHOR = select(literal(1).label("one")).subquery()
_CONVERSATION = (
    sa_select(
        Citizen,
        col(ConversationState.step),
        col(ConversationState.data),
        col(ConversationState.screen_message_id),
    )
    .select_from(_ANCHOR)
    .outerjoin(Contact, _OF_CITIZEN)
    .outerjoin(Citizen, col(Citizen.id) == col(Contact.citizen_id))
    .outerjoin(
        ConversationState,
        and_(
            col(ConversationState.channel) == _CHANNEL,
            col(ConversationState.address) == _ADDRESS,
        ),
    )
)


def _params(channel: Channel, address: str) -> dict[str, Any]:
    return {"channel": channel.value, "address": address}


def get_citizen(session: Session, channel: Channel, address: str) -> Citizen | None:
    return session.exec(_BY_CONTACT, params=_params(channel, address)).first()


def load_conversation(
    session: Session, channel: Channel, address: str
) -> tuple[Citizen | None, ChatState]:
    """The citizen behind a conversation (None before their first message) and its state."""
    row = session.execute(_CONVERSATION, _params(channel, address)).one()
    # The last answer is not read back: it is only ever written, to be given again to a
    # message delivered twice (conversations.flow reads it then, with load_state).
    citizen, step, data, screen = row
    return citizen, state_from_row(channel, address, step, data, screen)


def get_or_create_citizen(
    session: Session, channel: Channel, address: str, known: Citizen | None = None
) -> Citizen:
    """The citizen of this contact, created with the contact on their first message."""
    citizen = known or get_citizen(session, channel, address)
    if citizen is not None:
        return citizen
    citizen = Citizen()
    try:
        with session.begin_nested():
            session.add(citizen)
            session.flush()
            session.add(Contact(channel=channel.value, address=address, citizen_id=citizen.id))
    except IntegrityError:  # created by a concurrent message of the same person
        found = get_citizen(session, channel, address)
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
    """Erase who the citizen is. Their survey answers stay, unlinked, for the statistics,
    all under one new random respondent key: the officer scores' anti-gaming caps still count
    them as one person's, and nothing leads from them to the citizen's Telegram id or phone
    number, or to the answers the same person gives if they come back (the keyed hash of
    their identity, which the secret could confirm, goes). Their reports go on without them;
    their notifications (sent or not) and the raw Telegram updates still stored from their
    chat are deleted."""
    session.execute(
        update(SurveyResponse)
        .where(col(SurveyResponse.citizen_id) == citizen.id)
        .values(citizen_id=None, daily_key=None, respondent_key=erased_respondent_key())
    )
    # Cases go on without a reporter: nobody can be told or asked about them any more.
    waiting = session.exec(
        select(Case).where(
            Case.citizen_id == citizen.id, Case.status == CaseStatus.waiting_citizen.value
        )
    ).all()
    for case in waiting:
        reporter_erased(session, case)
    assert citizen.id is not None
    forget_web_reports(session, citizen.id)  # their follow-up codes stop working
    session.execute(update(Case).where(col(Case.citizen_id) == citizen.id).values(citizen_id=None))
    contacts = session.exec(select(Contact).where(Contact.citizen_id == citizen.id)).all()
    for contact in contacts:
        channel = Channel(contact.channel)
        session.execute(
            delete(ConversationState).where(
                col(ConversationState.channel) == channel.value,
                col(ConversationState.address) == contact.address,
            )
        )
        forget_messages_to(session, Address(channel, contact.address))
        forget_conversation(session, channel, contact.address)
    # One statement before the citizen's own row: deleted one by one, the unit of work may
    # delete the citizen first, its contacts go by the foreign key's cascade and the ORM
    # then warns that their DELETE matched nothing.
    session.execute(delete(Contact).where(col(Contact.citizen_id) == citizen.id))
    # A demo citizen's marker goes too: SQLite may give the id to the next real citizen, whom
    # `demo purge` must not take for demo data.
    session.execute(
        delete(DemoRecord).where(
            col(DemoRecord.kind) == "citizen", col(DemoRecord.record_id) == citizen.id
        )
    )
    session.delete(citizen)
    session.flush()
