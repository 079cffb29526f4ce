"""The master-data CSV files' columns in Indonesian as well as English.

An office's spreadsheet says `nip,nama,kode_unit,jabatan,aktif`; the importers read
`nip,name,unit_code,position,active`. Each importer reads its file through `read_columns`,
which gives every Indonesian column its English name (a file may mix both; where a file
has both names for one column, the English one is read)."""

from __future__ import annotations

from core.shared.csv_input import read_csv

OFFICER_COLUMNS = {"nama": "name", "kode_unit": "unit_code", "jabatan": "position",
                   "aktif": "active"}  # fmt: skip
UNIT_COLUMNS = {"kode": "code", "kode_unit": "code", "nama": "name", "nama_unit": "name",
                "kode_induk": "parent_code", "populasi_layanan": "service_population",
                "aktif": "active"}  # fmt: skip
SERVICE_COLUMNS = {"kode_unit": "unit_code", "nama": "name", "nama_layanan": "name",
                   "layanan": "name", "aktif": "active"}  # fmt: skip


def read_columns(
    raw: bytes, names: dict[str, str]
) -> tuple[list[str], list[tuple[int, dict[str, str]]]]:
    """`read_csv` with the columns under their English names (`names`: Indonesian -> English)."""
    header, records = read_csv(raw)
    rename: dict[str, str] = {}
    for column in header:
        english = names.get(column)
        if english and english not in header and english not in rename.values():
            rename[column] = english
    if not rename:
        return header, records
    header = [rename.get(c, c) for c in header]
    records = [(line, {rename.get(k, k): v for k, v in values.items()}) for line, values in records]
    return header, records
