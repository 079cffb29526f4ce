"""app_user.notify_channel: staff may receive their alerts and digests by e-mail

Revision ID: 0024
Revises: 0023
Create Date: 2026-11-30

A staff account chooses where its new-complaint alerts, reminders and digests go: its
Telegram chat (as before, the default) or its e-mail address (a `contact` on the `email`
channel), sent through the office's SMTP server (core.outbox.addresses.staff_notice_address).
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0024"
down_revision: str | None = "0023"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "app_user",
        sa.Column(
            "notify_channel",
            sqlmodel.sql.sqltypes.AutoString(length=20),
            server_default="telegram",
            nullable=False,
        ),
    )


def downgrade() -> None:
    op.drop_column("app_user", "notify_channel")
