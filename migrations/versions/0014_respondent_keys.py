"""survey responses keep a pseudonymous respondent key

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-30

The anti-gaming caps of the officer scores key on `survey_response.respondent_key`, a keyed
hash of the respondent's identity on the response's channel (core.surveys.respondents), so
they still hold after a citizen erases their data. Responses that still have their citizen
are given the key here, with PSEUDONYM_KEY from the settings of the process that runs the
migration: run `asn-feedback db upgrade` with the application's environment (production
refuses to start without the key, so does this migration). Responses whose citizen was erased
before this revision cannot get one: each of them stays a respondent of its own.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH = 5000


def upgrade() -> None:
    with op.batch_alter_table("survey_response") as batch_op:
        batch_op.add_column(sa.Column("respondent_key", sa.BigInteger(), nullable=True))
    _backfill(op.get_bind())


def _backfill(conn: sa.Connection) -> None:
    """Key every response that still has a citizen, as submission would have: the citizen's
    first contact on the response's channel, else the citizen row. In id order, in batches."""
    from core.shared.config import DEVELOPMENT_PSEUDONYM_KEY, get_settings
    from core.surveys.respondents import (
        citizen_fallback_identity,
        citizen_identity,
        respondent_key,
    )

    settings = get_settings()
    secret = settings.pseudonym_key
    if secret == DEVELOPMENT_PSEUDONYM_KEY and settings.environment != "test":
        keyed = conn.execute(
            sa.text("SELECT count(*) FROM survey_response WHERE citizen_id IS NOT NULL")
        ).scalar_one()
        if keyed:  # real answers keyed with a public key: anyone could confirm who gave them
            raise RuntimeError(
                f"{keyed} survey answers would be keyed with the public development key: set "
                "PSEUDONYM_KEY (the application's own, kept) in the environment of "
                "`asn-feedback db upgrade` and run it again"
            )
    select = sa.text(
        "SELECT r.id, r.citizen_id, r.channel, ("
        "  SELECT c.address FROM contact c"
        "  WHERE c.citizen_id = r.citizen_id AND c.channel = r.channel"
        "  ORDER BY c.id LIMIT 1) AS address "
        "FROM survey_response r "
        "WHERE r.citizen_id IS NOT NULL AND r.id > :after "
        "ORDER BY r.id LIMIT :batch"
    )
    update = sa.text("UPDATE survey_response SET respondent_key = :key WHERE id = :id")
    after = 0
    while True:
        rows = conn.execute(select, {"after": after, "batch": BATCH}).all()
        if not rows:
            return
        keys = [
            {
                "id": row_id,
                "key": respondent_key(
                    secret,
                    citizen_identity(channel, address)
                    if address is not None
                    else citizen_fallback_identity(citizen_id),
                ),
            }
            for row_id, citizen_id, channel, address in rows
        ]
        conn.execute(update, keys)
        after = rows[-1][0]


def downgrade() -> None:
    with op.batch_alter_table("survey_response") as batch_op:
        batch_op.drop_column("respondent_key")
