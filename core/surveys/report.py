"""The SKM report of one unit and period as an XLSX workbook (openpyxl).

Every row goes through `core.shared.spreadsheet.write_row`: unit and service names are typed by
people and are written as string cells, never as formulas."""

from __future__ import annotations

import io
from datetime import datetime

from openpyxl import Workbook
from openpyxl.styles import Font

from core.shared.spreadsheet import write_row
from core.surveys.unit_scores import Period, Score, UnitScoreDetail


def _element_rows(score: Score) -> list[list[object]]:
    return [[e.number, e.name, float(e.nrr), float(e.weighted_nrr)] for e in score.elements()]


def skm_report_xlsx(detail: UnitScoreDetail, period: Period, generated_at_local: datetime) -> bytes:
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
    write_row(ws, [])
    write_row(ws, ["No", "Unsur pelayanan", "NRR", "NRR tertimbang"])
    for cell in ws[ws.max_row]:
        cell.font = bold
    for row in _element_rows(score):
        write_row(ws, row)
    write_row(ws, [])
    ikm = score.ikm
    grade = score.grade
    write_row(ws, ["", "IKM", float(ikm) if ikm is not None else "-"])
    write_row(ws, ["", "Mutu pelayanan", f"{grade.letter} ({grade.label})" if grade else "-"])
    ws.column_dimensions["A"].width = 30
    ws.column_dimensions["B"].width = 42
    ws.column_dimensions["C"].width = 12
    ws.column_dimensions["D"].width = 16

    per_service = wb.create_sheet("Per layanan")
    write_row(per_service, ["Layanan", "n", "IKM", "Mutu"])
    for cell in per_service[1]:
        cell.font = bold
    for svc in detail.services:
        s_ikm = svc.score.ikm
        s_grade = svc.score.grade
        write_row(
            per_service,
            [
                svc.service_name or "(tanpa layanan)",
                svc.score.n,
                float(s_ikm) if s_ikm is not None else "-",
                s_grade.letter if s_grade else "-",
            ],
        )
    per_service.column_dimensions["A"].width = 40
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
