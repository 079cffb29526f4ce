"""staff console: misdirected cases, LAPOR! tracking numbers, canned responses, inbox seen

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC = sqlmodel.sql.sqltypes.UTCDateTime


def upgrade() -> None:
    with op.batch_alter_table("cases") as batch_op:
        batch_op.add_column(sa.Column("misdirected_at", UTC(), nullable=True))
        batch_op.add_column(sa.Column("lapor_id", sa.String(length=40), nullable=True))
        batch_op.create_index("ix_cases_lapor_id", ["lapor_id"])
    with op.batch_alter_table("app_user") as batch_op:
        batch_op.add_column(sa.Column("inbox_seen_at", UTC(), nullable=True))
    op.create_table(
        "canned_response",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=30), nullable=False),
        sa.Column("title", sa.String(length=120), nullable=False),
        sa.Column("body_id", sa.Text(), nullable=False),
        sa.Column("body_en", sa.Text(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", UTC(), nullable=False),
        sa.Column("updated_at", UTC(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_canned_response")),
    )
    op.create_index(
        "ix_canned_response_action_active", "canned_response", ["action", "active"]
    )


def downgrade() -> None:
    op.drop_index("ix_canned_response_action_active", table_name="canned_response")
    op.drop_table("canned_response")
    with op.batch_alter_table("app_user") as batch_op:
        batch_op.drop_column("inbox_seen_at")
    with op.batch_alter_table("cases") as batch_op:
        batch_op.drop_index("ix_cases_lapor_id")
        batch_op.drop_column("lapor_id")
        batch_op.drop_column("misdirected_at")
