"""The period's audit trail and its export (one row per NIP) as each reader may see them."""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.worksheet.worksheet import Worksheet
from sqlalchemy import func
from sqlalchemy import select as sa_select
from sqlmodel import Session, col

from core.access import Actor
from core.evaluations.models import (
    EvaluationEvent,
    EvaluationPeriod,
    OfficerEvaluation,
    PeriodStatus,
)
from core.evaluations.periods import period_units
from core.evaluations.rules import LEVEL_TITLES
from core.evaluations.views import evaluation_views, sees_full_evidence
from core.masterdata.models import Unit
from core.masterdata.signatory import Signatory, generic_head, indonesian_date, unit_head_of
from core.people.models import AppUser as User
from core.shared.config import ZONE_NAMES
from core.shared.errors import Conflict
from core.shared.i18n import ct
from core.shared.spreadsheet import write_row


@dataclass(frozen=True)
class AuditEntry:
    id: int
    kind: str
    officer_evaluation_id: int | None
    actor_user_id: int | None
    detail: str | None
    created_at: datetime
    # Who acted and about whom, by name (display name, else username; the officer's name).
    actor_name: str | None = None
    officer_name: str | None = None
    # The detail as a phrase key and its values (`describe_detail`), for adapters that speak
    # the reader's language; levels as codes (above / meets / below).
    phrase: str | None = None
    phrase_params: dict[str, str | int] = field(default_factory=dict)


BEHAVIOUR_EVENTS = frozenset({"confirmed", "overridden"})
DECISION_EVENTS = BEHAVIOUR_EVENTS | {"results_set"}
# The officer's own words go to the assessor: readers without full evidence see only when.
RESPONSE_EVENTS = frozenset({"officer_responded", "officer_response_withdrawn"})


LEVELS = frozenset({"above", "meets", "below"})


def describe_detail(kind: str, detail: str | None) -> tuple[str | None, dict[str, str | int]]:
    """An event's stored detail as a phrase key and its values: the levels of a decision,
    where a work-results level came from, how many officers; (None, {}) for a detail that
    is shown as written (a period's name and units, the officer's own words)."""
    text = detail or ""
    if kind == "confirmed" and text in LEVELS:
        return "level", {"level": text}
    if kind == "overridden":
        change, _, reason = text.partition(": ")
        old, _, new = change.partition(" -> ")
        if old in LEVELS and new in LEVELS:
            return "overridden", {"old": old, "new": new, "reason": reason}
    if kind == "results_set":
        level, _, source = text.partition(" ")
        if level in LEVELS and source in ("(entered)", "(imported)"):
            return f"results_{source.strip('()')}", {"level": level}
    if kind in ("computed", "finalized"):
        number = text.split(" ", 1)[0]
        if number.isdigit():
            return "officers", {"n": int(number)}
    if kind == "finalized_early":
        head, _, reason = text.partition("): ")
        number = head.split(" ", 1)[0]
        if number.isdigit() and reason:
            return "early", {"n": int(number), "reason": reason}
    return None, {}


def _user_name(display_name: str | None, username: str | None) -> str | None:
    return (display_name or "").strip() or username


def audit_trail(session: Session, period: EvaluationPeriod, *, actor: Actor) -> list[AuditEntry]:
    """Every decision on the period, with the names of who acted and of the officer. Without
    full evidence a reader sees who decided and when, but neither confirm versus override
    (it would tell the hidden suggestion) nor the levels and reasons."""
    full = sees_full_evidence(session, period, actor=actor)
    stmt = (
        sa_select(
            EvaluationEvent,
            col(User.display_name),
            col(User.username),
            col(OfficerEvaluation.officer_name),
        )
        .outerjoin(User, col(User.id) == col(EvaluationEvent.actor_user_id))
        .outerjoin(
            OfficerEvaluation,
            col(OfficerEvaluation.id) == col(EvaluationEvent.officer_evaluation_id),
        )
        .where(col(EvaluationEvent.period_id) == period.id)
        .order_by(col(EvaluationEvent.id))
    )
    entries = []
    for e, display_name, username, officer_name in session.execute(stmt):
        assert e.id is not None
        kind, detail = e.kind, e.detail
        if not full and kind in DECISION_EVENTS:
            kind = "behaviour_decided" if kind in BEHAVIOUR_EVENTS else kind
            detail = None
        if not full and kind in RESPONSE_EVENTS:
            detail = None
        entries.append(
            AuditEntry(
                e.id,
                kind,
                e.officer_evaluation_id,
                e.actor_user_id,
                detail,
                e.created_at,
                _user_name(display_name, username),
                officer_name,
                *describe_detail(kind, detail),
            )
        )
    return entries


