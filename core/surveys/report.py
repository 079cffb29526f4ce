"""The SKM report of one unit and period, in the structure of the annex of PermenPANRB
14/2017: the unit and period, the respondents against the minimum sample, the respondent
profile, the nine elements (NRR and weighted NRR) with the lowest named, the IKM with its
grade and performance label, IKM per service, the citizens' comments and suggestions, and the
unit's follow-up plan (rencana tindak lanjut); as an XLSX workbook (openpyxl) and as a
printable A4 PDF (fpdf2) ending in the unit head's signature block.

Everything comes from core's own reads under the reader's rights (`skm_report_data`):
figures over the unit's answers (no case is involved), comments without any identity, the
plan as the unit wrote it. Every XLSX row goes through `core.shared.spreadsheet.write_row`
(typed texts are written as strings, never formulas). Figures are the ones core.surveys.skm
rounded half-up (IKM 2 decimals, NRR and weighted NRR 3), written as numbers with a cell
format of exactly those decimals, so the sheet shows the same digits as the API. The report
states the weighting (exact 1/9)."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.worksheet.worksheet import Worksheet
from sqlmodel import Session

from core.access import Actor
from core.masterdata.models import Unit
from core.masterdata.signatory import Signatory, indonesian_date, unit_head_of
from core.shared.clock import local_day_bounds_utc
from core.shared.i18n import ct
from core.shared.pdf import NumberedPages as _Report
from core.shared.pdf import decimal_comma, signature_block
from core.shared.pdf import heading as _heading
from core.shared.pdf import latin1 as _latin1
from core.shared.pdf import table as _table
from core.shared.spreadsheet import write_row
from core.surveys.comments import MAX_PAGE_SIZE, Comment, unit_comments
from core.surveys.followup import follow_up_plan
from core.surveys.models import FollowUpItem
from core.surveys.skm import ELEMENTS, enough_responses
from core.surveys.trend import PROFILE_FIELDS, respondent_profile
from core.surveys.unit_scores import Period, Score, UnitScoreDetail, unit_score_detail

IKM_FORMAT = "0.00"
NRR_FORMAT = "0.000"
SHARE_FORMAT = "0.0%"
LOWEST_NAMED = 3
MAX_COMMENTS = 300  # the newest comments of the period the report carries

PROFILE_TITLES = {
    "sex": "Jenis kelamin",
    "age_band": "Usia",
    "education": "Pendidikan terakhir",
    "occupation": "Pekerjaan utama",
}
# The profile's stored answers in words; a value not listed is written as stored.
PROFILE_WORDS = {
    "laki-laki": "Laki-laki",
    "perempuan": "Perempuan",
    "<20": "< 20 tahun",
    "20-29": "20-29 tahun",
    "30-39": "30-39 tahun",
    "40-49": "40-49 tahun",
    "50-59": "50-59 tahun",
    "60+": "60 tahun ke atas",
    "tidak-sekolah": "Tidak sekolah",
    "sd": "SD",
    "smp": "SMP",
    "sma": "SMA",
    "d1-d3": "D1-D3",
    "d4-s1": "D4/S1",
    "s2+": "S2 ke atas",
    "petani": "Petani",
    "nelayan": "Nelayan",
    "ibu-rumah-tangga": "Ibu rumah tangga",
    "pelajar": "Pelajar/mahasiswa",
    "pns": "PNS",
    "tni-polri": "TNI/Polri",
    "pns-tni-polri": "PNS/TNI/Polri",
    "swasta": "Pegawai swasta",
    "wirausaha": "Wirausaha",
    "tidak-bekerja": "Tidak bekerja",
    "lainnya": "Lainnya",
}
NOT_GIVEN = "Tidak diisi"


@dataclass(frozen=True)
class SkmReport:
    """Everything one unit's report for one period shows."""

    detail: UnitScoreDetail
    period: Period
    generated_at_local: datetime
    min_responses: int
    profile: dict[str, list[tuple[str | None, int]]]
    comments: list[Comment]
    comments_more: bool  # more comments than MAX_COMMENTS in the period
    plan: list[FollowUpItem]
    signatory: Signatory
    place: str
    tz: ZoneInfo


