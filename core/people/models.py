"""Tables and enums of people. Times are naive UTC."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import (
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    Text,
    text,
)
from sqlmodel import Field, SQLModel

from core.shared.clock import utcnow


class Role(StrEnum):
    admin = "admin"
    supervisor = "supervisor"
    unit_head = "unit_head"
    viewer = "viewer"
    officer = "officer"  # a front-line officer: only their own evaluation evidence


class Language(StrEnum):
    id = "id"
    en = "en"


class Channel(StrEnum):
    """How a person is reached: the channel of a contact, an outbox message, a conversation."""

    telegram = "telegram"  # address: the private chat id (a citizen's is their user id)
    whatsapp = "whatsapp"  # address: the phone number in international form
    email = "email"  # address: the e-mail address


class Intake(StrEnum):
    """Where a case or a survey response came in: a citizen's channel, or entered by staff
    from the counter, a phone call, a letter or a paper questionnaire."""

    telegram = "telegram"
    web = "web"
    whatsapp = "whatsapp"
    counter = "counter"
    phone = "phone"
    letter = "letter"
    paper = "paper"


@dataclass(frozen=True)
class Address:
    """Where a message goes: a channel and that channel's address."""

    channel: Channel
    address: str


class Citizen(SQLModel, table=True):
    """A citizen, known only by their contacts (`contact`), language and consent."""

    id: int | None = Field(default=None, primary_key=True)
    language: str = Field(default=Language.id.value, max_length=5)
    consent_at: datetime | None = None
    phone: str | None = Field(default=None, max_length=32)
    created_at: datetime = Field(default_factory=utcnow)


class AppUser(SQLModel, table=True):
    """An admin API account (table `app_user`: `user` is reserved in PostgreSQL)."""

    __tablename__ = "app_user"

    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=64, unique=True)
    password_hash: str = Field(max_length=255)
    role: str = Field(max_length=20)
    active: bool = True
    language: str = Field(default=Language.id.value, max_length=5)  # of digests and reminders
    # New-complaint alerts in Telegram (core.cases.alerts): on unless the account turned them
    # off; when last turned on (None: on from the start), so cases before it are not told.
    case_alerts: bool = Field(default=True, sa_column_kwargs={"server_default": text("true")})
    case_alerts_since: datetime | None = None
    display_name: str = Field(default="", max_length=200)
    # The officer (ASN) this account belongs to: cases naming that officer are hidden from it.
    officer_id: int | None = Field(default=None, foreign_key="officer.id", unique=True)
    # Raised on deactivation, password change and role or unit change: older tokens die.
    token_version: int = 0
    # The staff console's inbox marks cases received since this moment as new.
    inbox_seen_at: datetime | None = None
    created_at: datetime = Field(default_factory=utcnow)
    # Where its alerts, reminders and digests go (a Channel): its Telegram chat, or its e-mail
    # contact (core.outbox.addresses.staff_notice_address).
    notify_channel: str = Field(
        default="telegram", max_length=20, sa_column_kwargs={"server_default": "telegram"}
    )


