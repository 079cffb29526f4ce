"""closed_day: the office's own closed days for the SLA clock

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-30

Days the office is closed besides the national calendar (regional holidays, office
closures), kept with who added and who removed them (core.cases.calendar).
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC = sqlmodel.sql.sqltypes.UTCDateTime


def upgrade() -> None:
    op.create_table(
        "closed_day",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("description", sa.String(length=200), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", UTC(), nullable=False),
        sa.Column("removed_by_id", sa.Integer(), nullable=True),
        sa.Column("removed_at", UTC(), nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["app_user.id"], name=op.f("fk_closed_day_created_by_id_app_user")
        ),
        sa.ForeignKeyConstraint(
            ["removed_by_id"], ["app_user.id"], name=op.f("fk_closed_day_removed_by_id_app_user")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_closed_day")),
    )
    op.create_index(
        "ix_closed_day_day_standing",
        "closed_day",
        ["day"],
        unique=True,
        sqlite_where=sa.text("removed_at IS NULL"),
        postgresql_where=sa.text("removed_at IS NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_closed_day_day_standing", table_name="closed_day")
    op.drop_table("closed_day")