def skm_report_data(
    session: Session,
    unit: Unit,
    period: Period,
    tz: ZoneInfo,
    *,
    actor: Actor,
    default_population: int,
    min_responses: int,
    place: str,
    now: datetime,
) -> SkmReport:
    """Gather one report; the caller has found `unit` through `visible_unit`."""
    assert unit.id is not None
    detail = unit_score_detail(session, unit, period, tz, default_population)
    lo, hi = local_day_bounds_utc(period.start, period.end, tz)
    comments: list[Comment] = []
    after = None
    while len(comments) < MAX_COMMENTS:
        page = unit_comments(
            session, unit.id, actor=actor, since=lo, until=hi, after=after, limit=MAX_PAGE_SIZE
        )
        comments.extend(page.comments)
        after = page.next
        if after is None:
            break
    return SkmReport(
        detail=detail,
        period=period,
        generated_at_local=now.astimezone(tz),
        min_responses=min_responses,
        profile=respondent_profile(session, unit.id, period, tz),
        comments=comments[:MAX_COMMENTS],
        comments_more=len(comments) > MAX_COMMENTS or after is not None,
        plan=follow_up_plan(session, unit.id, period, actor=actor),
        signatory=unit_head_of(session, unit.id),
        place=place,
        tz=tz,
    )


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


def lowest_elements(score: Score, min_responses: int) -> list[tuple[int, str, float]]:
    """The elements with the lowest NRR (number, name, NRR), lowest first: none while the
    unit has too few responses to say."""
    if score.n == 0 or not enough_responses(score.n, min_responses):
        return []
    ranked = sorted(score.elements(), key=lambda e: (e.exact, e.number))
    return [(e.number, e.name, float(e.nrr)) for e in ranked[:LOWEST_NAMED]]


def weighting_lines(lang: str) -> tuple[str, str]:
    """The weighting statement every score report carries: exact 1/9, and why."""
    return ct(lang, "skm.weighting"), ct(lang, "skm.weighting_reason")


def profile_rows(report: SkmReport) -> list[tuple[str, str, int, float]]:
    """(field title, answer in words, count, share of the period's respondents)."""
    total = report.detail.unit.score.n
    rows = []
    for field in PROFILE_FIELDS:
        for value, count in report.profile.get(field, []):
            words = NOT_GIVEN if value is None else PROFILE_WORDS.get(value, value)
            rows.append((PROFILE_TITLES[field], words, count, count / total if total else 0.0))
    return rows


def _bold_last(ws: Worksheet) -> None:
    for cell in ws[ws.max_row]:
        cell.font = Font(bold=True)


def _summary_sheet(ws: Worksheet, report: SkmReport) -> None:
    unit, score = report.detail.unit, report.detail.unit.score
    ws.title = "IKM"
    write_row(ws, ["Laporan Survei Kepuasan Masyarakat (SKM)"])
    ws["A1"].font = Font(bold=True, size=14)
    write_row(ws, ["Unit", unit.unit_name])
    write_row(ws, ["Kode unit", unit.unit_code])
    period = report.period
    write_row(ws, ["Periode", f"{period.start.isoformat()} s.d. {period.end.isoformat()}"])
    write_row(ws, ["Dibuat", report.generated_at_local.strftime("%Y-%m-%d %H:%M %Z").strip()])
    write_row(ws, ["Jumlah responden (n)", score.n])
    write_row(ws, ["Populasi penerima layanan", unit.population])
    write_row(ws, ["Sampel minimum (Krejcie-Morgan)", unit.minimum_sample])
    write_row(ws, ["Sampel memenuhi", "Ya" if unit.sample_sufficient else "Tidak"])
    write_row(ws, ["IKM ditampilkan mulai (responden)", report.min_responses])
    statement, reason = weighting_lines("id")
    write_row(ws, ["Bobot unsur", statement])
    write_row(ws, ["", reason])
    write_row(ws, [])
    write_row(ws, ["No", "Unsur pelayanan", "NRR", "NRR tertimbang (x 1/9)"])
    _bold_last(ws)
    for row in _element_rows(score):
        write_row(ws, row)
        ws.cell(ws.max_row, 3).number_format = NRR_FORMAT
        ws.cell(ws.max_row, 4).number_format = NRR_FORMAT
    write_row(ws, [])
    ikm_cell, _, grade_cell = _ikm_cells(score, report.min_responses)
    write_row(ws, ["", "IKM", ikm_cell])
    ws.cell(ws.max_row, 3).number_format = IKM_FORMAT
    write_row(ws, ["", "Mutu pelayanan", grade_cell])
    lowest = lowest_elements(score, report.min_responses)
    if lowest:
        write_row(ws, [])
        write_row(ws, ["", "Unsur dengan nilai terendah", "NRR"])
        _bold_last(ws)
        for number, name, nrr in lowest:
            write_row(ws, [f"U{number}", name, nrr])
            ws.cell(ws.max_row, 3).number_format = NRR_FORMAT
    ws.column_dimensions["A"].width = 30
    ws.column_dimensions["B"].width = 42
    ws.column_dimensions["C"].width = 14
    ws.column_dimensions["D"].width = 16


