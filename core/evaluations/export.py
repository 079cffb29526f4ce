"""The period's audit trail and its export (one row per NIP) as each reader may see them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from core.access import Actor
from core.evaluations.models import (
    EvaluationEvent,
    EvaluationPeriod,
    PeriodStatus,
)
from core.evaluations.rules import LEVEL_WORDS
from core.evaluations.views import evaluation_views, sees_full_evidence
from core.shared.errors import Conflict


@dataclass(frozen=True)
class AuditEntry:
    id: int
    kind: str
    officer_evaluation_id: int | None
    actor_user_id: int | None
    detail: str | None
    created_at: datetime


BEHAVIOUR_EVENTS = frozenset({"confirmed", "overridden"})
DECISION_EVENTS = BEHAVIOUR_EVENTS | {"results_set"}


def audit_trail(session: Session, period: EvaluationPeriod, *, actor: Actor) -> list[AuditEntry]:
    """Every decision on the period. Without full evidence a reader sees who decided and
    when, but neither confirm versus override (it would tell the hidden suggestion) nor the
    levels and reasons."""
    full = sees_full_evidence(session, period, actor=actor)
    events = session.exec(
        select(EvaluationEvent)
        .where(EvaluationEvent.period_id == period.id)
        .order_by(col(EvaluationEvent.id))
    ).all()
    entries = []
    for e in events:
        assert e.id is not None
        kind, detail = e.kind, e.detail
        if not full and kind in DECISION_EVENTS:
            kind = "behaviour_decided" if kind in BEHAVIOUR_EVENTS else kind
            detail = None
        entries.append(
            AuditEntry(e.id, kind, e.officer_evaluation_id, e.actor_user_id, detail, e.created_at)
        )
    return entries


EXPORT_COLUMNS = (
    "nip",
    "nama",
    "unit_id",
    "periode",
    "mulai",
    "selesai",
    "jumlah_responden",
    "skor",
    "skor_bawah",
    "skor_atas",
    "rerata_unit",
    "data_cukup",
    "pengaduan_diterima",
    "pengaduan_terbukti",
    "kasus_terlambat",
    "saran_perilaku",
    "perilaku",
    "alasan_perubahan",
    "hasil_kerja",
    "predikat",
)


def export_rows(session: Session, period: EvaluationPeriod, *, actor: Actor) -> list[list[object]]:
    """One row per NIP, as the e-Kinerja/SKP import expects; finalized periods only. The
    figures are what `actor` may see (`evaluation_views`): without full evidence the
    suggestion and the override reason are left empty."""
    if period.status != PeriodStatus.finalized:
        raise Conflict("only a finalized period can be exported")
    rows = sorted(evaluation_views(session, period, actor=actor), key=lambda r: r.nip)
    return [
        [
            r.nip,
            r.officer_name,
            r.unit_id,
            period.name,
            period.start.isoformat(),
            period.end.isoformat(),
            r.survey_n,
            round(r.score, 2),
            round(r.score_low, 2),
            round(r.score_high, 2),
            round(r.unit_mean, 2),
            "tidak" if r.insufficient else "ya",
            r.complaints_received,
            r.complaints_substantiated,
            r.cases_overdue,
            LEVEL_WORDS[r.suggested_level] if r.suggested_level else "",
            LEVEL_WORDS[r.behaviour_level or "meets"],
            r.override_reason or "",
            LEVEL_WORDS[r.results_level or "meets"],
            r.rating or "",
        ]
        for r in rows
    ]
