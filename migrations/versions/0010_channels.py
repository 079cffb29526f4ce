"""channels: citizens and staff reached through contacts; outbox, attachments, inbound
messages and conversations keyed by channel

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-29

Before, the data model was Telegram's: `citizen.telegram_user_id`, `app_user.telegram_chat_id`,
`outbound_message.chat_id`, `attachment.telegram_file_id`, `conversation_state.chat_id`,
`inbound_update` / `processed_update` keyed by Telegram's update id. Now:

- `contact` (channel, address) belongs to a citizen or a staff account; every citizen's
  Telegram id and every linked staff chat becomes a `telegram` contact.
- `cases.channel` records where a case came in (`telegram` for every existing case);
  `survey_response.channel` already did.
- `outbound_message` is addressed by `channel` + `address`; Telegram's message id becomes
  `external_id` (text).
- `attachment` has a `source` channel and a `reference` (the Telegram file id).
- `conversation_state` is keyed by (`channel`, `address`); `message_id` becomes
  `screen_message_id` (text).
- `inbound_message` and `processed_message` replace `inbound_update` and `processed_update`,
  keyed by (`channel`, `message_id` as text); stored updates keep their arrival order (`id`)
  and get the chat they came from as `address`, so erasure finds them.

SQLite rebuilds `citizen`, `cases`, `outbound_message` and `attachment` with foreign keys off
and checks them before committing (core.shared.migrate).
"""

import json
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC = sqlmodel.sql.sqltypes.UTCDateTime
Text20 = sa.String(length=20)


def _chat_of(raw: Any) -> str | None:
    """The chat a stored Telegram update came from (as bot.inbox.chat_of)."""
    if not isinstance(raw, dict):
        return None
    for key in ("message", "edited_message", "channel_post", "edited_channel_post"):
        message = raw.get(key)
        if isinstance(message, dict) and isinstance(message.get("chat"), dict):
            return str(message["chat"].get("id"))
    query = raw.get("callback_query")
    if isinstance(query, dict):
        message = query.get("message")
        if isinstance(message, dict) and isinstance(message.get("chat"), dict):
            return str(message["chat"].get("id"))
        if isinstance(query.get("from"), dict):
            return str(query["from"].get("id"))
    return None