def skm_report_xlsx(report: SkmReport) -> bytes:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    _summary_sheet(ws, report)

    profile = wb.create_sheet("Profil responden")
    write_row(profile, ["Karakteristik", "Kategori", "Jumlah", "Persentase"])
    _bold_last(profile)
    for title, words, count, share in profile_rows(report):
        write_row(profile, [title, words, count, share])
        profile.cell(profile.max_row, 4).number_format = SHARE_FORMAT
    profile.column_dimensions["A"].width = 22
    profile.column_dimensions["B"].width = 24

    per_service = wb.create_sheet("Per layanan")
    write_row(per_service, ["Layanan", "n", "IKM", "Mutu"])
    _bold_last(per_service)
    for svc in report.detail.services:
        s_ikm, s_letter, _ = _ikm_cells(svc.score, report.min_responses)
        write_row(
            per_service,
            [svc.service_name or "(tanpa layanan)", svc.score.n, s_ikm, s_letter],
        )
        per_service.cell(per_service.max_row, 3).number_format = IKM_FORMAT
    per_service.column_dimensions["A"].width = 40

    comments = wb.create_sheet("Saran dan komentar")
    write_row(comments, ["Tanggal", "Layanan", "Saran / komentar warga"])
    _bold_last(comments)
    for c in report.comments:
        day = c.created_at.astimezone(report.tz).date().isoformat()
        write_row(comments, [day, c.service_name or "-", c.text])
    if report.comments_more:
        write_row(comments, ["", "", f"(hanya {MAX_COMMENTS} komentar terbaru)"])
    comments.column_dimensions["A"].width = 12
    comments.column_dimensions["B"].width = 28
    comments.column_dimensions["C"].width = 90

    plan = wb.create_sheet("Rencana tindak lanjut")
    write_row(plan, ["No", "Prioritas unsur", "Program / kegiatan", "Waktu", "Penanggung jawab"])
    _bold_last(plan)
    names = dict(enumerate(ELEMENTS, start=1))
    for i, item in enumerate(report.plan, start=1):
        element = f"U{item.element} {names.get(item.element, '')}" if item.element else "Umum"
        write_row(plan, [i, element, item.action, item.timeframe, item.responsible])
    if not report.plan:
        write_row(plan, ["", "(belum diisi oleh unit)"])
    for column, width in zip("ABCDE", (5, 30, 60, 20, 28), strict=True):
        plan.column_dimensions[column].width = width
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


# The printable PDF ----------------------------------------------------------------------


