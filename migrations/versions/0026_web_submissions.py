"""web_report.submission_key: one web form files one report

Revision ID: 0026
Revises: 0025
Create Date: 2026-11-30

The same form sent twice (a double tap on a slow phone, a reload, two worker processes each
taking one of the posts) must file one report: each web report keeps the keyed hash of the
device and the form's random id, unique.
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0026"
down_revision: str | None = "0025"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "web_report",
        sa.Column("submission_key", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    )
    op.create_index(
        "ix_web_report_submission_key", "web_report", ["submission_key"], unique=True
    )


def downgrade() -> None:
    op.drop_index("ix_web_report_submission_key", table_name="web_report")
    op.drop_column("web_report", "submission_key")
