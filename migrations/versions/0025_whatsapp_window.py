"""WhatsApp: the 24-hour window per conversation, delivery statuses on outbox rows

Revision ID: 0025
Revises: 0024
Create Date: 2026-11-30

`conversation_state.last_inbound_at`: when the citizen last wrote (core.chat.window): within
24 hours free-form messages may go out on WhatsApp, after it only approved templates.
`outbound_message.delivery_status` / `delivery_status_at`: what WhatsApp's webhook last said
about a sent message (sent, delivered, read, failed) and when (whatsapp.statuses), found by
`(channel, external_id)`.
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0025"
down_revision: str | None = "0024"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "conversation_state",
        sa.Column("last_inbound_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    )
    op.add_column(
        "outbound_message",
        sa.Column("delivery_status", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=True),
    )
    op.add_column(
        "outbound_message",
        sa.Column("delivery_status_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    )
    op.create_index(
        "ix_outbound_message_channel_external_id",
        "outbound_message",
        ["channel", "external_id"],
    )


def downgrade() -> None:
    op.drop_index("ix_outbound_message_channel_external_id", table_name="outbound_message")
    with op.batch_alter_table("outbound_message") as batch:
        batch.drop_column("delivery_status_at")
        batch.drop_column("delivery_status")
    with op.batch_alter_table("conversation_state") as batch:
        batch.drop_column("last_inbound_at")
