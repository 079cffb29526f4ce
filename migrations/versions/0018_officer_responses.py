"""officer_evaluation: the officer's own written response to the evidence

Revision ID: 0018
Revises: 0017
Create Date: 2026-11-30

An officer whose staff account is linked to their NIP reads the evidence about themselves
in an open period and may answer it in writing (core.evaluations.own); the assessor sees
the answer beside the suggestion, the period's audit keeps every version, the export
carries the last one.
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Plain ADD COLUMN on both engines (a batch would copy the table on SQLite, which the
    # foreign keys of evaluation_event forbid).
    op.add_column("officer_evaluation", sa.Column("officer_response", sa.Text(), nullable=True))
    op.add_column(
        "officer_evaluation",
        sa.Column("officer_response_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    )


def downgrade() -> None:
    op.drop_column("officer_evaluation", "officer_response_at")
    op.drop_column("officer_evaluation", "officer_response")
