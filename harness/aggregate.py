"""Per-document counts → system scores: micro and macro averages, seeded bootstrap intervals, paired tests.

With a handful of documents the intervals are wide and no test can reach significance; the numbers
say so (`n_documents`, `p_floor`) rather than hide it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from itertools import product

import numpy as np

from harness.results.regression import smallest_reachable_p
from harness.scoring.rouge import ROUGE_TYPES
from harness.scoring.scorer import DocScore


def _ratio(num: float, den: float) -> float:
    return num / den if den else 0.0


def f1(precision: float, recall: float) -> float:
    return 2 * precision * recall / (precision + recall) if precision + recall else 0.0


def bootstrap_ci(values: Sequence, statistic: Callable[[list], float], n: int, seed: int) -> list[float] | None:
    """95% percentile interval of `statistic` over documents resampled with replacement."""
    if len(values) < 2 or n <= 0:
        return None
    rng = np.random.default_rng(seed)
    picks = rng.integers(0, len(values), size=(n, len(values)))
    estimates = np.array([statistic([values[i] for i in row]) for row in picks])
    return [float(np.percentile(estimates, 2.5)), float(np.percentile(estimates, 97.5))]


# --------------------------------------------------------------------------- summaries

def summary_scores(docs: Sequence[DocScore], n_boot: int, seed: int) -> dict | None:
    scored = [d for d in docs if d.summary is not None]
    if not scored:
        return None
    out: dict = {}
    for t in ROUGE_TYPES:
        ps = [d.summary.rouge[t].precision for d in scored]
        rs = [d.summary.rouge[t].recall for d in scored]
        fs = [d.summary.rouge[t].fmeasure for d in scored]
        out[t] = {"precision": float(np.mean(ps)), "recall": float(np.mean(rs)), "fmeasure": float(np.mean(fs)),
                  "ci95": bootstrap_ci(fs, lambda xs: float(np.mean(xs)), n_boot, seed)}
    cov = [d.summary.coverage for d in scored]
    out["claim_coverage"] = _ratio(sum(len(c.covered) for c in cov), sum(c.total for c in cov))
    out["weighted_claim_coverage"] = _ratio(sum(c.weighted_covered for c in cov), sum(c.weighted_total for c in cov))
    out["version_weighted_claim_coverage"] = _ratio(sum(c.version_covered for c in cov), sum(c.version_total for c in cov))
    reference = sum(d.summary.reference_claims for d in scored)
    out["claim_coverage_vs_reference"] = sum(len(c.covered) for c in cov) / reference if reference else None
    stated = sum(d.summary.numbers_stated for d in scored)
    out["numeric_faithfulness"] = _ratio(sum(d.summary.numbers_faithful for d in scored), stated) if stated else None
    out["numbers_stated"] = stated
    out["n_documents"] = len(scored)
    return out


def summary_doc(d: DocScore) -> dict:
    s = d.summary
    out = {t: {"precision": s.rouge[t].precision, "recall": s.rouge[t].recall, "fmeasure": s.rouge[t].fmeasure}
           for t in ROUGE_TYPES}
    out["claim_coverage"] = _ratio(len(s.coverage.covered), s.coverage.total)
    out["weighted_claim_coverage"] = _ratio(s.coverage.weighted_covered, s.coverage.weighted_total)
    out["version_weighted_claim_coverage"] = _ratio(s.coverage.version_covered, s.coverage.version_total)
    out["claim_coverage_vs_reference"] = (len(s.coverage.covered) / s.reference_claims if s.reference_claims
                                          else None)
    out["numeric_faithfulness"] = _ratio(s.numbers_faithful, s.numbers_stated) if s.numbers_stated else None
    out["numbers_stated"] = s.numbers_stated
    out["covered_claims"] = list(s.coverage.covered)
    return out


# --------------------------------------------------------------------------- claims

def _micro(docs: Sequence[DocScore]) -> tuple[float, float, float]:
    tp = sum(d.claims.tp for d in docs)
    fp = sum(d.claims.fp for d in docs)
    fn = sum(d.claims.fn for d in docs)
    p, r = _ratio(tp, tp + fp), _ratio(tp, tp + fn)
    return p, r, f1(p, r)


def claim_scores(docs: Sequence[DocScore], n_boot: int, seed: int) -> dict | None:
    scored = [d for d in docs if d.claims is not None]
    if not scored:
        return None
    c = [d.claims for d in scored]
    tp, fp, fn = sum(x.tp for x in c), sum(x.fp for x in c), sum(x.fn for x in c)
    precision, recall, f = _micro(scored)
    per_doc_f1 = [claim_doc(d)["f1"] for d in scored]
    predictions = sum(x.predictions for x in c)
    return {
        "precision": precision, "recall": recall, "f1": f, "tp": tp, "fp": fp, "fn": fn,
        "macro_f1": float(np.mean(per_doc_f1)),
        "lenient_recall": _ratio(sum(x.lenient_covered for x in c), sum(x.gold_scored for x in c)),
        "weighted_recall": _ratio(sum(x.weighted_tp for x in c), sum(x.weighted_total for x in c)),
        "version_weighted_recall": _ratio(sum(x.version_tp for x in c), sum(x.version_total for x in c)),
        "duplicate_rate": _ratio(sum(x.duplicates for x in c), predictions),
        "excluded_content": sum(x.excluded for x in c),
        "predictions": predictions,
        "f1_ci95": bootstrap_ci(scored, lambda ds: _micro(ds)[2], n_boot, seed),
        "f1_ci95_docs_then_claims": two_level_f1_ci(c, n_boot, seed),
        "n_documents": len(scored),
    }


def claim_doc(d: DocScore) -> dict:
    x = d.claims
    p, r = _ratio(x.tp, x.tp + x.fp), _ratio(x.tp, x.tp + x.fn)
    return {"precision": p, "recall": r, "f1": f1(p, r), "tp": x.tp, "fp": x.fp, "fn": x.fn,
            "lenient_recall": _ratio(x.lenient_covered, x.gold_scored),
            "weighted_recall": _ratio(x.weighted_tp, x.weighted_total),
            "version_weighted_recall": _ratio(x.version_tp, x.version_total),
            "duplicates": x.duplicates, "excluded_content": x.excluded, "matched": list(x.matched)}


def two_level_f1_ci(counts: Sequence, n: int, seed: int) -> list[float] | None:
    """Resample documents, then within each the gold claims and the predictions (a nested bootstrap)."""
    if len(counts) < 2 or n <= 0:
        return None
    rng = np.random.default_rng(seed)
    estimates = []
    for _ in range(n):
        tp_p = tp_g = n_pred = n_gold = 0
        for i in rng.integers(0, len(counts), size=len(counts)):
            x = counts[i]
            scored_preds = x.tp + x.fp
            if scored_preds:
                tp_p += rng.binomial(scored_preds, x.tp / scored_preds)
                n_pred += scored_preds
            gold = x.tp + x.fn
            if gold:
                tp_g += rng.binomial(gold, x.tp / gold)
                n_gold += gold
        estimates.append(f1(_ratio(tp_p, n_pred), _ratio(tp_g, n_gold)))
    return [float(np.percentile(estimates, 2.5)), float(np.percentile(estimates, 97.5))]


# --------------------------------------------------------------------------- paired tests

def paired_test(a: Sequence[float], b: Sequence[float], n_boot: int = 10000, seed: int = 12345) -> dict:
    """Two-sided test that per-document differences b - a centre on zero.

    Exact sign-flip permutation over all 2^n assignments when n <= 16; a seeded paired bootstrap
    otherwise. `p_floor` is the smallest p-value the sample size allows.
    """
    diffs = np.asarray(b, dtype=float) - np.asarray(a, dtype=float)
    n = len(diffs)
    if n == 0:
        return {"test": "none", "n": 0, "p_value": None, "p_floor": None}
    observed = abs(diffs.mean())
    nonzero = int(np.count_nonzero(diffs))
    if n <= 16:
        signs = np.array(list(product((1.0, -1.0), repeat=n)))
        means = np.abs((signs * diffs).mean(axis=1))
        p = float(np.mean(means >= observed - 1e-12))
        floor = smallest_reachable_p(n, nonzero, n_boot)
        return {"test": "exact sign-flip permutation", "n": n, "p_value": p, "p_floor": min(1.0, floor)}
    rng = np.random.default_rng(seed)
    centred = diffs - diffs.mean()
    boots = np.abs(centred[rng.integers(0, n, size=(n_boot, n))].mean(axis=1))
    p = float((np.sum(boots >= observed) + 1) / (n_boot + 1))
    return {"test": "paired bootstrap", "n": n, "p_value": p, "p_floor": smallest_reachable_p(n, n_boot=n_boot)}


def mcnemar_exact(only_a: int, only_b: int) -> dict:
    """Exact McNemar test on discordant pairs (claims matched by one system but not the other)."""
    discordant = only_a + only_b
    if discordant == 0:
        return {"test": "exact McNemar", "only_baseline": 0, "only_candidate": 0, "p_value": 1.0, "p_floor": 1.0}
    from scipy import stats

    p = stats.binomtest(only_a, discordant, 0.5).pvalue
    floor = min(1.0, 2 * 0.5 ** discordant)
    return {"test": "exact McNemar", "only_baseline": only_a, "only_candidate": only_b,
            "p_value": float(p), "p_floor": floor}


def can_reach(alpha: float, p_floor: float | None) -> bool:
    return p_floor is not None and p_floor <= alpha and not math.isclose(p_floor, 1.0)
