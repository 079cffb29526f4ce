"""The recap of complaints of one unit and period (rekap pengaduan), for leadership and the
Ombudsman: how many were received, by category, by status, resolved within or past their
deadline, still open past it, the outcomes, and the median handling time in working days; as
an XLSX workbook and a printable A4 PDF with the unit head's signature block.

The period is in local days (the office's zone) and every figure is over the cases RECEIVED
in it. Every count is computed in SQL (GROUP BY / SUM over the cases table) under
`core.access.visible_cases_clause`, so a reader never counts a case they could not open: a
unit head's recap leaves out the unit's `rahasia` cases, a supervisor's counts them.

The median handling time cannot be counted in SQL: a working day depends on the national
holidays, the cuti bersama and the office's closed days (`core.cases.sla.WorkCalendar`). For
it, the (received_at, resolved_at) pairs of the period's resolved cases are read, two columns
only and nothing else, and counted with the SLA's calendar in Python."""

from __future__ import annotations

import io
import statistics
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.worksheet.worksheet import Worksheet
from sqlalchemy import case as sa_case
from sqlalchemy import func
from sqlalchemy import select as sa_select
from sqlmodel import Session, col

from core.access import Actor, Permission, visible_cases_clause
from core.cases.categories import CATEGORIES, category_label
from core.cases.models import OPEN_STATUSES, Case, CaseOutcome, CaseStatus
from core.cases.sla import SlaPolicy
from core.masterdata.models import Unit
from core.masterdata.signatory import Signatory, indonesian_date, unit_head_of
from core.shared.clock import local_date, local_day_bounds_utc
from core.shared.i18n import ct
from core.shared.pdf import NumberedPages, decimal_comma, heading, latin1, signature_block, table
from core.shared.spreadsheet import write_row
from core.surveys.unit_scores import Period

# The words the XLSX and the PDF use (Indonesian: the report is an official document).
STATUS_WORDS = {
    CaseStatus.received.value: "Diterima (belum diverifikasi)",
    CaseStatus.verified.value: "Terverifikasi",
    CaseStatus.in_progress.value: "Sedang ditangani",
    CaseStatus.waiting_citizen.value: "Menunggu warga",
    CaseStatus.resolved.value: "Selesai",
    CaseStatus.closed.value: "Ditutup",
    CaseStatus.rejected.value: "Ditolak",
}
OUTCOME_WORDS = {
    CaseOutcome.substantiated.value: "Terbukti",
    CaseOutcome.partly.value: "Terbukti sebagian",
    CaseOutcome.unsubstantiated.value: "Tidak terbukti",
    CaseOutcome.not_our_authority.value: "Bukan kewenangan unit ini",
}


@dataclass(frozen=True)
class Recap:
    """The figures of one unit's recap: every count is over the cases received in the period
    that the reader may open; lists keep their fixed order, zeros included."""

    unit_id: int
    unit_code: str
    unit_name: str
    period: Period
    received: int
    by_category: list[tuple[str, int]]  # (category code, count), CATEGORIES' order
    by_status: list[tuple[str, int]]  # (CaseStatus value, count), CaseStatus order
    resolved: int  # resolved (resolved_at set: status resolved or closed after it)
    resolved_on_time: int  # resolved on or before the resolve deadline
    resolved_late: int  # resolved after it
    open: int  # still open (received, verified, in progress, waiting for the citizen)
    open_overdue: int  # still open, and its running deadline has passed at `now`
    outcomes: list[tuple[str, int]]  # (CaseOutcome value, count) of the resolved
    median_working_days: float | None  # received -> resolved; None when none resolved
    generated_at: datetime


def complaint_recap(
    session: Session,
    unit: Unit,
    period: Period,
    sla: SlaPolicy,
    *,
    actor: Actor,
    now: datetime,
) -> Recap:
    """The recap of `unit` (found by the caller through `visible_unit`) for `period`, in the
    SLA's zone and working days, counting only the cases `actor` may open."""
    assert unit.id is not None
    actor.require(Permission.VIEW_UNIT, unit.id)
    lo, hi = local_day_bounds_utc(period.start, period.end, sla.tz)
    where: list[Any] = [
        *visible_cases_clause(actor=actor),
        col(Case.unit_id) == unit.id,
        col(Case.received_at) >= lo,
        col(Case.received_at) < hi,
    ]

    def grouped(column: Any) -> dict[str, int]:
        stmt = sa_select(column, func.count()).where(*where).group_by(column)
        return {str(key): int(n) for key, n in session.execute(stmt).all() if key is not None}

    categories = grouped(col(Case.category))
    statuses = grouped(col(Case.status))
    outcomes = grouped(col(Case.outcome))

    resolved_at, resolve_due = col(Case.resolved_at), col(Case.resolve_due_at)
    is_open = col(Case.status).in_([s.value for s in OPEN_STATUSES])

    def counted(condition: Any) -> Any:
        return func.coalesce(func.sum(sa_case((condition, 1), else_=0)), 0)

    totals = session.execute(
        sa_select(
            func.count(),
            counted(resolved_at.is_not(None)),
            counted(resolved_at.is_not(None) & (resolved_at <= resolve_due)),
            counted(resolved_at.is_not(None) & (resolved_at > resolve_due)),
            counted(is_open),
            counted(is_open & (col(Case.due_at) < now)),
        ).where(*where)
    ).one()
    received, resolved, on_time, late, open_, overdue = (int(v) for v in totals)

    # The median: two columns of the period's resolved cases, counted in working days.
    pairs = session.execute(
        sa_select(col(Case.received_at), resolved_at).where(*where, resolved_at.is_not(None))
    ).all()
    calendar = sla.calendar()
    spans = [
        calendar.working_days_between(local_date(got, sla.tz), local_date(done, sla.tz))
        for got, done in pairs
    ]
    known = list(CATEGORIES)
    by_category = [(code, categories.get(code, 0)) for code in known]
    by_category += sorted((code, n) for code, n in categories.items() if code not in known)
    return Recap(
        unit_id=unit.id,
        unit_code=unit.code,
        unit_name=unit.name,
        period=period,
        received=received,
        by_category=by_category,
        by_status=[(s.value, statuses.get(s.value, 0)) for s in CaseStatus],
        resolved=resolved,
        resolved_on_time=on_time,
        resolved_late=late,
        open=open_,
        open_overdue=overdue,
        outcomes=[(o.value, outcomes.get(o.value, 0)) for o in CaseOutcome],
        median_working_days=float(statistics.median(spans)) if spans else None,
        generated_at=now,
    )


