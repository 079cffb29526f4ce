"""web_report: complaints filed on the public web site; e-mail contacts per report

Revision ID: 0022
Revises: 0021
Create Date: 2026-11-30

A web complaint's reporter follows it with its reference and a follow-up code, kept only as
a keyed hash in `web_report` with the keyed hash of the device that filed it (the daily limit
counts per device). Each web report has a citizen of its own, and one e-mail address may be
left with several: the unique index of citizens' addresses leaves e-mail out.
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0022"
down_revision: str | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_CITIZENS = "citizen_id IS NOT NULL"
_CITIZENS_BUT_EMAIL = "citizen_id IS NOT NULL AND channel <> 'email'"


def _citizen_address_index(where: str) -> None:
    op.drop_index("ix_contact_citizen_address", table_name="contact")
    op.create_index(
        "ix_contact_citizen_address",
        "contact",
        ["channel", "address"],
        unique=True,
        sqlite_where=sa.text(where),
        postgresql_where=sa.text(where),
    )


def upgrade() -> None:
    op.create_table(
        "web_report",
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("code_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("device_key", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("locked_until", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name=op.f("fk_web_report_case_id_cases")),
        sa.PrimaryKeyConstraint("case_id", name=op.f("pk_web_report")),
    )
    op.create_index("ix_web_report_device_created", "web_report", ["device_key", "created_at"])
    _citizen_address_index(_CITIZENS_BUT_EMAIL)


def downgrade() -> None:
    op.execute(
        "DELETE FROM contact WHERE channel = 'email' AND citizen_id IS NOT NULL AND id NOT IN "
        "(SELECT MIN(id) FROM contact WHERE channel = 'email' AND citizen_id IS NOT NULL "
        "GROUP BY address)"
    )
    _citizen_address_index(_CITIZENS)
    op.drop_index("ix_web_report_device_created", table_name="web_report")
    op.drop_table("web_report")
