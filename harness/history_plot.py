"""Trend charts from the release history: one panel per system, one line per series, regressions marked.

matplotlib is imported inside the functions (it is slow to import) and used through Figure and the
Agg canvas directly, never pyplot, so no global figure state is touched.
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from pathlib import Path

from harness.errors import UserError
from harness.history.queries import DEFAULT_METRIC, Series
from harness.io import atomic_write
from harness.results.regression import DEFAULT_TOLERANCE

FORMATS = {".png": "png", ".svg": "svg"}
_STYLE = {"svg.hashsalt": "harness-history", "svg.fonttype": "none", "font.size": 9}


def trend_figure(series: Sequence[Series], tolerance: float = DEFAULT_TOLERANCE):
    """A matplotlib Figure: x is the run order across the whole history, so panels line up in time."""
    from matplotlib.figure import Figure

    systems = sorted({s.system for s in series})
    runs = sorted({(p.run_time, -1 if p.run_id is None else p.run_id, p.tag) for s in series for p in s.points},
                  key=lambda r: (r[0], r[1] if r[1] >= 0 else float("inf")))
    position = {(t, i): x for x, (t, i, _) in enumerate(runs)}
    labels = [tag or (f"#{i}" if i >= 0 else "now") for _, i, tag in runs]
    fig = Figure(figsize=(max(6.0, 0.5 * len(runs) + 3), 2.6 * max(1, len(systems)) + 0.6), layout="constrained")
    axes = fig.subplots(max(1, len(systems)), 1, squeeze=False)[:, 0]
    metric = series[0].metric if series else DEFAULT_METRIC
    for ax, system in zip(axes, systems):
        for s in (s for s in series if s.system == system):
            xs = [position[(p.run_time, -1 if p.run_id is None else p.run_id)] for p in s.points]
            ys = [p.value for p in s.points]
            ax.plot(xs, ys, marker="o", markersize=4, label=s.label)
            bad = [(x, p.value) for x, p in zip(xs, s.points) if p.regression]
            if bad:
                ax.scatter([b[0] for b in bad], [b[1] for b in bad], marker="v", s=70, color="#c0392b", zorder=3,
                           label=f"regression (> {tolerance:g})")
        ax.set_title(f"{system}: {metric}", loc="left")
        ax.set_xticks(range(len(runs)), labels, rotation=45 if len(runs) > 6 else 0, ha="right" if len(runs) > 6 else "center")
        ax.grid(True, alpha=0.3)
        ax.legend(loc="best", fontsize=7)
    axes[-1].set_xlabel("run (tag, or #run id)")
    return fig


def render(series: Sequence[Series], fmt: str, tolerance: float = DEFAULT_TOLERANCE) -> bytes:
    import matplotlib

    with matplotlib.rc_context(_STYLE):
        fig = trend_figure(series, tolerance)
        buffer = io.BytesIO()
        fig.savefig(buffer, format=fmt, metadata={"Date": None} if fmt == "svg" else None, dpi=120)
    return buffer.getvalue()


def write_plot(series: Sequence[Series], out: Path, tolerance: float = DEFAULT_TOLERANCE) -> None:
    fmt = FORMATS.get(Path(out).suffix.lower())
    if fmt is None:
        raise UserError("the chart is written as .png or .svg", out, None, "--plot")
    atomic_write(Path(out), render(series, fmt, tolerance))


def trend_svg(series: Sequence[Series], tolerance: float = DEFAULT_TOLERANCE) -> str | None:
    """The trend chart as an inline <svg> element for an HTML report; None when there is no trend to show."""
    if sum(len(s.points) for s in series) < 2:
        return None
    svg = render(series, "svg", tolerance).decode("utf-8")
    return svg[re.search(r"<svg\b", svg).start():]
