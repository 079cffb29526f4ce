"""conversation_state keeps the answer to its last message

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-30

A message delivered again after a crash between committing its effects and sending its
answer is answered again from `reply` (conversations.flow).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("conversation_state") as batch_op:
        batch_op.add_column(sa.Column("reply_to", sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column("reply", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("conversation_state") as batch_op:
        batch_op.drop_column("reply")
        batch_op.drop_column("reply_to")
