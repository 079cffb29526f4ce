"""The console speaks both languages for every text it shows, and writes deadlines as the
last minute of their day."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from babel.messages.pofile import read_po

from console.i18n import LOCALES_DIR, short_time, shown_deadline

CONSOLE = Path(__file__).resolve().parent.parent / "console"
WITA = ZoneInfo("Asia/Makassar")


def _catalog(lang: str) -> dict[str, str]:
    with (LOCALES_DIR / lang / "LC_MESSAGES" / "console.po").open("rb") as fh:
        return {str(m.id): str(m.string) for m in read_po(fh) if m.id}


def test_both_catalogs_hold_the_same_texts_none_empty() -> None:
    indonesian, english = _catalog("id"), _catalog("en")
    assert set(indonesian) == set(english)
    assert [k for k, v in {**indonesian, **english}.items() if not v.strip()] == []


def test_every_literal_key_the_console_uses_is_in_the_catalog() -> None:
    known = set(_catalog("id"))
    used: set[str] = set()
    pattern = re.compile(r"""\bt\(\s*["']([a-z_]+\.[a-z0-9_.]+)["']""")
    for path in [*CONSOLE.glob("*.py"), *CONSOLE.glob("templates/*.html")]:
        used |= set(pattern.findall(path.read_text()))
    used = {key for key in used if not key.endswith((".", "_"))}  # a prefix ~ a code
    assert len(used) > 50, "the pattern finds the keys"
    assert sorted(used - known) == []


def test_a_deadline_at_midnight_shows_as_the_last_minute_of_its_day() -> None:
    midnight = datetime(2026, 12, 3, 16, 0, tzinfo=UTC)  # 4 December 00.00 WITA
    assert short_time(shown_deadline(midnight, WITA), "id", WITA, "WITA") == (
        "3 Des 2026 23.59 WITA"
    )
    afternoon = datetime(2026, 12, 3, 6, 5, tzinfo=UTC)  # 14.05 WITA: shown as it is
    assert shown_deadline(afternoon, WITA) == afternoon


CORE = CONSOLE.parent / "core"
# A refusal's rule key where core raises it (`why="case.unit_unknown"`) or returns it with
# its message (the password rules).
_AREAS = "case|canned|text|password|users|own|evaluation|csv|digest|followup|qr|notify"
_WHY = re.compile(rf"""(?:why=|return |_EMPTY = |EMPTY_[A-Z]+ = )"((?:{_AREAS})\.[a-z0-9_]+)\"""")
_PARAMS = re.compile(r"(?<!\{)\{([a-z_]+)\}(?!\})")


def test_every_rule_core_may_refuse_with_has_words_in_both_languages() -> None:
    used = {key for path in CORE.rglob("*.py") for key in _WHY.findall(path.read_text())}
    assert len(used) > 25, "the pattern finds core's rule keys"
    for lang in ("id", "en"):
        catalog = _catalog(lang)
        assert sorted(f"why.{key}" for key in used if f"why.{key}" not in catalog) == []
        unused = {k for k in catalog if k.startswith("why.") and k.count(".") > 1}
        assert sorted(unused - {f"why.{key}" for key in used}) == []
        # The words use only values core gives (a status, a length, a bound, a unit code,
        # placeholder names); anything else would fail when shown.
        names = {name for key, text in catalog.items() if key.startswith("why.")
                 for name in _PARAMS.findall(text)}  # fmt: skip
        assert names <= {
            *("status", "max", "min", "length", "unit", "names", "detail", "ref"),
            *("n", "row", "value", "end"),
        }


def test_a_refusal_is_told_in_the_users_language_with_labels_not_codes() -> None:
    from console.i18n import refusal
    from core.cases.policy import IllegalTransition
    from core.shared.errors import InvalidInput, NotFound

    stale = IllegalTransition("cannot verify ...", why="case.step_not_allowed", status="closed")
    assert "«Ditutup»" in refusal("id", stale)
    assert "closed" not in refusal("id", stale)
    assert "«Closed»" in refusal("en", stale)
    long = InvalidInput("too long", why="text.too_long", max=4000, length=4100)
    assert refusal("id", long) == (
        "Teks terlalu panjang: 4100 karakter, paling banyak 4000. Persingkat teksnya."
    )
    brace = InvalidInput("unmatched", why="canned.brace")
    assert refusal("id", brace).endswith("Gunakan {ref} dan {unit}.")
    unknown = InvalidInput("unknown placeholders", why="canned.placeholders", names="{nama}")
    assert refusal("id", unknown) == (
        "Isian pengganti tidak dikenal: {nama}. Gunakan {ref} dan {unit}."
    )
    assert refusal("id", NotFound("case 7 does not exist")).startswith("Pengaduan atau data")
    # A refusal without a rule key: the generic words, with core's message for reference.
    assert refusal("id", InvalidInput("odd")) == "Isian tidak dapat diterima (odd)."


def test_short_times_are_written_as_babel_writes_them() -> None:
    """The inbox's own writer of short times agrees with Babel's pattern in both languages,
    over every month, both halves of the day, and naive (SQLite) and aware moments."""
    from babel.dates import format_datetime

    from console.i18n import _SHORT

    for lang in ("id", "en"):
        for month in range(1, 13):
            for hour in (0, 7, 15, 23):
                moment = datetime(2026, month, 28, hour, 5, tzinfo=UTC)
                expected = format_datetime(moment, _SHORT[lang], tzinfo=WITA, locale=lang)
                assert short_time(moment, lang, WITA, "WITA") == f"{expected} WITA"
                naive = moment.replace(tzinfo=None)
                assert short_time(naive, lang, WITA, "WITA") == f"{expected} WITA"
