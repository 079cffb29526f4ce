"""One voice in every catalog (the bot's, core's, the console's; Indonesian and English): the
terms citizens were confused by stay out, and the SKM questions keep the regulation's wording.

The bot and core speak to citizens and staff as "Anda"; only the nine SKM questions keep the
sample wording of PermenPANRB 14/2017 ("Saudara"). A complaint's text is an "uraian
kejadian" (not a "cerita"), handled by "petugas yang menangani"; a Telegram id is a "nomor
akun Telegram" (citizens do not know what an "ID Telegram" is)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
CATALOGS = {
    "conversations": ROOT / "conversations" / "locales",
    "core": ROOT / "core" / "shared" / "locales",
    "console": ROOT / "console" / "locales",
}
SKM_QUESTIONS = frozenset(f"svy.q{i}" for i in range(1, 10))

# Forbidden everywhere, per language: (pattern, why). Case-insensitive unless (?-i) says so.
FORBIDDEN: dict[str, list[tuple[str, str]]] = {
    "id": [
        (r"\bcerita\w*", 'a complaint is an "uraian kejadian", not a story'),
        (r"\bpetugas penanganan\b", 'say "petugas yang menangani"'),
        (r"\bID\s+Telegram\b", 'say "nomor akun Telegram"'),
        (r"\bTelegram\s+ID\b", 'say "nomor akun Telegram"'),
        (r"\b(kamu|kau|engkau|dikau|lu|gue)\b", 'the bot says "Anda"'),
        (r"(?-i:\banda\b)", '"Anda" is written with a capital A'),
    ],
    "en": [
        (r"\bstory\b", 'a complaint has a "description of the incident"'),
        (r"\bTelegram\s+ID\b", 'say "Telegram account number"'),
        (r"\byour\s+ID\b", 'say "your account number"'),
        (r"\bhandling officer", 'say "the staff handling it"'),
    ],
}
# "Saudara" only in the SKM questions (the regulation's sample wording).
SAUDARA = re.compile(r"\bsaudara\b", re.IGNORECASE)

# The nine SKM questions as the regulation's sample questionnaire words them.
SKM_WORDING = {
    "svy.q1": "Bagaimana pendapat Saudara tentang kesesuaian persyaratan pelayanan dengan jenis "
    "pelayanannya?",
    "svy.q2": "Bagaimana pemahaman Saudara tentang kemudahan prosedur pelayanan di unit ini?",
    "svy.q3": "Bagaimana pendapat Saudara tentang kecepatan waktu dalam memberikan pelayanan?",
    "svy.q4": "Bagaimana pendapat Saudara tentang kewajaran biaya/tarif dalam pelayanan?",
    "svy.q5": "Bagaimana pendapat Saudara tentang kesesuaian produk pelayanan antara yang "
    "tercantum dalam standar pelayanan dengan hasil yang diberikan?",
    "svy.q6": "Bagaimana pendapat Saudara tentang kompetensi/kemampuan petugas dalam pelayanan?",
    "svy.q7": "Bagaimana pendapat Saudara tentang perilaku petugas dalam pelayanan terkait "
    "kesopanan dan keramahan?",
    "svy.q8": "Bagaimana pendapat Saudara tentang penanganan pengaduan pengguna layanan?",
    "svy.q9": "Bagaimana pendapat Saudara tentang kualitas sarana dan prasarana?",
}

# Terms that must be there: (domain, language, key, term).
REQUIRED = [
    ("conversations", "id", "cmp.desc.prompt", "Uraian kejadian"),
    ("conversations", "id", "cmp.summary", "Uraian kejadian:"),
    ("conversations", "id", "cmp.edit.desc", "Uraian kejadian"),
    ("conversations", "en", "cmp.summary", "Description of the incident:"),
    ("conversations", "en", "cmp.edit.desc", "Description of the incident"),
    ("conversations", "id", "cmp.privacy.prompt", "petugas yang menangani"),
    ("conversations", "id", "cmp.privacy.prompt", "nomor akun"),
    ("conversations", "id", "consent.notice", "nomor akun Telegram"),
    ("conversations", "en", "consent.notice", "Telegram account number"),
    ("conversations", "id", "privacy.text", "Nomor akun Telegram"),
    ("conversations", "id", "consent.decline", "Tidak setuju"),
]


def catalog(domain: str, lang: str) -> dict[str, str]:
    path = CATALOGS[domain] / lang / "LC_MESSAGES" / f"{domain}.po"
    with path.open("rb") as fh:
        return {str(m.id): str(m.string) for m in read_po(fh) if m.id}


ALL = [(domain, lang) for domain in CATALOGS for lang in ("id", "en")]


@pytest.mark.parametrize(("domain", "lang"), ALL)
def test_no_catalog_uses_a_forbidden_term(domain: str, lang: str) -> None:
    found = []
    for key, text in catalog(domain, lang).items():
        for pattern, why in FORBIDDEN[lang]:
            for match in re.finditer(pattern, text, re.IGNORECASE):
                found.append(f"{key}: {match.group(0)!r} ({why})")
    assert found == []


@pytest.mark.parametrize(("domain", "lang"), ALL)
def test_saudara_only_in_the_nine_skm_questions(domain: str, lang: str) -> None:
    outside = [
        key
        for key, text in catalog(domain, lang).items()
        if SAUDARA.search(text) and not (domain == "conversations" and key in SKM_QUESTIONS)
    ]
    assert outside == [], 'everywhere but the SKM questions, the citizen is "Anda"'


def test_the_skm_questions_keep_the_regulations_wording() -> None:
    questions = {k: v for k, v in catalog("conversations", "id").items() if k in SKM_QUESTIONS}
    assert questions == SKM_WORDING
    english = catalog("conversations", "en")
    assert all(english[k] and not SAUDARA.search(english[k]) for k in SKM_QUESTIONS)


@pytest.mark.parametrize(("domain", "lang", "key", "term"), REQUIRED)
def test_the_words_citizens_understand_are_there(
    domain: str, lang: str, key: str, term: str
) -> None:
    assert term in catalog(domain, lang)[key]


def test_the_patterns_catch_what_they_are_for() -> None:
    """The glossary's own check: each forbidden pattern finds the drift it names."""
    samples = {
        "id": ["Ceritakan apa yang terjadi", "petugas penanganan", "ID Telegram Anda",
               "Telegram ID", "kamu", "terima kasih anda"],
        "en": ["Story: x", "your Telegram ID", "your ID is", "the handling officer"],
    }  # fmt: skip
    for lang, texts in samples.items():
        for pattern, text in zip((p for p, _ in FORBIDDEN[lang]), texts, strict=True):
            assert re.search(pattern, text, re.IGNORECASE), (pattern, text)
    assert not re.search(FORBIDDEN["id"][-1][0], "Anda", re.IGNORECASE)