# The CSV's header: stable, machine-friendly (documented in the README; do not rename).
EXPORT_COLUMNS = (
    "nip",
    "nama",
    "kode_unit",
    "unit_kerja",
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
    "perilaku_diputuskan_oleh",
    "hasil_kerja",
    "hasil_kerja_dicatat_oleh",
    "predikat",
    "tanggapan_pegawai",
)
# The XLSX's header, for people: the same columns in words.
EXPORT_HEADERS = (
    "NIP",
    "Nama",
    "Kode unit",
    "Unit kerja",
    "Periode",
    "Mulai",
    "Selesai",
    "Jumlah responden",
    "Skor umpan balik (1-4)",
    "Batas bawah (95%)",
    "Batas atas (95%)",
    "Rerata unit",
    "Data cukup",
    "Pengaduan diterima",
    "Pengaduan terbukti",
    "Kasus terlambat",
    "Saran perilaku",
    "Perilaku kerja",
    "Alasan perubahan",
    "Perilaku diputuskan oleh",
    "Hasil kerja",
    "Hasil kerja dicatat oleh",
    "Predikat kinerja",
    "Tanggapan pegawai",
)
assert len(EXPORT_HEADERS) == len(EXPORT_COLUMNS)


def _deciders(session: Session, period: EvaluationPeriod) -> dict[int, tuple[str, str]]:
    """Per officer evaluation: who decided the behaviour level and who last set the
    work-results level, by name (two small queries over the period's rows)."""
    decided = {
        int(row_id): _user_name(display_name, username) or ""
        for row_id, display_name, username in session.execute(
            sa_select(col(OfficerEvaluation.id), col(User.display_name), col(User.username))
            .join(User, col(User.id) == col(OfficerEvaluation.decided_by))
            .where(col(OfficerEvaluation.period_id) == period.id)
        )
    }
    last = (
        sa_select(func.max(col(EvaluationEvent.id)))
        .where(
            col(EvaluationEvent.period_id) == period.id,
            col(EvaluationEvent.kind) == "results_set",
        )
        .group_by(col(EvaluationEvent.officer_evaluation_id))
    )
    entered = {
        int(row_id): _user_name(display_name, username) or ""
        for row_id, display_name, username in session.execute(
            sa_select(
                col(EvaluationEvent.officer_evaluation_id),
                col(User.display_name),
                col(User.username),
            )
            .join(User, col(User.id) == col(EvaluationEvent.actor_user_id))
            .where(col(EvaluationEvent.id).in_(last))
        )
        if row_id is not None
    }
    return {i: (decided.get(i, ""), entered.get(i, "")) for i in decided.keys() | entered.keys()}


def export_rows(session: Session, period: EvaluationPeriod, *, actor: Actor) -> list[list[object]]:
    """One row per NIP (columns `EXPORT_COLUMNS`), as the e-Kinerja/SKP import expects;
    finalized periods only. No internal id: the unit by code and name, deciders by name.
    The figures are what `actor` may see (`evaluation_views`): without full evidence the
    suggestion and the override reason are left empty."""
    if period.status != PeriodStatus.finalized:
        raise Conflict("only a finalized period can be exported", why="evaluation.export_not_final")
    rows = sorted(evaluation_views(session, period, actor=actor), key=lambda r: r.nip)
    units = {
        int(uid): (str(code), str(name))
        for uid, code, name in session.execute(
            sa_select(col(Unit.id), col(Unit.code), col(Unit.name)).where(
                col(Unit.id).in_({r.unit_id for r in rows})
            )
        )
    }
    deciders = _deciders(session, period)
    return [
        [
            r.nip,
            r.officer_name,
            units.get(r.unit_id, ("", ""))[0],
            units.get(r.unit_id, ("", ""))[1],
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
            LEVEL_TITLES[r.suggested_level] if r.suggested_level else "",
            LEVEL_TITLES[r.behaviour_level or "meets"],
            r.override_reason or "",
            deciders.get(r.id, ("", ""))[0],
            LEVEL_TITLES[r.results_level or "meets"],
            deciders.get(r.id, ("", ""))[1],
            r.rating or "",
            r.officer_response or "",
        ]
        for r in rows
    ]