# The documents ------------------------------------------------------------------------------


def median_text(recap: Recap) -> str:
    """ "2,5 hari kerja", or "-" when no case of the period was resolved."""
    if recap.median_working_days is None:
        return "-"
    return f"{decimal_comma(recap.median_working_days, 1)} hari kerja"


def recap_rows(recap: Recap) -> list[tuple[str, str, int | str]]:
    """(section, item, figure): the recap as the XLSX and the PDF list it."""
    rows: list[tuple[str, str, int | str]] = [
        ("Pengaduan", "Diterima pada periode", recap.received)
    ]
    rows += [("Kategori", category_label(code, "id"), n) for code, n in recap.by_category]
    rows += [("Status", STATUS_WORDS.get(code, code), n) for code, n in recap.by_status]
    rows += [
        ("Tenggat", "Selesai tepat waktu", recap.resolved_on_time),
        ("Tenggat", "Selesai melewati tenggat", recap.resolved_late),
        ("Tenggat", "Masih terbuka, melewati tenggat", recap.open_overdue),
        ("Tenggat", "Masih terbuka, dalam tenggat", recap.open - recap.open_overdue),
    ]
    rows += [("Hasil", OUTCOME_WORDS.get(code, code), n) for code, n in recap.outcomes]
    rows.append(("Waktu penanganan", "Median (diterima s.d. selesai)", median_text(recap)))
    return rows


def _period_text(period: Period) -> str:
    return f"{indonesian_date(period.start)} s.d. {indonesian_date(period.end)}"


def recap_xlsx(recap: Recap, *, tz_name: str) -> bytes:
    wb = Workbook()
    ws: Worksheet | None = wb.active
    assert ws is not None
    ws.title = "Rekap pengaduan"
    write_row(ws, ["Rekap pengaduan"])
    ws["A1"].font = Font(bold=True, size=14)
    write_row(ws, ["Unit", recap.unit_name])
    write_row(ws, ["Kode unit", recap.unit_code])
    write_row(
        ws, ["Periode", f"{recap.period.start.isoformat()} s.d. {recap.period.end.isoformat()}"]
    )
    write_row(ws, ["Zona waktu", tz_name])
    write_row(ws, [])
    write_row(ws, ["Bagian", "Uraian", "Jumlah"])
    for cell in ws[ws.max_row]:
        cell.font = Font(bold=True)
    for section, item, figure in recap_rows(recap):
        write_row(ws, [section, item, figure])
    ws.column_dimensions["A"].width = 20
    ws.column_dimensions["B"].width = 42
    ws.column_dimensions["C"].width = 18
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def recap_pdf(recap: Recap, signatory: Signatory, *, place: str, today_local: datetime) -> bytes:
    """The printable recap, ending in the signature block of the unit head."""
    pdf = NumberedPages(format="A4", unit="mm")
    pdf.set_compression(False)
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 14)
    pdf.multi_cell(0, 8, "REKAP PENGADUAN", align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "B", 12)
    pdf.multi_cell(0, 7, latin1(recap.unit_name), align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 10)
    period = f"Periode: {_period_text(recap.period)}"
    pdf.multi_cell(0, 6, latin1(period), align="C", new_x="LMARGIN", new_y="NEXT")
    sections: dict[str, list[list[str]]] = {}
    for section, item, figure in recap_rows(recap):
        sections.setdefault(section, []).append([item, str(figure)])
    for number, (section, rows) in enumerate(sections.items(), start=1):
        heading(pdf, f"{number}. {section}")
        table(pdf, (130, 50), ["Uraian", "Jumlah"], rows)
    pdf.set_font("Helvetica", "I", 8)
    pdf.multi_cell(
        0,
        4,
        latin1(
            "Dihitung atas pengaduan yang diterima pada periode ini dan dapat dibuka oleh"
            " pembaca laporan; hari kerja tanpa akhir pekan, hari libur nasional, cuti"
            " bersama dan hari tutup kantor."
        ),
        new_x="LMARGIN",
        new_y="NEXT",
    )
    pdf.set_font("Helvetica", "", 10)
    day = indonesian_date(today_local.date())
    signature_block(
        pdf,
        [
            (ct("id", "export.place_date", place=place, date=day), 6),
            (signatory.title, 6),
            ("", 18),
            (signatory.name or "." * 40, 6),
            (ct("id", "export.nip", nip=signatory.nip or "." * 24), 6),
        ],
    )
    return bytes(pdf.output())


def recap_signatory(session: Session, recap: Recap) -> Signatory:
    """Who signs the printed recap: the unit's head."""
    return unit_head_of(session, recap.unit_id)
