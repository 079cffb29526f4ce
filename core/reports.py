"""The SKM report of one unit and period as an XLSX workbook (openpyxl)."""

from __future__ import annotations

import io
from datetime import datetime

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font

from core.scores import Period, Score, UnitScoreDetail


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
    ws.append(["Laporan Survei Kepuasan Masyarakat (SKM)"])
    ws["A1"].font = Font(bold=True, size=14)
    ws.append(["Unit", cell_text(unit.unit_name)])
    ws.append(["Kode unit", unit.unit_code])
    ws.append(["Periode", f"{period.start.isoformat()} s.d. {period.end.isoformat()}"])
    ws.append(["Dibuat", generated_at_local.strftime("%Y-%m-%d %H:%M %Z").strip()])
    ws.append(["Jumlah responden (n)", score.n])
    ws.append(["Populasi penerima layanan", unit.population])
    ws.append(["Sampel minimum (Krejcie-Morgan)", unit.minimum_sample])
    ws.append(["Sampel memenuhi", "Ya" if unit.sample_sufficient else "Tidak"])
    ws.append([])
    ws.append(["No", "Unsur pelayanan", "NRR", "NRR tertimbang"])
    for cell in ws[ws.max_row]:
        cell.font = bold
    for row in _element_rows(score):
        ws.append(row)
    ws.append([])
    ikm = score.ikm
    grade = score.grade
    ws.append(["", "IKM", float(ikm) if ikm is not None else "-"])
    ws.append(["", "Mutu pelayanan", f"{grade.letter} ({grade.label})" if grade else "-"])
    ws.column_dimensions["A"].width = 30
    ws.column_dimensions["B"].width = 42
    ws.column_dimensions["C"].width = 12
    ws.column_dimensions["D"].width = 16

    per_service = wb.create_sheet("Per layanan")
    per_service.append(["Layanan", "n", "IKM", "Mutu"])
    for cell in per_service[1]:
        cell.font = bold
    for svc in detail.services:
        s_ikm = svc.score.ikm
        s_grade = svc.score.grade
        per_service.append(
            [
                cell_text(svc.service_name or "(tanpa layanan)"),
                svc.score.n,
                float(s_ikm) if s_ikm is not None else "-",
                s_grade.letter if s_grade else "-",
            ]
        )
    per_service.column_dimensions["A"].width = 40
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def cell_text(value: object) -> object:
    """Strings safe for a worksheet: openpyxl refuses control characters."""
    if isinstance(value, str):
        return ILLEGAL_CHARACTERS_RE.sub("", value)
    return value
