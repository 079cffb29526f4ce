"""evaluation reasons: a reason code plus its figures, rendered per language on reading

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-29

`officer_evaluation.suggestion_reason` (id) and `suggestion_reason_en` (en) become
`suggestion_reason_code` and `suggestion_reason_params` (JSON). Every figure of the old text is
in the row's own snapshot (survey_n, score, score_low, score_high, unit_mean, insufficient,
complaints_substantiated), so existing rows get their code and figures from those columns and
render exactly as before (core.evaluations.rules.render_reason).

SQLite: the table is altered in place (ALTER TABLE ADD/DROP COLUMN, SQLite 3.35+), never
rebuilt: dropping `officer_evaluation` to rebuild it fails while `evaluation_event` rows refer to
it (foreign keys are on, and the migration runs in one transaction where they cannot be turned
off). So on SQLite the two new columns keep the server defaults they were added with (a NOT
NULL column needs one); the code always writes both.
"""

import json
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlmodel.sql.sqltypes import AutoString

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The shape of every reason written before this revision (core.evaluations.rules.ReasonCode).
EVIDENCE = "evidence"

ROWS = sa.table(
    "officer_evaluation",
    sa.column("id", sa.Integer()),
    sa.column("survey_n", sa.Integer()),
    sa.column("score", sa.Float()),
    sa.column("score_low", sa.Float()),
    sa.column("score_high", sa.Float()),
    sa.column("unit_mean", sa.Float()),
    sa.column("insufficient", sa.Boolean()),
    sa.column("complaints_substantiated", sa.Integer()),
    sa.column("suggestion_reason_code", sa.String()),
    sa.column("suggestion_reason_params", sa.Text()),
    sa.column("suggestion_reason", sa.Text()),
    sa.column("suggestion_reason_en", sa.Text()),
)


def _relation(score: float, unit_mean: float) -> str:
    """As core.evaluations.rules._relation did when the row was computed."""
    if score > unit_mean + 0.005:
        return "above"
    return "below" if score < unit_mean - 0.005 else "equal"


def _params(m: sa.RowMapping) -> str:
    score, unit_mean = float(m["score"]), float(m["unit_mean"])
    return json.dumps(
        {
            "n": int(m["survey_n"]),
            "score": score,
            "low": float(m["score_low"]),
            "high": float(m["score_high"]),
            "unit_mean": unit_mean,
            "relation": _relation(score, unit_mean),
            "substantiated": int(m["complaints_substantiated"]),
            "insufficient": bool(m["insufficient"]),
        },
        sort_keys=True,
    )


def _in_place() -> bool:
    return op.get_bind().dialect.name == "sqlite"


def upgrade() -> None:
    with op.batch_alter_table("officer_evaluation", schema=None, recreate="never") as batch_op:
        batch_op.add_column(
            sa.Column(
                "suggestion_reason_code",
                AutoString(length=20),
                nullable=False,
                server_default=EVIDENCE,
            )
        )
        batch_op.add_column(
            sa.Column("suggestion_reason_params", sa.Text(), nullable=False, server_default="{}")
        )
    conn = op.get_bind()
    rows = conn.execute(
        sa.select(
            ROWS.c.id,
            ROWS.c.survey_n,
            ROWS.c.score,
            ROWS.c.score_low,
            ROWS.c.score_high,
            ROWS.c.unit_mean,
            ROWS.c.insufficient,
            ROWS.c.complaints_substantiated,
        )
    ).all()
    for row in rows:
        conn.execute(
            ROWS.update()
            .where(ROWS.c.id == row.id)
            .values(suggestion_reason_code=EVIDENCE, suggestion_reason_params=_params(row._mapping))
        )
    with op.batch_alter_table("officer_evaluation", schema=None, recreate="never") as batch_op:
        if not _in_place():
            batch_op.alter_column("suggestion_reason_code", server_default=None)
            batch_op.alter_column("suggestion_reason_params", server_default=None)
        batch_op.drop_column("suggestion_reason")
        batch_op.drop_column("suggestion_reason_en")


def downgrade() -> None:
    # Rendering needs core's catalog: imported here only, as the downgrade is run from the code
    # of this revision.
    from core.evaluations.rules import render_reason

    with op.batch_alter_table("officer_evaluation", schema=None, recreate="never") as batch_op:
        batch_op.add_column(
            sa.Column("suggestion_reason", sa.Text(), nullable=False, server_default="")
        )
        batch_op.add_column(
            sa.Column("suggestion_reason_en", sa.Text(), nullable=False, server_default="")
        )
    conn = op.get_bind()
    rows = conn.execute(
        sa.select(ROWS.c.id, ROWS.c.suggestion_reason_code, ROWS.c.suggestion_reason_params)
    ).all()
    for row in rows:
        code, params = row.suggestion_reason_code, row.suggestion_reason_params
        conn.execute(
            ROWS.update()
            .where(ROWS.c.id == row.id)
            .values(
                suggestion_reason=render_reason(code, params, "id"),
                suggestion_reason_en=render_reason(code, params, "en"),
            )
        )
    with op.batch_alter_table("officer_evaluation", schema=None, recreate="never") as batch_op:
        if not _in_place():
            batch_op.alter_column("suggestion_reason", server_default=None)
            batch_op.alter_column("suggestion_reason_en", server_default=None)
        batch_op.drop_column("suggestion_reason_code")
        batch_op.drop_column("suggestion_reason_params")
