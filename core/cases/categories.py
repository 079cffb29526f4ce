"""Complaint categories: the Ombudsman's maladministration categories, plus "other"."""

from __future__ import annotations

CATEGORIES: dict[str, tuple[str, str]] = {
    "penundaan_berlarut": ("Penundaan berlarut", "Undue delay"),
    "penyimpangan_prosedur": ("Penyimpangan prosedur", "Deviation from procedure"),
    "tidak_memberikan_pelayanan": ("Tidak memberikan pelayanan", "Failure to provide service"),
    "penyalahgunaan_wewenang": ("Penyalahgunaan wewenang", "Abuse of authority"),
    "pungli": ("Permintaan imbalan / pungli", "Request for payment / illegal levy"),
    "tidak_kompeten": ("Tidak kompeten", "Incompetence"),
    "tidak_patut": ("Tidak patut", "Improper conduct"),
    "diskriminasi": ("Diskriminasi", "Discrimination"),
    "konflik_kepentingan": ("Konflik kepentingan", "Conflict of interest"),
    "keberpihakan": ("Keberpihakan", "Partiality"),
    "lainnya": ("Lainnya", "Other"),
}


def category_label(code: str, language: str) -> str:
    labels = CATEGORIES.get(code)
    if labels is None:
        return code
    return labels[1] if language == "en" else labels[0]
