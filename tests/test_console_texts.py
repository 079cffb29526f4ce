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