class Contact(SQLModel, table=True):
    """A channel and address through which a citizen or a staff account is reached.

    An address on a channel belongs to at most one citizen (the conversation there is
    theirs) and at most one staff account (a unit head's Telegram chat for digests, linked
    with `/link`); the two may be the same person."""

    __tablename__ = "contact"
    __table_args__ = (
        CheckConstraint("(citizen_id IS NULL) <> (user_id IS NULL)", name="contact_one_owner"),
        Index(
            "ix_contact_citizen_address",
            "channel",
            "address",
            unique=True,
            # An e-mail address may be left with several web reports, each its own citizen.
            sqlite_where=text("citizen_id IS NOT NULL AND channel <> 'email'"),
            postgresql_where=text("citizen_id IS NOT NULL AND channel <> 'email'"),
        ),
        Index(
            "ix_contact_user_address",
            "channel",
            "address",
            unique=True,
            sqlite_where=text("user_id IS NOT NULL"),
            postgresql_where=text("user_id IS NOT NULL"),
        ),
        Index("ix_contact_user_id_channel", "user_id", "channel"),
        Index("ix_contact_citizen_id", "citizen_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    channel: str = Field(max_length=20)  # a Channel
    address: str = Field(max_length=320)
    citizen_id: int | None = Field(
        default=None, sa_column=Column(ForeignKey("citizen.id", ondelete="CASCADE"))
    )
    user_id: int | None = Field(
        default=None, sa_column=Column(ForeignKey("app_user.id", ondelete="CASCADE"))
    )
    created_at: datetime = Field(default_factory=utcnow)


class UserUnit(SQLModel, table=True):
    """The units a non-admin user may see and act on."""

    __tablename__ = "user_unit"

    user_id: int = Field(
        sa_column=Column(ForeignKey("app_user.id", ondelete="CASCADE"), primary_key=True)
    )
    unit_id: int = Field(
        sa_column=Column(ForeignKey("unit.id", ondelete="CASCADE"), primary_key=True)
    )


class LinkCode(SQLModel, table=True):
    """A one-time code that links a staff account to a Telegram chat (`/link CODE`): the
    chat becomes the account's Telegram contact."""

    __tablename__ = "link_code"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="app_user.id", index=True)
    code_hash: str = Field(max_length=64, unique=True)  # sha256: the code itself is not kept
    expires_at: datetime
    used_at: datetime | None = None
    created_by: int | None = Field(default=None, foreign_key="app_user.id")
    created_at: datetime = Field(default_factory=utcnow)


class AuditAction(StrEnum):
    """What `access_audit` records: reading sensitive cases and every change to an account."""

    case_read_confidential = "case_read_confidential"  # opened a `rahasia` case
    case_read_reporter = "case_read_reporter"  # opened a case page showing the reporter
    user_created = "user_created"
    user_role_changed = "user_role_changed"
    user_units_changed = "user_units_changed"
    user_deactivated = "user_deactivated"
    user_reactivated = "user_reactivated"
    user_password_reset = "user_password_reset"  # noqa: S105
    user_password_changed = "user_password_changed"  # noqa: S105
    user_unlocked = "user_unlocked"
    user_officer_linked = "user_officer_linked"
    user_changed = "user_changed"  # display name, language and other details
    # Wrong passwords for one username from many addresses (core.people.login_limits); not a lock.
    login_alert = "login_alert"


class AccessAudit(SQLModel, table=True):
    """Append-only: who read what sensitive, and who changed which account, when."""

    __tablename__ = "access_audit"
    __table_args__ = (Index("ix_access_audit_action_at", "action", "at"),)

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, index=True)
    actor_user_id: int | None = Field(default=None, foreign_key="app_user.id")
    action: str = Field(max_length=40)
    target_kind: str = Field(max_length=20)  # case, user
    target_id: int | None = None
    detail: str | None = Field(default=None, sa_type=Text)


class LoginThrottle(SQLModel, table=True):
    """Wrong admin API passwords of one username from one client address (an IPv6 address
    counts by its /64), shared by every API worker: see core.people.login_limits."""

    __tablename__ = "login_throttle"
    __table_args__ = (Index("ix_login_throttle_address_updated_at", "address", "updated_at"),)

    username: str = Field(max_length=64, primary_key=True)
    address: str = Field(max_length=64, primary_key=True)
    # Tries in this streak, counted when a try starts (so concurrent ones are counted too);
    # the right password deletes the row.
    failures: int = 0
    locked_until: datetime | None = None  # no try before then
    updated_at: datetime = Field(default_factory=utcnow, index=True)  # the last try


class StaffSession(SQLModel, table=True):
    """A signed-in browser of the staff console. The cookie holds a random token; only its
    hash is kept. It ends at logout, after the idle time, and as soon as the account's
    `token_version` moves (deactivation, password, role or unit change)."""

    __tablename__ = "staff_session"

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True)  # sha256 of the cookie's token
    user_id: int = Field(
        sa_column=Column(ForeignKey("app_user.id", ondelete="CASCADE"), nullable=False, index=True)
    )
    token_version: int  # the account's, when the session began
    csrf_token: str = Field(max_length=64)  # every form and HTMX request carries it
    created_at: datetime = Field(default_factory=utcnow)
    last_seen_at: datetime = Field(default_factory=utcnow, index=True)
