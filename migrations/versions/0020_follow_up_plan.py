"""follow_up_item: a unit's follow-up plan (rencana tindak lanjut) per survey period

Revision ID: 0020
Revises: 0019
Create Date: 2026-11-30

The last table of the SKM report of PermenPANRB 14/2017: per element, what the unit will do,
when and who answers for it (core.surveys.followup).
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC = sqlmodel.sql.sqltypes.UTCDateTime


def upgrade() -> None:
    op.create_table(
        "follow_up_item",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("period_end", sa.Date(), nullable=False),
        sa.Column("element", sa.SmallInteger(), nullable=True),
        sa.Column("action", sa.Text(), nullable=False),
        sa.Column("timeframe", sa.String(length=100), nullable=False),
        sa.Column("responsible", sa.String(length=200), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", UTC(), nullable=False),
        sa.Column("updated_by", sa.Integer(), nullable=True),
        sa.Column("updated_at", UTC(), nullable=False),
        sa.CheckConstraint(
            "element IS NULL OR element BETWEEN 1 AND 9",
            name=op.f("ck_follow_up_item_element_range"),
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["unit.id"], name=op.f("fk_follow_up_item_unit_id_unit")
        ),
        sa.ForeignKeyConstraint(
            ["created_by"], ["app_user.id"], name=op.f("fk_follow_up_item_created_by_app_user")
        ),
        sa.ForeignKeyConstraint(
            ["updated_by"], ["app_user.id"], name=op.f("fk_follow_up_item_updated_by_app_user")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_follow_up_item")),
    )
    op.create_index(
        "ix_follow_up_item_unit_period",
        "follow_up_item",
        ["unit_id", "period_start", "period_end"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_follow_up_item_unit_period", table_name="follow_up_item")
    op.drop_table("follow_up_item")