def skm_report_pdf(report: SkmReport) -> bytes:
    unit, score = report.detail.unit, report.detail.unit.score
    pdf = _Report(format="A4", unit="mm")
    pdf.set_compression(False)
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 14)
    pdf.multi_cell(
        0, 8, "LAPORAN SURVEI KEPUASAN MASYARAKAT (SKM)", align="C", new_x="LMARGIN", new_y="NEXT"
    )
    pdf.set_font("Helvetica", "B", 12)
    pdf.multi_cell(0, 7, _latin1(unit.unit_name), align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 10)
    period = report.period
    when = f"{indonesian_date(period.start)} s.d. {indonesian_date(period.end)}"
    pdf.multi_cell(0, 6, _latin1(f"Periode: {when}"), align="C", new_x="LMARGIN", new_y="NEXT")

    _heading(pdf, "I. Responden dan sampel")
    ikm_cell, _, grade_cell = _ikm_cells(score, report.min_responses)
    ikm_text = decimal_comma(ikm_cell, 2) if isinstance(ikm_cell, float) else ikm_cell
    facts = [
        ["Jumlah responden", str(score.n)],
        ["Populasi penerima layanan", str(unit.population)],
        ["Sampel minimum (Krejcie-Morgan)", str(unit.minimum_sample)],
        ["Sampel memenuhi", "Ya" if unit.sample_sufficient else "Tidak"],
        ["Indeks Kepuasan Masyarakat (IKM)", str(ikm_text)],
        ["Mutu pelayanan (kinerja unit)", grade_cell],
    ]
    _table(pdf, (80, 100), ["Uraian", "Nilai"], facts)

    _heading(pdf, "II. Profil responden")
    rows = [
        [title, words, str(count), f"{decimal_comma(share * 100, 1)}%"]
        for title, words, count, share in profile_rows(report)
    ]
    _table(pdf, (45, 65, 30, 40), ["Karakteristik", "Kategori", "Jumlah", "Persentase"], rows)

    _heading(pdf, "III. Nilai per unsur pelayanan")
    element_rows = [
        [
            str(e.number),
            e.name,
            decimal_comma(float(e.nrr), 3),
            decimal_comma(float(e.weighted_nrr), 3),
        ]
        for e in score.elements()
    ]
    _table(pdf, (12, 98, 35, 35), ["No", "Unsur", "NRR", "NRR tertimbang"], element_rows)
    statement, _ = weighting_lines("id")
    pdf.set_font("Helvetica", "I", 8)
    pdf.multi_cell(0, 4, _latin1(statement), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 10)
    lowest = lowest_elements(score, report.min_responses)
    if lowest:
        names = ", ".join(f"U{n} {name} ({decimal_comma(nrr, 3)})" for n, name, nrr in lowest)
        pdf.multi_cell(0, 6, _latin1(f"Unsur terendah: {names}"), new_x="LMARGIN", new_y="NEXT")

    _heading(pdf, "IV. Saran dan komentar warga")
    if report.comments:
        comment_rows = [
            [c.created_at.astimezone(report.tz).date().isoformat(), c.service_name or "-", c.text]
            for c in report.comments
        ]
        _table(pdf, (24, 40, 116), ["Tanggal", "Layanan", "Saran / komentar"], comment_rows)
    else:
        pdf.multi_cell(0, 6, "Tidak ada komentar pada periode ini.", new_x="LMARGIN", new_y="NEXT")

    _heading(pdf, "V. Rencana tindak lanjut")
    names_by_number = dict(enumerate(ELEMENTS, start=1))
    plan_rows = [
        [
            str(i),
            f"U{item.element} {names_by_number.get(item.element, '')}" if item.element else "Umum",
            item.action,
            item.timeframe,
            item.responsible,
        ]
        for i, item in enumerate(report.plan, start=1)
    ]
    if plan_rows:
        header = ["No", "Prioritas unsur", "Program / kegiatan", "Waktu", "Penanggung jawab"]
        _table(pdf, (10, 40, 70, 28, 32), header, plan_rows)
    else:
        pdf.multi_cell(0, 6, "(belum diisi oleh unit)", new_x="LMARGIN", new_y="NEXT")

    signer = report.signatory
    day = indonesian_date(report.generated_at_local.date())
    signature_block(
        pdf,
        [
            (ct("id", "export.place_date", place=report.place, date=day), 6),
            (signer.title, 6),
            ("", 18),
            (signer.name or "." * 40, 6),
            (ct("id", "export.nip", nip=signer.nip or "." * 24), 6),
        ],
    )
    return bytes(pdf.output())
