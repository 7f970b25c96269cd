"""The named metrics that leaderboards show and `compare` gates, read from the results JSON.

One registry, so a table cell, a plot bar and a regression gate always mean the same number.
Names are `task.metric` (summary.rougeL, claims.f1), the form used by `--tolerance`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Metric:
    name: str  # task.metric, e.g. claims.f1
    label: str  # short column header
    task: str  # summary | claims
    value: Callable[[dict], float | None]  # from a system's task aggregate
    per_doc: Callable[[dict], float | None]  # from one per_doc task entry (the paired unit)
    ci: Callable[[dict], list[float] | None] = lambda agg: None
    higher_is_better: bool = True
    claim_level: bool = False  # moves with the set of matched gold claims (McNemar applies)


def _rouge(kind: str, label: str) -> Metric:
    return Metric(f"summary.{kind}", label, "summary",
                  value=lambda a: a[kind]["fmeasure"],
                  per_doc=lambda d: d[kind]["fmeasure"],
                  ci=lambda a: a[kind].get("ci95"))


def _plain(task: str, key: str, label: str, doc_key: str | None = None, **kw) -> Metric:
    doc_key = doc_key or key
    return Metric(f"{task}.{key}", label, task, value=lambda a: a.get(key), per_doc=lambda d: d.get(doc_key), **kw)


METRICS: tuple[Metric, ...] = (
    _rouge("rouge1", "R1"),
    _rouge("rouge2", "R2"),
    _rouge("rougeL", "RL"),
    _rouge("rougeLsum", "RLsum"),
    _plain("summary", "claim_coverage", "coverage"),
    _plain("summary", "weighted_claim_coverage", "w.coverage"),
    _plain("summary", "claim_coverage_vs_reference", "cov/ref"),
    _plain("summary", "numeric_faithfulness", "num.faithful"),
    _plain("claims", "precision", "P"),
    _plain("claims", "recall", "R", claim_level=True),
    Metric("claims.f1", "F1", "claims", value=lambda a: a["f1"], per_doc=lambda d: d["f1"],
           ci=lambda a: a.get("f1_ci95"), claim_level=True),
    # macro F1 is the mean of per-document F1, so its paired unit is the same per-document F1
    _plain("claims", "macro_f1", "macro F1", doc_key="f1", claim_level=True),
    _plain("claims", "lenient_recall", "lenient R"),
    _plain("claims", "weighted_recall", "w.R", claim_level=True),
    Metric("claims.duplicate_rate", "dup", "claims", value=lambda a: a.get("duplicate_rate"),
           per_doc=lambda d: d["duplicates"] / (d["tp"] + d["fp"]) if d["tp"] + d["fp"] else 0.0,
           higher_is_better=False),
    _plain("claims", "version_weighted_recall", "v.R", claim_level=True),
    _plain("claims", "excluded_content", "excluded", higher_is_better=False),
)
BY_NAME = {m.name: m for m in METRICS}
TASKS = ("summary", "claims")


def for_task(task: str) -> tuple[Metric, ...]:
    return tuple(m for m in METRICS if m.task == task)


def system_value(system: dict, metric: Metric) -> float | None:
    agg = system.get(metric.task)
    return None if not agg else metric.value(agg)


def system_ci(system: dict, metric: Metric) -> list[float] | None:
    agg = system.get(metric.task)
    return None if not agg else metric.ci(agg)


def doc_value(entry: dict, metric: Metric) -> float | None:
    """One document's value, or None when that document has no score for the metric's task."""
    task = entry.get(metric.task)
    if not task:
        return None
    return metric.per_doc(task)


def tasks_present(results: dict) -> list[str]:
    return [t for t in TASKS if any(s.get(t) for s in results["systems"].values())]


def reads_gold(results: dict, name: str) -> bool:
    """A system that was given the gold answers (an oracle): a ceiling, never a competitor."""
    return bool(results["systems"][name].get("reads_gold"))


CEILING_MARK = " (ceiling)"


def display_name(results: dict, name: str) -> str:
    """The system's name as tables show it: a system that reads the gold is marked as a ceiling."""
    return name + CEILING_MARK if reads_gold(results, name) else name


def ranked_systems(results: dict) -> list[str]:
    """Competitors best first by claim F1, else ROUGE-L F (ties by name); then the ceilings, ranked alike."""
    systems = results["systems"]

    def key(name: str) -> tuple:
        s = systems[name]
        primary = (s.get("claims") or {}).get("f1")
        if primary is None:
            primary = ((s.get("summary") or {}).get("rougeL") or {}).get("fmeasure")
        return (reads_gold(results, name), -(primary if primary is not None else -1.0), name)

    return sorted(systems, key=key)
