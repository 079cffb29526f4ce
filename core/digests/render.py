"""The digest as text, from core's catalog, in the recipient's language."""

from __future__ import annotations

from datetime import date
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


def short_date(day: date, lang: str) -> str:
    """'23 Nov' ('23 Des' in Indonesian): the day and the month's first three letters."""
    months = ct(lang, "months").split(",")
    return f"{day.day} {months[day.month - 1][:3]}"


def _quarter_lines(data: DigestData, lang: str) -> list[str]:
    lines = [ct(lang, "digest.ikm_quarter", value=_ikm_line(data.quarter, lang))]
    if data.lowest_elements:
        worst = ", ".join(f"{name} ({_num(nrr, lang)})" for name, nrr in data.lowest_elements)
        lines.append(ct(lang, "digest.lowest", elements=worst))
    return lines


def _comment_lines(data: DigestData, lang: str) -> list[str]:
    if not data.comments:
        return []
    lines = ["", ct(lang, "digest.comments_title")]
    for c in data.comments:
        where = f"{short_date(c.day, lang)}, {c.service}" if c.service else short_date(c.day, lang)
        lines.append(ct(lang, "digest.comment_line", day=where, text=c.text))
    return lines


def render_digest(data: DigestData, lang: str) -> str:
    """The digest as a Telegram message in `lang` (never a reporter, never a NIP). A quiet
    week says so in one line and still gives the quarter's figures."""
    start, end = data.week.monday(), data.week.sunday()
    if data.nothing_new:
        quiet = ct(lang, "digest.nothing_new", unit=data.unit_name, week=str(data.week))
        return "\n".join([quiet, "", *_quarter_lines(data, lang)])
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
        *_quarter_lines(data, lang),
    ]
    if data.officers_substantiated:
        names = ", ".join(f"{name} ({n})" for name, n in data.officers_substantiated)
        lines.append(ct(lang, "digest.officers", officers=names))
    lines += _comment_lines(data, lang)
    return "\n".join(lines)
