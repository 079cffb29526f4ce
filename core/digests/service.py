"""The weekly digest of a unit (DESIGN section 8): figures in SQL, text from core's catalog,
an IKM trend chart, and exactly-once delivery through DigestRun claims and the outbox.

The digest is built per recipient: its case figures (new, open, overdue, resolved, the
oldest overdue references, officers with substantiated complaints) count only the cases that
recipient may open (`core.access.visible_cases_clause`), so a unit head is never told a
number derived from a `rahasia` case or from a case naming their own linked officer. The
survey figures (IKM, elements, trend) hold no case and are built once per unit.

The feature's service API: each name lives in one of the modules beside this one."""

from core.digests.chart import render_chart
from core.digests.delivery import (
    RunReport,
    claim_run,
    digest_recipients,
    send_all_digests,
    send_unit_digest,
    week_to_report,
)
from core.digests.figures import (
    CHART_SIZE,
    CLAIM_STALE_AFTER,
    RECIPIENT_ROLES,
    SUBSTANTIATED,
    TREND_WEEKS,
    DigestData,
    IkmFigure,
    IsoWeek,
    build_digest,
    digest_for,
    survey_digest,
)
from core.digests.render import digest_title, render_digest

__all__ = [
    "CHART_SIZE",
    "CLAIM_STALE_AFTER",
    "RECIPIENT_ROLES",
    "SUBSTANTIATED",
    "TREND_WEEKS",
    "DigestData",
    "IkmFigure",
    "IsoWeek",
    "RunReport",
    "build_digest",
    "claim_run",
    "digest_for",
    "digest_recipients",
    "digest_title",
    "render_chart",
    "render_digest",
    "send_all_digests",
    "send_unit_digest",
    "survey_digest",
    "week_to_report",
]
