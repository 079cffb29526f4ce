"""The digest's IKM chart (issue 16), read from the figure it builds rather than its pixels:
dates on the axis (the week's Monday, "9 Nov"), the grade bands named in a legend, the number
of responses under each point, and no point for a week resting on too few responses."""

from __future__ import annotations

import io
import math
from datetime import UTC, datetime, timedelta

from PIL import Image
from sqlalchemy.engine import Engine
from sqlmodel import Session

from core.digests.chart import build_figure, chart_points, render_chart
from core.digests.figures import CHART_SIZE, DigestData, IsoWeek, survey_digest
from tests.factories import add_response, make_unit
from tests.test_digests import WITA

W46 = IsoWeek(2026, 46)  # Monday 9 November 2026


def _digest(engine: Engine) -> DigestData:
    """12 responses in the week of 9 Nov, 3 in the week of 26 Oct, 10 in the week of 24 Aug
    (the first week of the chart); nothing in the other weeks."""
    with Session(engine, expire_on_commit=False) as s:
        unit = make_unit(s, "dukcapil", "Dinas Dukcapil")
        for count, monday, answers in (
            (12, datetime(2026, 11, 9, 2, tzinfo=UTC), [4] * 9),
            (3, datetime(2026, 10, 26, 2, tzinfo=UTC), [3] * 9),
            (10, datetime(2026, 8, 24, 2, tzinfo=UTC), [3] * 9),
        ):
            for i in range(count):
                add_response(s, unit, answers, monday + timedelta(hours=i))
        s.commit()
        return survey_digest(s, unit, W46, WITA, 1000, min_responses=10)


def test_points_are_dated_counted_and_left_out_when_too_few(engine: Engine) -> None:
    data = _digest(engine)
    points = chart_points(data, "id")
    assert len(points) == 12
    assert [p.label for p in points][:2] == ["24 Agu", "31 Agu"]
    assert [p.label for p in points][-3:] == ["26 Okt", "2 Nov", "9 Nov"]
    assert chart_points(data, "en")[0].label == "24 Aug"
    drawn = [(p.label, str(p.ikm), p.n) for p in points if p.drawn]
    assert drawn == [("24 Agu", "75.00", 10), ("9 Nov", "100.00", 12)]
    week_of_26_oct = points[-3]
    assert week_of_26_oct.n == 3 and not week_of_26_oct.drawn  # 3 < IKM_MIN_RESPONSES


def test_the_figure_names_the_bands_dates_the_axis_and_counts_each_point(engine: Engine) -> None:
    data = _digest(engine)
    fig = build_figure(data, "id")
    ax = fig.axes[0]
    legend = ax.get_legend()
    assert legend is not None
    assert legend.get_title().get_text() == "Mutu pelayanan"
    assert [t.get_text() for t in legend.get_texts()] == [
        "A Sangat Baik (≥ 88,31)",
        "B Baik (≥ 76,61)",
        "C Kurang Baik (≥ 65,00)",
        "D Tidak Baik (≥ 25,00)",
    ]
    ticks = [t.get_text() for t in ax.get_xticklabels()]
    assert ticks[0] == "24 Agu" and ticks[-1] == "9 Nov" and len(ticks) == 12
    assert ax.get_xlabel() == "Minggu mulai (Senin)"
    [line] = ax.get_lines()
    ys = [float(y) for y in line.get_ydata()]  # type: ignore[union-attr]
    assert ys[0] == 75.0 and ys[-1] == 100.0
    assert all(math.isnan(y) for y in ys[1:-1])  # not drawn: no data or too few
    assert [t.get_text() for t in ax.texts] == ["n=10", "n=12"]
    notes = [t.get_text() for t in fig.texts]
    assert notes == ["Minggu dengan kurang dari 10 responden tidak digambar; n = jumlah responden."]
    english = build_figure(data, "en").axes[0].get_legend()
    assert english is not None and english.get_texts()[0].get_text() == "A Sangat Baik (≥ 88.31)"
    png = Image.open(io.BytesIO(render_chart(data, "en")))
    assert png.format == "PNG" and png.size == CHART_SIZE