def upgrade() -> None:
    bind = op.get_bind()
    postgres = bind.dialect.name == "postgresql"

    # Contacts -------------------------------------------------------------------------
    op.create_table(
        "contact",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("address", sa.String(length=320), nullable=False),
        sa.Column("citizen_id", sa.Integer(), nullable=True),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("created_at", UTC(), nullable=False),
        sa.CheckConstraint(
            "(citizen_id IS NULL) <> (user_id IS NULL)", name=op.f("ck_contact_contact_one_owner")
        ),
        sa.ForeignKeyConstraint(
            ["citizen_id"], ["citizen.id"], name=op.f("fk_contact_citizen_id_citizen"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["app_user.id"], name=op.f("fk_contact_user_id_app_user"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contact")),
    )  # fmt: skip
    with op.batch_alter_table("contact") as batch_op:
        for name, owner in (("citizen", "citizen_id"), ("user", "user_id")):
            batch_op.create_index(
                f"ix_contact_{name}_address",
                ["channel", "address"],
                unique=True,
                sqlite_where=sa.text(f"{owner} IS NOT NULL"),
                postgresql_where=sa.text(f"{owner} IS NOT NULL"),
            )
        batch_op.create_index("ix_contact_user_id_channel", ["user_id", "channel"])
        batch_op.create_index("ix_contact_citizen_id", ["citizen_id"])
    op.execute(
        "INSERT INTO contact (channel, address, citizen_id, created_at)"
        " SELECT 'telegram', CAST(telegram_user_id AS VARCHAR(320)), id, created_at"
        " FROM citizen ORDER BY id"
    )
    op.execute(
        "INSERT INTO contact (channel, address, user_id, created_at)"
        " SELECT 'telegram', CAST(telegram_chat_id AS VARCHAR(320)), id, created_at"
        " FROM app_user WHERE telegram_chat_id IS NOT NULL ORDER BY id"
    )
    with op.batch_alter_table("citizen") as batch_op:
        batch_op.drop_constraint("uq_citizen_telegram_user_id", type_="unique")
        batch_op.drop_column("telegram_user_id")
    with op.batch_alter_table("app_user") as batch_op:
        batch_op.drop_column("telegram_chat_id")

    # Where a case came in ----------------------------------------------------------------
    with op.batch_alter_table("cases") as batch_op:
        batch_op.add_column(sa.Column("channel", Text20, nullable=False, server_default="telegram"))
    with op.batch_alter_table("cases") as batch_op:
        batch_op.alter_column("channel", server_default=None)

    # The outbox --------------------------------------------------------------------------
    with op.batch_alter_table("outbound_message") as batch_op:
        batch_op.add_column(sa.Column("channel", Text20, nullable=True))
        batch_op.add_column(sa.Column("address", sa.String(length=320), nullable=True))
        batch_op.add_column(sa.Column("external_id", sa.String(length=100), nullable=True))
    op.execute(
        "UPDATE outbound_message SET channel = 'telegram',"
        " address = CAST(chat_id AS VARCHAR(320)),"
        " external_id = CAST(telegram_message_id AS VARCHAR(100))"
    )
    with op.batch_alter_table("outbound_message") as batch_op:
        batch_op.drop_index("ix_outbound_message_chat_id_status_id")
        batch_op.alter_column("channel", existing_type=Text20, nullable=False)
        batch_op.alter_column("address", existing_type=sa.String(length=320), nullable=False)
        batch_op.drop_column("chat_id")
        batch_op.drop_column("telegram_message_id")
        batch_op.create_index(
            "ix_outbound_message_address_status_id", ["channel", "address", "status", "id"]
        )

    # Attachments -------------------------------------------------------------------------
    with op.batch_alter_table("attachment") as batch_op:
        batch_op.add_column(sa.Column("source", Text20, nullable=True))
        batch_op.add_column(sa.Column("reference", sa.String(length=255), nullable=True))
    op.execute("UPDATE attachment SET source = 'telegram', reference = telegram_file_id")
    with op.batch_alter_table("attachment") as batch_op:
        batch_op.alter_column("source", existing_type=Text20, nullable=False)
        batch_op.alter_column("reference", existing_type=sa.String(length=255), nullable=False)
        batch_op.drop_column("telegram_file_id")

    # Conversations -----------------------------------------------------------------------
    op.rename_table("conversation_state", "conversation_state_0009")
    if postgres:
        op.execute(
            "ALTER TABLE conversation_state_0009"
            " RENAME CONSTRAINT pk_conversation_state TO pk_conversation_state_0009"
        )
    op.create_table(
        "conversation_state",
        sa.Column("channel", Text20, nullable=False),
        sa.Column("address", sa.String(length=320), nullable=False),
        sa.Column("step", sa.String(length=40), nullable=False),
        sa.Column("data", sa.Text(), nullable=False),
        sa.Column("screen_message_id", sa.String(length=100), nullable=True),
        sa.Column("updated_at", UTC(), nullable=False),
        sa.PrimaryKeyConstraint("channel", "address", name=op.f("pk_conversation_state")),
    )
    op.execute(
        "INSERT INTO conversation_state"
        " (channel, address, step, data, screen_message_id, updated_at)"
        " SELECT 'telegram', CAST(chat_id AS VARCHAR(320)), step, data,"
        " CAST(message_id AS VARCHAR(100)), updated_at FROM conversation_state_0009"
    )
    op.drop_table("conversation_state_0009")

    # Inbound messages --------------------------------------------------------------------
    op.create_table(
        "processed_message",
        sa.Column("channel", Text20, nullable=False),
        sa.Column("message_id", sa.String(length=100), nullable=False),
        sa.Column("processed_at", UTC(), nullable=False),
        sa.PrimaryKeyConstraint("channel", "message_id", name=op.f("pk_processed_message")),
    )
    op.create_index("ix_processed_message_processed_at", "processed_message", ["processed_at"])
    op.execute(
        "INSERT INTO processed_message (channel, message_id, processed_at)"
        " SELECT 'telegram', CAST(update_id AS VARCHAR(100)), processed_at FROM processed_update"
    )
    op.create_table(
        "inbound_message",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("channel", Text20, nullable=False),
        sa.Column("message_id", sa.String(length=100), nullable=False),
        sa.Column("address", sa.String(length=320), nullable=True),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("received_at", UTC(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inbound_message")),
    )
    op.create_index(
        "ix_inbound_message_channel_message_id",
        "inbound_message",
        ["channel", "message_id"],
        unique=True,
    )
    op.create_index("ix_inbound_message_channel_address", "inbound_message", ["channel", "address"])
    op.create_index("ix_inbound_message_received_at", "inbound_message", ["received_at"])
    stored = bind.execute(
        sa.text("SELECT update_id, payload, received_at FROM inbound_update ORDER BY update_id")
    ).all()
    for update_id, payload, received_at in stored:  # in arrival order, with their chat
        try:
            address = _chat_of(json.loads(payload))
        except ValueError:
            address = None
        bind.execute(
            sa.text(
                "INSERT INTO inbound_message (channel, message_id, address, payload, received_at)"
                " VALUES ('telegram', :message_id, :address, :payload, :received_at)"
            ),
            {
                "message_id": str(update_id),
                "address": address,
                "payload": payload,
                "received_at": received_at,
            },
        )
    op.drop_table("inbound_update")
    op.drop_table("processed_update")


def downgrade() -> None:
    """Back to Telegram's keys; what only another channel could hold is dropped."""
    bind = op.get_bind()
    postgres = bind.dialect.name == "postgresql"
    numeric = "address ~ '^-?[0-9]+$'" if postgres else "address NOT GLOB '*[^0-9-]*'"
    telegram = f"channel = 'telegram' AND {numeric}"

    op.create_table(
        "processed_update",
        sa.Column("update_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("processed_at", UTC(), nullable=False),
        sa.PrimaryKeyConstraint("update_id", name=op.f("pk_processed_update")),
    )
    op.create_index("ix_processed_update_processed_at", "processed_update", ["processed_at"])
    op.execute(
        "INSERT INTO processed_update (update_id, processed_at)"
        " SELECT CAST(message_id AS BIGINT), processed_at FROM processed_message"
        " WHERE channel = 'telegram'"
    )
    op.create_table(
        "inbound_update",
        sa.Column("update_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("received_at", UTC(), nullable=False),
        sa.PrimaryKeyConstraint("update_id", name=op.f("pk_inbound_update")),
    )
    op.create_index("ix_inbound_update_received_at", "inbound_update", ["received_at"])
    op.execute(
        "INSERT INTO inbound_update (update_id, payload, received_at)"
        " SELECT CAST(message_id AS BIGINT), payload, received_at FROM inbound_message"
        " WHERE channel = 'telegram'"
    )
    op.drop_table("inbound_message")
    op.drop_table("processed_message")

    op.rename_table("conversation_state", "conversation_state_0010")
    if postgres:
        op.execute(
            "ALTER TABLE conversation_state_0010"
            " RENAME CONSTRAINT pk_conversation_state TO pk_conversation_state_0010"
        )
    op.create_table(
        "conversation_state",
        sa.Column("chat_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("step", sa.String(length=40), nullable=False),
        sa.Column("data", sa.Text(), nullable=False),
        sa.Column("message_id", sa.BigInteger(), nullable=True),
        sa.Column("updated_at", UTC(), nullable=False),
        sa.PrimaryKeyConstraint("chat_id", name=op.f("pk_conversation_state")),
    )
    op.execute(
        "INSERT INTO conversation_state (chat_id, step, data, message_id, updated_at)"
        " SELECT CAST(address AS BIGINT), step, data, NULL, updated_at"
        f" FROM conversation_state_0010 WHERE {telegram}"
    )
    op.drop_table("conversation_state_0010")

    with op.batch_alter_table("attachment") as batch_op:
        batch_op.add_column(sa.Column("telegram_file_id", sa.String(length=255), nullable=True))
    op.execute("UPDATE attachment SET telegram_file_id = reference")
    with op.batch_alter_table("attachment") as batch_op:
        batch_op.alter_column("telegram_file_id", existing_type=sa.String(255), nullable=False)
        batch_op.drop_column("reference")
        batch_op.drop_column("source")

    op.execute(f"DELETE FROM outbound_message WHERE NOT ({telegram})")
    with op.batch_alter_table("outbound_message") as batch_op:
        batch_op.add_column(sa.Column("chat_id", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("telegram_message_id", sa.BigInteger(), nullable=True))
    op.execute("UPDATE outbound_message SET chat_id = CAST(address AS BIGINT)")
    external = (
        "external_id ~ '^[0-9]+$'"
        if postgres
        else "external_id NOT GLOB '*[^0-9]*' AND external_id <> ''"
    )
    op.execute(
        "UPDATE outbound_message SET telegram_message_id = CAST(external_id AS BIGINT)"
        f" WHERE {external}"  # noqa: S608 (no input: one of two constants)
    )
    with op.batch_alter_table("outbound_message") as batch_op:
        batch_op.drop_index("ix_outbound_message_address_status_id")
        batch_op.alter_column("chat_id", existing_type=sa.BigInteger(), nullable=False)
        batch_op.drop_column("external_id")
        batch_op.drop_column("address")
        batch_op.drop_column("channel")
        batch_op.create_index("ix_outbound_message_chat_id_status_id", ["chat_id", "status", "id"])

    with op.batch_alter_table("cases") as batch_op:
        batch_op.drop_column("channel")

    with op.batch_alter_table("app_user") as batch_op:
        batch_op.add_column(sa.Column("telegram_chat_id", sa.BigInteger(), nullable=True))
    op.execute(
        "UPDATE app_user SET telegram_chat_id = (SELECT CAST(c.address AS BIGINT) FROM contact c"
        f" WHERE c.user_id = app_user.id AND c.{telegram} ORDER BY c.id DESC LIMIT 1)"
    )
    with op.batch_alter_table("citizen") as batch_op:
        batch_op.add_column(sa.Column("telegram_user_id", sa.BigInteger(), nullable=True))
    op.execute(
        "UPDATE citizen SET telegram_user_id = (SELECT CAST(c.address AS BIGINT) FROM contact c"
        f" WHERE c.citizen_id = citizen.id AND c.{telegram} ORDER BY c.id LIMIT 1)"
    )
    # A citizen reached only through another channel cannot be kept at 0009.
    op.execute("UPDATE survey_response SET citizen_id = NULL WHERE citizen_id IN"
               " (SELECT id FROM citizen WHERE telegram_user_id IS NULL)")  # fmt: skip
    op.execute("UPDATE cases SET citizen_id = NULL WHERE citizen_id IN"
               " (SELECT id FROM citizen WHERE telegram_user_id IS NULL)")  # fmt: skip
    op.execute("DELETE FROM citizen WHERE telegram_user_id IS NULL")
    with op.batch_alter_table("citizen") as batch_op:
        batch_op.alter_column("telegram_user_id", existing_type=sa.BigInteger(), nullable=False)
        batch_op.create_unique_constraint("uq_citizen_telegram_user_id", ["telegram_user_id"])
    op.drop_table("contact")
