"""Plots for people who would rather look than read: metric bars with interval whiskers, a
precision-recall scatter of systems, and claim F1 against the match threshold.

Each plot is drawn from the results dict (the same numbers as the tables) on matplotlib's Agg
canvas, without pyplot's global state, and returned as PNG and SVG bytes.
"""

from __future__ import annotations

from harness.report import systems as S
from harness.results import metrics as M

BAR_METRICS = ("summary.rouge1", "summary.rouge2", "summary.rougeL", "summary.rougeLsum", "summary.claim_coverage",
               "claims.precision", "claims.recall", "claims.f1", "claims.weighted_recall")
PLOT_NAMES = ("metrics", "precision_recall", "sensitivity")


def _label(text: str) -> str:
    """Plain text for matplotlib: a `$` would otherwise start mathtext (and can raise on a system name)."""
    return text.replace("\\", "\\\\").replace("$", r"\$")


def _render(fig) -> dict[str, bytes]:
    import io

    import matplotlib

    out = {}
    with matplotlib.rc_context({"svg.hashsalt": "harness", "svg.fonttype": "none"}):
        for fmt, meta in (("png", {"Software": None}), ("svg", {"Date": None, "Creator": None})):
            buffer = io.BytesIO()
            fig.savefig(buffer, format=fmt, metadata=meta, bbox_inches="tight", dpi=110)
            out[fmt] = buffer.getvalue()
    return out


def _figure(width: float, height: float):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height))
    FigureCanvasAgg(fig)
    return fig


def metric_bars(results: dict) -> dict[str, bytes] | None:
    """One small panel per metric; a bar per system, whiskers at the 95% interval where one was computed."""
    systems = S.ranked_systems(results)
    panels = []
    for name in BAR_METRICS:
        metric = M.BY_NAME[name]
        names = [s for s in systems if M.system_value(results["systems"][s], metric) is not None]
        if names:
            panels.append((metric, names))
    if not panels:
        return None
    cols = min(3, len(panels))
    rows = -(-len(panels) // cols)
    height_per = 0.45 * max(len(n) for _, n in panels) + 1.0
    fig = _figure(4.2 * cols, height_per * rows)
    for i, (metric, names) in enumerate(panels):
        ax = fig.add_subplot(rows, cols, i + 1)
        values = [M.system_value(results["systems"][s], metric) for s in names]
        cis = [M.system_ci(results["systems"][s], metric) for s in names]
        ys = list(range(len(names)))[::-1]
        ax.barh(ys, values, color="#4c78a8", height=0.6)
        lows = [v - ci[0] if ci else 0.0 for v, ci in zip(values, cis)]
        highs = [ci[1] - v if ci else 0.0 for v, ci in zip(values, cis)]
        if any(cis):
            ax.errorbar(values, ys, xerr=[[max(0.0, x) for x in lows], [max(0.0, x) for x in highs]],
                        fmt="none", ecolor="#222222", capsize=3, linewidth=1)
        ax.set_yticks(ys)
        ax.set_yticklabels([_label(s) for s in names], fontsize=8)
        ax.set_xlim(0, 1)
        ax.set_title(metric.name + (" (95% CI)" if any(cis) else ""), fontsize=9)
        ax.tick_params(axis="x", labelsize=7)
        ax.grid(axis="x", alpha=0.3)
    fig.tight_layout()
    return _render(fig)


def precision_recall(results: dict) -> dict[str, bytes] | None:
    """Claim precision against recall per system, over iso-F1 curves."""
    import numpy as np

    points = [(s, results["systems"][s]["claims"]) for s in S.ranked_systems(results)
              if results["systems"][s].get("claims")]
    if not points:
        return None
    fig = _figure(5.5, 5.0)
    ax = fig.add_subplot(1, 1, 1)
    r = np.linspace(0.01, 1, 200)
    for level in (0.2, 0.4, 0.6, 0.8):
        with np.errstate(divide="ignore", invalid="ignore"):
            p = level * r / (2 * r - level)
        keep = (p > 0) & (p <= 1)
        ax.plot(r[keep], p[keep], color="#bbbbbb", linewidth=0.8, linestyle="--")
        ax.annotate(f"F1={level}", (1.0, level / (2 - level)), fontsize=7, color="#888888",
                    xytext=(2, 0), textcoords="offset points")
    for name, c in points:
        ax.scatter([c["recall"]], [c["precision"]], s=40, zorder=3)
        ax.annotate(_label(name), (c["recall"], c["precision"]), fontsize=8, xytext=(4, 4), textcoords="offset points")
    ax.set_xlim(0, 1.05)
    ax.set_ylim(0, 1.05)
    ax.set_xlabel("claim recall")
    ax.set_ylabel("claim precision")
    ax.set_title("Claims: precision vs recall (micro)", fontsize=10)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return _render(fig)


def sensitivity(results: dict) -> dict[str, bytes] | None:
    """Claim F1 at each match threshold, one line per system; the run's threshold marked."""
    sens = results.get("sensitivity") or {}
    if not sens.get("systems"):
        return None
    fig = _figure(5.5, 3.8)
    ax = fig.add_subplot(1, 1, 1)
    for name in [s for s in S.ranked_systems(results) if s in sens["systems"]]:
        rows = sens["systems"][name]
        ax.plot([r["threshold"] for r in rows], [r["f1"] for r in rows], marker="o", label=_label(name))
    if sens.get("run_threshold") is not None:
        ax.axvline(sens["run_threshold"], color="#888888", linestyle=":", linewidth=1)
    ax.set_ylim(0, 1.05)
    ax.set_xlabel("match threshold")
    ax.set_ylabel("claim F1")
    ax.set_title("Claim F1 against the match threshold", fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    fig.tight_layout()
    return _render(fig)


def all_plots(results: dict) -> dict[str, dict[str, bytes]]:
    """name → {"png": bytes, "svg": bytes}, for the plots that have data."""
    made = {"metrics": metric_bars(results), "precision_recall": precision_recall(results),
            "sensitivity": sensitivity(results)}
    return {name: files for name, files in made.items() if files}
