"""The metric registry: every named metric, the table it belongs to, which way is better, what it means,
and where its value is read in a results object.

One registry, so a table cell, its legend, a plot bar, a regression gate and a history trend always mean
the same number and agree on which way is worse. Names are `task.metric` (summary.rougeL, claims.f1),
the form `--tolerance` and `history --metric` take.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

TASKS = ("summary", "claims")  # also the two tables of a leaderboard, in this order


@dataclass(frozen=True)
class Metric:
    name: str  # task.metric, e.g. claims.f1
    label: str  # short column header
    task: str  # the table it belongs to: summary | claims
    description: str  # what the label means, under every table that shows it
    value: Callable[[dict], float | None]  # from a system's task aggregate
    per_doc: Callable[[dict], float | None]  # from one per_doc task entry (the paired unit)
    ci: Callable[[dict], list[float] | None] = lambda agg: None
    higher_is_better: bool = True
    claim_level: bool = False  # moves with the set of matched gold claims (McNemar applies)

    @property
    def direction(self) -> int:
        """+1 when a rise is better, -1 when a fall is."""
        return 1 if self.higher_is_better else -1


def _rouge(kind: str, label: str, description: str) -> Metric:
    return Metric(f"summary.{kind}", label, "summary", description,
                  value=lambda a: a[kind]["fmeasure"],
                  per_doc=lambda d: d[kind]["fmeasure"],
                  ci=lambda a: a[kind].get("ci95"))


def _plain(task: str, key: str, label: str, description: str, doc_key: str | None = None, **kw) -> Metric:
    doc_key = doc_key or key
    return Metric(f"{task}.{key}", label, task, description, value=lambda a: a.get(key),
                  per_doc=lambda d: d.get(doc_key), **kw)


METRICS: tuple[Metric, ...] = (
    _rouge("rouge1", "R1", "ROUGE-1 F1: unigram overlap with the best-matching reference summary"),
    _rouge("rouge2", "R2", "ROUGE-2 F1: bigram overlap"),
    _rouge("rougeL", "RL", "ROUGE-L F1: longest common subsequence"),
    _rouge("rougeLsum", "RLsum", "ROUGE-Lsum F1: longest common subsequence sentence by sentence"),
    _plain("summary", "claim_coverage", "coverage", "claim coverage: share of the gold claims the summary expresses"),
    _plain("summary", "weighted_claim_coverage", "w.coverage",
           "salience-weighted claim coverage (core 3, major 2, minor 1)"),
    _plain("summary", "claim_coverage_vs_reference", "cov/ref",
           "claims covered over the claims the gold reference of the nearest length expresses (1.0 = as many)"),
    _plain("summary", "numeric_faithfulness", "num.faithful",
           "numeric faithfulness: share of the summary's numbers that its source states"),
    _plain("claims", "precision", "P", "precision: share of predicted claims matched one-to-one to a gold claim"),
    _plain("claims", "recall", "R", "recall: share of gold claims matched one-to-one", claim_level=True),
    Metric("claims.f1", "F1", "claims", "harmonic mean of P and R", value=lambda a: a["f1"],
           per_doc=lambda d: d["f1"], ci=lambda a: a.get("f1_ci95"), claim_level=True),
    # macro F1 is the mean of per-document F1, so its paired unit is the same per-document F1
    _plain("claims", "macro_f1", "macro F1", "mean of the per-document F1", doc_key="f1", claim_level=True),
    _plain("claims", "lenient_recall", "lenient R",
           "lenient recall: share of gold claims some prediction reaches, one prediction may reach several"),
    _plain("claims", "weighted_recall", "w.R", "salience-weighted recall (core 3, major 2, minor 1)",
           claim_level=True),
    Metric("claims.duplicate_rate", "dup", "claims",
           "duplicate rate: share of predictions restating a gold claim another prediction already matched",
           value=lambda a: a.get("duplicate_rate"),
           per_doc=lambda d: d["duplicates"] / (d["tp"] + d["fp"]) if d["tp"] + d["fp"] else 0.0,
           higher_is_better=False),
    _plain("claims", "version_weighted_recall", "v.R",
           "version-weighted recall: each gold claim weighted by how many outlets' versions carry its fact",
           claim_level=True),
    _plain("claims", "excluded_content", "excluded",
           "predictions taken from excluded page content (captions, bylines, related stories …), a count",
           higher_is_better=False),
)
BY_NAME = {m.name: m for m in METRICS}

# The other values a results file holds (and history records), by the last part of their name: which way
# is better. Counts of output and interval bounds have no better direction (0).
_OTHER_DIRECTIONS = {"tp": 1, "fp": -1, "fn": -1, "duplicates": -1, "failures": -1, "missing": -1,
                     "predictions": 0, "numbers_stated": 0, "n_documents": 0, "lo": 0, "hi": 0}
COUNTS = frozenset({"tp", "fp", "fn", "predictions", "numbers_stated", "n_documents", "excluded_content",
                    "duplicates", "failures", "missing"})


def direction(name: str) -> int:
    """+1 when higher is better, -1 when lower is, 0 when neither, for any recorded value's name: a registered
    metric by the registry, its parts (summary.rougeL.recall) like it, other values by their last part."""
    leaf = name.rsplit(".", 1)[-1]
    if _OTHER_DIRECTIONS.get(leaf) == 0:
        return 0
    stem = name
    while stem:
        if stem in BY_NAME:
            return BY_NAME[stem].direction
        stem = stem.rpartition(".")[0]
    return _OTHER_DIRECTIONS.get(leaf, 1)


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