# The XLSX for people ---------------------------------------------------------------------


def unit_head(session: Session, period: EvaluationPeriod) -> Signatory:
    """The head of the period's unit (`unit_head_of`); a period over several units gets blank
    lines to sign by hand."""
    unit_ids = period_units(session, period)
    if len(unit_ids) != 1:
        return generic_head()
    return unit_head_of(session, unit_ids[0])


def export_workbook(
    session: Session,
    period: EvaluationPeriod,
    *,
    actor: Actor,
    tz: ZoneInfo,
    place: str,
    now: datetime,
) -> bytes:
    """The period's export for people: a title, the period, the unit(s), the table under
    Indonesian headers (`EXPORT_HEADERS`, from row `XLSX_HEADER_ROW`), who finalized it,
    and a signature block for the unit head ("<place>, <date>", title, name line, NIP line).
    Every text goes through `write_row` (never a formula)."""
    rows = export_rows(session, period, actor=actor)
    unit_ids = period_units(session, period)
    names = sorted(
        session.execute(sa_select(col(Unit.name)).where(col(Unit.id).in_(unit_ids))).scalars()
    )
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = period.name
    write_row(ws, [ct("id", "export.title")])
    write_row(
        ws,
        [
            ct(
                "id",
                "export.period",
                name=period.name,
                start=indonesian_date(period.start),
                end=indonesian_date(period.end),
            )
        ],
    )
    write_row(ws, [ct("id", "export.units", units="; ".join(names))])
    finalizer = session.get(User, period.finalized_by) if period.finalized_by else None
    when = period.finalized_at
    finalized = ""
    if when is not None:
        local = (when if when.tzinfo else when.replace(tzinfo=UTC)).astimezone(tz)
        finalized = ct(
            "id",
            "export.finalized",
            name=_user_name(finalizer.display_name, finalizer.username) if finalizer else "-",
            when=f"{indonesian_date(local.date())} {local:%H.%M}",
            zone=zone_label(tz),
        )
    write_row(ws, [finalized])
    write_row(ws, [ct("id", "export.weighting")])
    assert ws.max_row == XLSX_HEADER_ROW - 1
    write_row(ws, EXPORT_HEADERS)
    for cell in ws[XLSX_HEADER_ROW]:
        cell.font = Font(bold=True)
    ws["A1"].font = Font(bold=True, size=14)
    for row in rows:
        write_row(ws, row)  # text as string cells, never formulas
    head = unit_head(session, period)
    write_row(ws, [])
    block = [
        ct("id", "export.place_date", place=place, date=indonesian_date(now.astimezone(tz).date())),
        head.title,
        "",
        "",
        "",
        head.name or "(" + "." * 40 + ")",
        ct("id", "export.nip", nip=head.nip or "." * 24),
    ]
    column = max(1, len(EXPORT_HEADERS) - 4)
    for text in block:
        write_row(ws, [None] * (column - 1) + [text])
    ws.column_dimensions["A"].width = 22
    ws.column_dimensions["B"].width = 28
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


XLSX_HEADER_ROW = 6


def zone_label(tz: ZoneInfo) -> str:
    return ZONE_NAMES.get(tz.key, tz.key)


def xlsx_table(ws: Worksheet) -> list[list[object]]:
    """The table of an export workbook's sheet, under the CSV's column names (`EXPORT_COLUMNS`)
    instead of the headers for people: the header row, then one row per NIP (the rows
    up to the first empty one; the signature block below is left out)."""
    rows = list(ws.iter_rows(min_row=XLSX_HEADER_ROW, values_only=True))
    if not rows or tuple(rows[0][: len(EXPORT_HEADERS)]) != EXPORT_HEADERS:
        raise ValueError(f"row {XLSX_HEADER_ROW} is not the export's header")
    table: list[list[object]] = [list(EXPORT_COLUMNS)]
    for values in rows[1:]:
        if all(v is None for v in values):
            break
        table.append(list(values[: len(EXPORT_COLUMNS)]))
    return table
