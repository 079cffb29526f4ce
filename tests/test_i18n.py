"""Every user-facing text exists in both catalogs, and every key the bot uses is there."""

from __future__ import annotations

import re
from pathlib import Path

from babel.messages.pofile import read_po

from conversations.complaint import EDITABLE
from conversations.i18n import LANGUAGES, LOCALES_DIR, t
from conversations.notices import OUTCOMES, TEMPLATES
from core.cases.categories import CATEGORIES
from core.cases.models import CaseStatus, Privacy
from core.surveys.submission import PROFILE_CHOICES

ROOT = Path(__file__).resolve().parent.parent
CHANNEL_DIRS = (ROOT / "conversations", ROOT / "bot")


# Every kind of public case event the citizen's timeline can show.
PUBLIC_EVENT_KINDS = (
    "created", "verified", "rejected", "assigned", "info_requested", "citizen_replied",
    "resolved", "closed", "auto_closed", "reopened", "reopened_by_citizen",
    "rated_satisfied", "rated_unsatisfied", "closed_unanswered",
)  # fmt: skip


def _catalog(lang: str) -> dict[str, str]:
    with (LOCALES_DIR / lang / "LC_MESSAGES" / "conversations.po").open("rb") as fh:
        return {str(m.id): str(m.string) for m in read_po(fh) if m.id}


def _keys_used_in_code() -> set[str]:
    keys: set[str] = set()
    prefixes = (
        "lang|consent|menu|privacy|help|cancel|hint|deeplink|nav|svy|profile|element|error"
        "|notify|outcome|cmp|case|link"
    )
    pattern = re.compile(rf"""["']((?:{prefixes})\.[a-z0-9_.]+)["']""")
    for path in (p for d in CHANNEL_DIRS for p in d.glob("*.py")):
        keys |= set(pattern.findall(path.read_text()))
    keys |= {f"element.{i}" for i in range(1, 10)}
    keys |= {f"svy.q{i}" for i in range(1, 10)}
    keys |= {f"svy.q{i}.a{v}" for i in range(1, 10) for v in range(1, 5)}
    keys |= {f"svy.profile.{name}" for name in PROFILE_CHOICES}
    keys |= {f"profile.{name}.{v}" for name, values in PROFILE_CHOICES.items() for v in values}
    keys |= {f"notify.{name}" for name in TEMPLATES}
    keys |= {f"outcome.{name}" for name in OUTCOMES}
    keys |= {f"cmp.edit.{name}" for name in EDITABLE}
    keys |= {f"cmp.category.help.{code}" for code in CATEGORIES}
    keys |= {f"privacy.level.{p.value}" for p in Privacy}
    keys |= {f"status.{s.value}" for s in CaseStatus}
    keys |= {f"event.{kind}" for kind in PUBLIC_EVENT_KINDS}
    keys |= {f"link.{r}" for r in ("unknown", "expired", "used", "inactive", "taken")}
    return keys


def test_both_languages_have_the_same_complete_catalog() -> None:
    catalogs = {lang: _catalog(lang) for lang in LANGUAGES}
    assert set(catalogs["id"]) == set(catalogs["en"])
    for lang, catalog in catalogs.items():
        empty = [k for k, v in catalog.items() if not v.strip()]
        assert empty == [], f"{lang}: untranslated {empty}"


def test_every_key_the_bot_uses_is_translated() -> None:
    used = _keys_used_in_code()
    assert len(used) > 100
    for lang in LANGUAGES:
        missing = sorted(used - set(_catalog(lang)))
        assert missing == [], f"{lang} lacks {missing}"


def test_no_unused_texts() -> None:
    used = _keys_used_in_code()
    # A channel's own wording of a text (`key@whatsapp`, conversations.engine.Ctx.tr) is used
    # wherever the text is.
    unused = [k for k in _catalog("id") if k.partition("@")[0] not in used]
    assert sorted(unused) == []


def test_a_channels_own_wording_exists_only_beside_its_text() -> None:
    catalog = _catalog("id")
    variants = [k for k in catalog if "@" in k]
    assert variants, "the WhatsApp privacy texts"
    for key in variants:
        base, _, channel = key.partition("@")
        assert base in catalog and channel == "whatsapp", key
        assert "Telegram" not in catalog[key] and "Telegram" not in _catalog("en")[key], key


def test_placeholders_match_between_languages() -> None:
    id_cat, en_cat = _catalog("id"), _catalog("en")
    placeholder = re.compile(r"\{(\w+)\}")
    for key, text in id_cat.items():
        assert set(placeholder.findall(text)) == set(placeholder.findall(en_cat[key])), key


def test_lookup_formats_and_falls_back_to_indonesian() -> None:
    assert t("en", "svy.comment.too_long", length=1200, max=1000, cut=200).startswith(
        "Your comment has 1200 characters"
    )
    assert t("xx", "menu.rate") == t("id", "menu.rate")


def test_no_catalog_says_a_text_twice() -> None:
    """Catalogs grow by appending: a key appended again would be silently ignored (the
    first one wins), so a changed text must be edited where it stands."""
    root = Path(__file__).resolve().parent.parent
    for po in sorted(root.glob("*/locales/*/LC_MESSAGES/*.po")) + sorted(
        root.glob("core/shared/locales/*/LC_MESSAGES/*.po")
    ):
        keys = [
            line
            for line in po.read_text(encoding="utf-8").splitlines()
            if line.startswith('msgid "')
        ]
        twice = sorted({k for k in keys if keys.count(k) > 1})
        assert twice == [], f"{po.relative_to(root)}: {twice}"
