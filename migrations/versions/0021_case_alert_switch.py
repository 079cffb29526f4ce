"""app_user.case_alerts: the account's switch of new-complaint alerts

Revision ID: 0021
Revises: 0020
Create Date: 2026-11-30

Supervisors and unit heads hear of new complaints in Telegram (core.cases.alerts) unless
they turn it off; `case_alerts_since` is when it was last turned on, so the cases received
while it was off are not told afterwards. Accounts start with the alerts on.
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "app_user",
        sa.Column("case_alerts", sa.Boolean(), server_default=sa.text("true"), nullable=False),
    )
    op.add_column(
        "app_user",
        sa.Column("case_alerts_since", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    )


def downgrade() -> None:
    op.drop_column("app_user", "case_alerts_since")
    op.drop_column("app_user", "case_alerts")
