"""The digest as text, from core's catalog, in the recipient's language."""

from __future__ import annotations

from decimal import Decimal

from core.digests.figures import DigestData, IkmFigure
from core.shared.i18n import ct

# Text and chart ---------------------------------------------------------------------------


def _num(value: Decimal | None, lang: str) -> str:
    """A figure already rounded half-up by core.surveys.skm, written as it is: formatting a
    Decimal to fewer places would round again, half-even."""
    if value is None:
        return "-"
    text = f"{value:f}"
    return text.replace(".", ",") if lang == "id" else text


def _ikm_line(fig: IkmFigure | None, lang: str) -> str:
    if fig is None or not fig.n:
        return ct(lang, "digest.ikm_none")
    if not fig.enough:
        return ct(lang, "digest.ikm_too_few", n=fig.n, threshold=fig.threshold, minimum=fig.minimum)
    return ct(
        lang,
        "digest.ikm_value",
        ikm=_num(fig.ikm, lang),
        grade=fig.grade or "-",
        n=fig.n,
        minimum=fig.minimum,
    )


def digest_title(data: DigestData, lang: str) -> str:
    return ct(lang, "digest.title", unit=data.unit_name, week=str(data.week))


def render_digest(data: DigestData, lang: str) -> str:
    """The digest as a Telegram message in `lang` (never a reporter, never a NIP)."""
    start, end = data.week.monday(), data.week.sunday()
    if data.nothing_new:
        return ct(lang, "digest.nothing_new", unit=data.unit_name, week=str(data.week))
    lines = [
        digest_title(data, lang),
        ct(lang, "digest.period", start=start.strftime("%d-%m-%Y"), end=end.strftime("%d-%m-%Y")),
        "",
        ct(
            lang,
            "digest.cases",
            new=data.new,
            open=data.open,
            overdue=data.overdue,
            resolved=data.resolved,
        ),
    ]
    if data.oldest_overdue:
        lines.append(ct(lang, "digest.oldest_overdue", refs=", ".join(data.oldest_overdue)))
    lines += [
        "",
        ct(lang, "digest.ikm_this_week", value=_ikm_line(data.this_week, lang)),
        ct(lang, "digest.ikm_last_week", value=_ikm_line(data.last_week, lang)),
        ct(lang, "digest.ikm_quarter", value=_ikm_line(data.quarter, lang)),
    ]
    if data.lowest_elements:
        worst = ", ".join(f"{name} ({_num(nrr, lang)})" for name, nrr in data.lowest_elements)
        lines.append(ct(lang, "digest.lowest", elements=worst))
    if data.officers_substantiated:
        names = ", ".join(f"{name} ({n})" for name, n in data.officers_substantiated)
        lines.append(ct(lang, "digest.officers", officers=names))
    return "\n".join(lines)
