"""demo_record and bot_identity: what the demo data made, and who the bot really is

Revision ID: 0019
Revises: 0018
Create Date: 2026-11-30

`demo_record` lists the rows `seed-demo` made, so that `demo purge` removes exactly those
(core.demo); `bot_identity` keeps what Telegram's getMe told the bot process at its last
start, so that QR printing can tell whether PUBLIC_BOT_USERNAME is really this bot
(core.masterdata.bot_identity).
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC = sqlmodel.sql.sqltypes.UTCDateTime


def upgrade() -> None:
    op.create_table(
        "demo_record",
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("record_id", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("kind", "record_id", name=op.f("pk_demo_record")),
    )
    op.create_table(
        "bot_identity",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("telegram_id", sa.BigInteger(), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("first_name", sa.String(length=200), nullable=False),
        sa.Column("recorded_at", UTC(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bot_identity")),
    )


def downgrade() -> None:
    op.drop_table("bot_identity")
    op.drop_table("demo_record")
