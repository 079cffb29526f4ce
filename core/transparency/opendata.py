"""The open data: the public figures as CSV and JSON, with stable column names
(docs/open-data.md) and a licence, read from the snapshot only."""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

from core.cases.categories import CATEGORIES
from core.shared.spreadsheet import csv_writer
from core.surveys.skm import ELEMENT_COUNT
from core.transparency.figures import LICENCE, LICENCE_URL

PERIOD_COLUMNS = (
    "periode",
    "jenis_periode",
    "tanggal_mulai",
    "tanggal_akhir",
    "kode_unit",
    "nama_unit",
)
IKM_COLUMNS = (
    *PERIOD_COLUMNS,
    "responden",
    "sampel_minimum",
    "status",
    "ikm",
    "mutu",
    "mutu_label",
    *(f"u{i}" for i in range(1, ELEMENT_COUNT + 1)),
    "lisensi",
)
COMPLAINT_COLUMNS = (
    *PERIOD_COLUMNS,
    "diterima",
    "selesai",
    "persen_selesai_tepat_waktu",
    "median_hari_kerja",
    *(f"kategori_{code}" for code in CATEGORIES),
    "lisensi",
)
DATASETS = {"ikm": IKM_COLUMNS, "pengaduan": COMPLAINT_COLUMNS}
LICENCE_TEXT = (
    "Lisensi / Licence: Creative Commons Atribusi 4.0 Internasional (CC BY 4.0)\n"
    f"{LICENCE_URL}\n"
    "\n"
    "Anda boleh menyalin, menyebarluaskan, dan mengolah data ini untuk keperluan apa pun,\n"
    'termasuk komersial, dengan menyebutkan sumbernya: "{source}".\n'
    "\n"
    "You may copy, redistribute and adapt this data for any purpose, including\n"
    'commercially, as long as you credit the source: "{source}".\n'
    "\n"
    'Angka kecil (1-4) disamarkan sebagai "<5" dan rincian yang dapat membukanya tidak\n'
    'diterbitkan (kosong / null). Small counts (1-4) are shown as "<5" and breakdowns that\n'
    "could reveal them are withheld (empty / null). See docs/open-data.md.\n"
)


def dataset_rows(body: dict[str, Any], period_key: str | None) -> list[dict[str, Any]]:
    """The rows of one dataset's snapshot, for one period or (None) every period."""
    rows: list[dict[str, Any]] = body["rows"]
    if period_key is None:
        return rows
    return [row for row in rows if row["periode"] == period_key]


def as_json(
    rows: Sequence[dict[str, Any]], *, dataset: str, computed_at: str, source: str
) -> dict[str, Any]:
    return {
        "dataset": dataset,
        "licence": LICENCE,
        "licence_url": LICENCE_URL,
        "source": source,
        "computed_at": computed_at,
        "columns": list(DATASETS[dataset]),
        "rows": list(rows),
    }


def _csv_value(value: Any) -> object:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "ya" if value else "tidak"
    return value


def as_csv(rows: Sequence[dict[str, Any]], *, dataset: str) -> str:
    """UTF-8 CSV (the caller adds a byte-order mark for spreadsheet programs): one header
    line of the stable column names, then one line per unit and period; withheld cells are
    empty, small ones "<5"; text cells cannot run as formulas (core.shared.spreadsheet)."""
    columns = DATASETS[dataset]
    buffer = io.StringIO()
    writer = csv_writer(buffer, lineterminator="\r\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow(_csv_value(row.get(column)) for column in columns)
    return buffer.getvalue()


def licence_text(source: str) -> str:
    return LICENCE_TEXT.format(source=source)
