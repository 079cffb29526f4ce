"""The IKM trend chart (PNG, matplotlib without a display)."""

from __future__ import annotations

import io

from core.digests.figures import CHART_SIZE, DigestData
from core.shared.i18n import ct


def render_chart(data: DigestData, lang: str) -> bytes:
    """PNG of the IKM over the last 12 weeks (matplotlib, no display needed)."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    fig = Figure(figsize=(CHART_SIZE[0] / 100, CHART_SIZE[1] / 100), dpi=100)
    ax = fig.subplots()
    labels = [w.split("-")[1] for w, _ in data.trend]
    values = [float(v) if v is not None else float("nan") for _, v in data.trend]
    ax.plot(labels, values, marker="o", color="#1f6feb")
    for floor, color in ((88.31, "#2da44e"), (76.61, "#bf8700"), (65.0, "#cf222e")):
        ax.axhline(floor, color=color, linewidth=0.8, linestyle="--")
    ax.set_ylim(25, 100)
    ax.set_title(ct(lang, "digest.chart_title", unit=data.unit_name)[:80])
    ax.set_ylabel("IKM")
    ax.grid(alpha=0.3)
    fig.subplots_adjust(left=0.08, right=0.98, top=0.9, bottom=0.1)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100)
    return buf.getvalue()
