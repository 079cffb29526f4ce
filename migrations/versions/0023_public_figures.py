"""public_figures: the snapshot of the public transparency page and its open data

Revision ID: 0023
Revises: 0022
Create Date: 2026-11-30

One row per scope (the periods and units, each period's table of units, each unit's detail,
the open data, the Open311 services): a JSON document computed from aggregates by
core.transparency.snapshot.refresh_public_figures, which the public pages read.
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0023"
down_revision: str | None = "0022"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC = sqlmodel.sql.sqltypes.UTCDateTime


def upgrade() -> None:
    op.create_table(
        "public_figures",
        sa.Column("scope", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("computed_at", UTC(), nullable=False),
        sa.PrimaryKeyConstraint("scope", name=op.f("pk_public_figures")),
    )


def downgrade() -> None:
    op.drop_table("public_figures")
