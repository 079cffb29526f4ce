"""The SKM report of one unit and period as an XLSX workbook (openpyxl).

Every row goes through `core.shared.spreadsheet.write_row`: unit and service names are typed by
people and are written as string cells, never as formulas.

Figures are the ones core.surveys.skm rounded half-up (IKM 2 decimals, NRR and weighted NRR 3),
written as numbers with a cell format of exactly those decimals, so the sheet shows the same
digits as the API and does not round again. The report states the weighting (exact 1/9)."""

from __future__ import annotations

import io
from datetime import datetime

from openpyxl import Workbook
from openpyxl.styles import Font

from core.shared.i18n import ct
from core.shared.spreadsheet import write_row
from core.surveys.skm import MIN_RESPONSES_DEFAULT, enough_responses
from core.surveys.unit_scores import Period, Score, UnitScoreDetail

IKM_FORMAT = "0.00"
NRR_FORMAT = "0.000"


def _element_rows(score: Score) -> list[list[object]]:
    return [[e.number, e.name, float(e.nrr), float(e.weighted_nrr)] for e in score.elements()]


def _ikm_cells(score: Score, min_responses: int) -> tuple[object, str, str]:
    """(IKM cell, grade letter, grade with label): a figure, or "belum cukup data (n = 2)"."""
    ikm, grade = score.ikm, score.grade
    if ikm is None or grade is None:
        return "-", "-", "-"
    if not enough_responses(score.n, min_responses):
        too_few = ct("id", "ikm.too_few", n=score.n)
        return too_few, too_few, too_few
    return float(ikm), grade.letter, f"{grade.letter} ({grade.label})"


def weighting_lines(lang: str) -> tuple[str, str]:
    """The weighting statement every score report carries: exact 1/9, and why."""
    return ct(lang, "skm.weighting"), ct(lang, "skm.weighting_reason")


def skm_report_xlsx(
    detail: UnitScoreDetail,
    period: Period,
    generated_at_local: datetime,
    *,
    min_responses: int = MIN_RESPONSES_DEFAULT,
) -> bytes:
    unit = detail.unit
    score = unit.score
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "IKM"
    bold = Font(bold=True)
    write_row(ws, ["Laporan Survei Kepuasan Masyarakat (SKM)"])
    ws["A1"].font = Font(bold=True, size=14)
    write_row(ws, ["Unit", unit.unit_name])
    write_row(ws, ["Kode unit", unit.unit_code])
    write_row(ws, ["Periode", f"{period.start.isoformat()} s.d. {period.end.isoformat()}"])
    write_row(ws, ["Dibuat", generated_at_local.strftime("%Y-%m-%d %H:%M %Z").strip()])
    write_row(ws, ["Jumlah responden (n)", score.n])
    write_row(ws, ["Populasi penerima layanan", unit.population])
    write_row(ws, ["Sampel minimum (Krejcie-Morgan)", unit.minimum_sample])
    write_row(ws, ["Sampel memenuhi", "Ya" if unit.sample_sufficient else "Tidak"])
    write_row(ws, ["IKM ditampilkan mulai (responden)", min_responses])
    statement, reason = weighting_lines("id")
    write_row(ws, ["Bobot unsur", statement])
    write_row(ws, ["", reason])
    write_row(ws, [])
    write_row(ws, ["No", "Unsur pelayanan", "NRR", "NRR tertimbang (x 1/9)"])
    for cell in ws[ws.max_row]:
        cell.font = bold
    for row in _element_rows(score):
        write_row(ws, row)
        ws.cell(ws.max_row, 3).number_format = NRR_FORMAT
        ws.cell(ws.max_row, 4).number_format = NRR_FORMAT
    write_row(ws, [])
    ikm_cell, _, grade_cell = _ikm_cells(score, min_responses)
    write_row(ws, ["", "IKM", ikm_cell])
    ws.cell(ws.max_row, 3).number_format = IKM_FORMAT
    write_row(ws, ["", "Mutu pelayanan", grade_cell])
    ws.column_dimensions["A"].width = 30
    ws.column_dimensions["B"].width = 42
    ws.column_dimensions["C"].width = 12
    ws.column_dimensions["D"].width = 16

    per_service = wb.create_sheet("Per layanan")
    write_row(per_service, ["Layanan", "n", "IKM", "Mutu"])
    for cell in per_service[1]:
        cell.font = bold
    for svc in detail.services:
        s_ikm, s_letter, _ = _ikm_cells(svc.score, min_responses)
        write_row(
            per_service,
            [svc.service_name or "(tanpa layanan)", svc.score.n, s_ikm, s_letter],
        )
        per_service.cell(per_service.max_row, 3).number_format = IKM_FORMAT
    per_service.column_dimensions["A"].width = 40
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
