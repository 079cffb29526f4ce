"""The IKM trend chart (PNG, matplotlib without a display).

`chart_points` is what the chart shows: one point per week, dated by the week's Monday
("23 Nov"), with the responses it rests on; a week with fewer than the digest's minimum
(`IKM_MIN_RESPONSES`) keeps its date on the axis but is not drawn. `build_figure` draws them
with the grade bands named in a legend and each point's n under it; `render_chart` is the
PNG the digest sends."""

from __future__ import annotations

import io
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

from core.digests.figures import CHART_SIZE, DigestData, IsoWeek
from core.digests.render import short_date
from core.shared.i18n import ct
from core.surveys.skm import GRADES, MIN_RESPONSES_DEFAULT

if TYPE_CHECKING:
    from matplotlib.figure import Figure

IKM_FLOOR, IKM_CEILING = 25.0, 100.0
BAND_COLOURS = {"A": "#2da44e", "B": "#1f6feb", "C": "#bf8700", "D": "#cf222e"}


@dataclass(frozen=True)
class ChartPoint:
    week: str  # 2026-W48
    label: str  # the week's Monday: "23 Nov"
    n: int  # the responses of that week
    ikm: Decimal | None  # None: fewer responses than the minimum, not drawn

    @property
    def drawn(self) -> bool:
        return self.ikm is not None


def chart_points(data: DigestData, lang: str) -> list[ChartPoint]:
    """The trend's weeks as the chart shows them, labelled in `lang` (an IKM on too few
    responses is already None in `data.trend`: its week keeps its label, without a point)."""
    counts = data.trend_n or [0] * len(data.trend)
    return [
        ChartPoint(week, short_date(IsoWeek.parse(week).monday(), lang), n, ikm)
        for (week, ikm), n in zip(data.trend, counts, strict=True)
    ]


def band_labels(lang: str) -> list[tuple[str, float, float, str]]:
    """(letter, lower, upper, legend text) of each grade band, best first."""
    bands = []
    upper = IKM_CEILING
    for floor, grade in GRADES:
        lower = max(float(floor), IKM_FLOOR)
        shown = f"{floor:.2f}".replace(".", ",") if lang == "id" else f"{floor:.2f}"
        text = ct(lang, "digest.chart_band", letter=grade.letter, label=grade.label, floor=shown)
        bands.append((grade.letter, lower, upper, text))
        upper = lower
    return bands


def build_figure(data: DigestData, lang: str) -> Figure:
    """The chart as a matplotlib Figure (no display needed)."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure
    from matplotlib.patches import Patch

    points = chart_points(data, lang)
    fig = Figure(figsize=(CHART_SIZE[0] / 100, CHART_SIZE[1] / 100), dpi=100)
    ax = fig.subplots()
    handles = []
    for letter, lower, upper, text in band_labels(lang):
        ax.axhspan(lower, upper, color=BAND_COLOURS[letter], alpha=0.10, linewidth=0)
        handles.append(Patch(facecolor=BAND_COLOURS[letter], alpha=0.35, label=text))
    xs = list(range(len(points)))
    values = [float(p.ikm) if p.ikm is not None else float("nan") for p in points]
    ax.plot(xs, values, marker="o", color="#24292f", linewidth=1.5)
    for x, point in zip(xs, points, strict=True):
        if point.ikm is not None:
            ax.annotate(
                ct(lang, "digest.chart_n", n=point.n),
                (x, float(point.ikm)),
                textcoords="offset points",
                xytext=(0, -14),
                ha="center",
                fontsize=7,
                color="#57606a",
            )
    ax.set_xticks(xs)
    ax.set_xticklabels([p.label for p in points], fontsize=7)
    ax.set_xlim(-0.5, max(len(points) - 0.5, 0.5))
    ax.set_ylim(IKM_FLOOR, IKM_CEILING)
    ax.set_title(ct(lang, "digest.chart_title", unit=data.unit_name)[:80], fontsize=10)
    ax.set_ylabel("IKM")
    ax.set_xlabel(ct(lang, "digest.chart_axis"), fontsize=8)
    ax.grid(alpha=0.3, axis="y")
    ax.legend(
        handles=handles,
        title=ct(lang, "digest.chart_legend"),
        loc="upper left",
        bbox_to_anchor=(1.01, 1.0),
        fontsize=7,
        title_fontsize=8,
        frameon=False,
    )
    threshold = data.this_week.threshold if data.this_week else MIN_RESPONSES_DEFAULT
    fig.text(0.01, 0.01, ct(lang, "digest.chart_note", threshold=threshold), fontsize=7)
    fig.subplots_adjust(left=0.07, right=0.74, top=0.9, bottom=0.17)
    return fig


def render_chart(data: DigestData, lang: str) -> bytes:
    """PNG of the IKM over the last 12 weeks."""
    fig = build_figure(data, lang)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100)
    return buf.getvalue()
