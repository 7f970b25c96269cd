"""Per-document counts → system scores: micro and macro averages, seeded bootstrap intervals, paired tests.

With a handful of documents the intervals are wide and no test can reach significance; the numbers
say so (`n_documents`, `p_floor`) rather than hide it.
"""

from __future__ import annotations

import math
from array import array
from collections.abc import Iterator, Sequence
from itertools import product
from typing import TYPE_CHECKING

import numpy as np

from harness.results.regression import smallest_reachable_p
from harness.scoring.jobs import score_row
from harness.scoring.rouge import ROUGE_TYPES, Score
from harness.scoring.scorer import DocScore, SummaryScore

if TYPE_CHECKING:
    from harness.scoring.coverage import CoverageCounts
    from harness.scoring.matching import ClaimCounts


RESAMPLE_BLOCK = 1 << 19  # resampled document indices held at once (4 MB): memory never grows as n_boot x n_docs


def _ratio(num: float, den: float) -> float:
    return num / den if den else 0.0


def f1(precision: float, recall: float) -> float:
    return 2 * precision * recall / (precision + recall) if precision + recall else 0.0


# --------------------------------------------------------------------------- bootstrap

def resample_blocks(n_items: int, n_boot: int, seed: int) -> Iterator[np.ndarray]:
    """The seeded bootstrap's index matrix, `n_boot` rows of `n_items` draws with replacement, a block of rows
    at a time. The blocks come from one generator in order, so stacked they are exactly the matrix
    `default_rng(seed).integers(0, n_items, size=(n_boot, n_items))`."""
    rng = np.random.default_rng(seed)
    rows = max(1, RESAMPLE_BLOCK // max(n_items, 1))
    for start in range(0, n_boot, rows):
        yield rng.integers(0, n_items, size=(min(rows, n_boot - start), n_items))


def percentile_interval(estimates: np.ndarray) -> list[float]:
    return [float(np.percentile(estimates, 2.5)), float(np.percentile(estimates, 97.5))]


def mean_intervals(columns: Sequence[np.ndarray], n_boot: int, seed: int) -> list[list[float] | None]:
    """95% percentile interval of the mean of each column, over documents resampled with replacement.

    Every column is resampled with the same document indices (one seed), as the documents are the unit."""
    n = len(columns[0]) if columns else 0
    if n < 2 or n_boot <= 0:
        return [None] * len(columns)
    estimates = np.empty((len(columns), n_boot))
    done = 0
    for picks in resample_blocks(n, n_boot, seed):
        for k, column in enumerate(columns):
            estimates[k, done:done + len(picks)] = column[picks].mean(axis=1)
        done += len(picks)
    return [percentile_interval(e) for e in estimates]


def micro_f1_interval(tp: np.ndarray, fp: np.ndarray, fn: np.ndarray, n_boot: int, seed: int) -> list[float] | None:
    """95% interval of micro F1 (from summed counts) over documents resampled with replacement."""
    if len(tp) < 2 or n_boot <= 0:
        return None
    estimates = np.concatenate([_f1_of_sums(tp[picks].sum(axis=1), fp[picks].sum(axis=1), fn[picks].sum(axis=1))
                                for picks in resample_blocks(len(tp), n_boot, seed)])
    return percentile_interval(estimates)


def _f1_of_sums(tp: np.ndarray, fp: np.ndarray, fn: np.ndarray) -> np.ndarray:
    """f1(_ratio(tp, tp + fp), _ratio(tp, tp + fn)) elementwise, with the same floating-point operations."""
    precision = _ratios(tp, tp + fp)
    recall = _ratios(tp, tp + fn)
    total = precision + recall
    out = np.zeros(len(tp))
    np.divide(2 * precision * recall, total, out=out, where=total != 0)
    return out


def _ratios(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    out = np.zeros(len(num))
    np.divide(num, den, out=out, where=den != 0)
    return out


def two_level_f1_ci(tp: np.ndarray, fp: np.ndarray, fn: np.ndarray, n: int, seed: int) -> list[float] | None:
    """Resample documents, then within each the gold claims and the predictions (a nested bootstrap).

    Per resample: the documents drawn, then for each drawn document in turn a binomial draw of its
    matched predictions and one of its matched gold claims (skipped when it has none), all from one
    generator; the draws of a resample are made in one vectorised call in that same order."""
    if len(tp) < 2 or n <= 0:
        return None
    rng = np.random.default_rng(seed)
    scored, gold = tp + fp, tp + fn
    # per document: (trials, probability) of its predictions' draw, then of its gold claims' draw
    trials = np.stack([scored, gold], axis=1)
    chance = np.stack([_ratios(tp, scored), _ratios(tp, gold)], axis=1)
    estimates = np.empty(n)
    for b in range(n):
        picks = rng.integers(0, len(tp), size=len(tp))
        draw_trials, draw_chance = trials[picks].ravel(), chance[picks].ravel()
        drawn = draw_trials > 0
        hits = np.zeros(len(draw_trials), dtype=np.int64)
        hits[drawn] = rng.binomial(draw_trials[drawn], draw_chance[drawn])
        hits, draw_trials = hits.reshape(-1, 2).sum(axis=0), draw_trials.reshape(-1, 2).sum(axis=0)
        estimates[b] = f1(_ratio(int(hits[0]), int(draw_trials[0])), _ratio(int(hits[1]), int(draw_trials[1])))
    return percentile_interval(estimates)


class StreamingBootstrap:
    """95% percentile intervals of column means over a stream too long to keep: the Poisson bootstrap.

    Each resample weights every row by an independent Poisson(1) count instead of drawing n rows with
    replacement (the same distribution as n grows), so its weighted sums accumulate as rows arrive and
    no row is kept. The counts are drawn a block of rows at a time in the equivalent, cheaper form: a
    Poisson(rows in the block) number of draws per resample, each a row picked uniformly (a sum of
    independent Poisson counts split uniformly is exactly that). Blocks have a fixed size, so the same
    seed and the same rows give the same intervals however the rows are handed in. A resample that
    draws no row at all (likely only for a handful of rows) has no mean and is left out.
    """

    def __init__(self, n_columns: int, n_boot: int, seed: int):
        self.n_boot = max(n_boot, 0)
        self._rng = np.random.default_rng(seed)
        self._sums = np.zeros((n_columns, self.n_boot))
        self._drawn = np.zeros(self.n_boot)
        self._block = max(1, RESAMPLE_BLOCK // max(self.n_boot, 1))
        self._waiting: list[Sequence[float]] = []
        self._rows = 0

    def add(self, rows: Sequence[Sequence[float]]) -> None:
        """Rows of column values, in stream order."""
        self._rows += len(rows)
        if not self.n_boot:
            return
        self._waiting.extend(rows)
        while len(self._waiting) >= self._block:
            self._resample(self._waiting[:self._block])
            del self._waiting[:self._block]

    def _resample(self, rows: Sequence[Sequence[float]]) -> None:
        values = np.asarray(rows, dtype=np.float64)
        drawn = self._rng.poisson(len(values), size=self.n_boot)  # rows drawn per resample
        picks = self._rng.integers(0, len(values), size=int(drawn.sum()))  # resample after resample
        self._drawn += drawn
        filled = drawn > 0
        if not filled.any():
            return
        starts = (np.cumsum(drawn) - drawn)[filled]
        for k, column in enumerate(np.ascontiguousarray(values.T)):
            self._sums[k, filled] += np.add.reduceat(column[picks], starts)

    def intervals(self) -> list[list[float] | None]:
        if self._waiting:
            self._resample(self._waiting)
            self._waiting = []
        drawn = self._drawn > 0
        if self._rows < 2 or not drawn.any():
            return [None] * len(self._sums)
        return [percentile_interval(sums[drawn] / self._drawn[drawn]) for sums in self._sums]


# --------------------------------------------------------------------------- one system's documents

class SystemScores:
    """One system's per-document scores, kept as compact columns (a few hundred bytes per document, not a
    scoring object each), from which its aggregates, intervals and per-document rows are computed.

    Documents are added in any order; everything computed from them follows document-id order.
    """

    def __init__(self) -> None:
        self._docs: list[tuple[str, int, ClaimCounts | None, str | None]] = []  # id, summary row or -1, claims, failure
        self._sensitivity: list[tuple[tuple[int, int, int], ...] | None] = []  # per document, as _docs
        self._rouge = array("d")  # per summary row: precision, recall, F of each ROUGE type
        # per summary row: coverage, numbers faithful, numbers stated, claims of the nearest labelled reference
        self._summary_rest: list[tuple[CoverageCounts | None, int, int, int]] = []
        self._ordered: list[int] | None = []

    def add(self, score: DocScore) -> None:
        self.add_row(score_row(score))

    def add_row(self, row: tuple) -> None:
        """A harness.scoring.jobs.score_row row."""
        doc_id, _, rouge, coverage, faithful, stated, reference, claims, failure, sensitivity = row
        summary_row = -1
        if rouge is not None:
            summary_row = len(self._summary_rest)
            self._rouge.extend(rouge)
            self._summary_rest.append((coverage, faithful, stated, reference))
        self._docs.append((doc_id, summary_row, claims, failure))
        self._sensitivity.append(sensitivity)
        self._ordered = None

    def __len__(self) -> int:
        return len(self._docs)

    @property
    def failures(self) -> int:
        return sum(1 for *_, failure in self._docs if failure and failure != "missing prediction")

    def _order(self) -> list[int]:
        if self._ordered is None:
            docs = self._docs
            self._ordered = sorted(range(len(docs)), key=lambda i: docs[i][0])
        return self._ordered

    def _summary_rows(self) -> list[int]:
        return [self._docs[i][1] for i in self._order() if self._docs[i][1] >= 0]

    def summary(self, n_boot: int, seed: int) -> dict | None:
        """The summary aggregates: mean ROUGE with bootstrap intervals, coverage and numeric faithfulness pooled
        over documents (ratios of sums, so a short document does not weigh like a long one). None: no summary."""
        rows = self._summary_rows()
        if not rows:
            return None
        table = np.frombuffer(self._rouge, dtype=np.float64).reshape(-1, 3 * len(ROUGE_TYPES))[rows]
        f_columns = [np.ascontiguousarray(table[:, 3 * k + 2]) for k in range(len(ROUGE_TYPES))]
        intervals = mean_intervals(f_columns, n_boot, seed)
        out: dict = {}
        for k, t in enumerate(ROUGE_TYPES):
            p, r = (np.ascontiguousarray(table[:, 3 * k + j]) for j in (0, 1))
            out[t] = {"precision": float(np.mean(p)), "recall": float(np.mean(r)), "fmeasure": float(np.mean(f_columns[k])),
                      "ci95": intervals[k]}
        rest = [self._summary_rest[r] for r in rows]
        coverage = [c for c, *_ in rest if c is not None]
        total = sum(c.total for c in coverage)
        covered = sum(len(c.covered) for c in coverage)
        out["claim_coverage"] = covered / total if total else None
        out["weighted_claim_coverage"] = (_ratio(sum(c.weighted_covered for c in coverage),
                                                 sum(c.weighted_total for c in coverage)) if total else None)
        out["version_weighted_claim_coverage"] = (_ratio(sum(c.version_covered for c in coverage),
                                                         sum(c.version_total for c in coverage)) if total else None)
        reference = sum(r for *_, r in rest)
        out["claim_coverage_vs_reference"] = covered / reference if total and reference else None
        stated = sum(s for _, _, s, _ in rest)
        out["numeric_faithfulness"] = _ratio(sum(f for _, f, _, _ in rest), stated) if stated else None
        out["numbers_stated"] = stated
        out["n_documents"] = len(rows)
        return out

    def claims(self, n_boot: int, seed: int) -> dict | None:
        """The claim aggregates: micro P/R/F1 from summed counts (the headline), macro F1, the weighted recalls,
        and both F1 intervals (documents; documents then claims). None: no claims were scored."""
        c = [self._docs[i][2] for i in self._order() if self._docs[i][2] is not None]
        if not c:
            return None
        tp, fp, fn = (np.array([getattr(x, k) for x in c], dtype=np.int64) for k in ("tp", "fp", "fn"))
        total_tp, total_fp, total_fn = int(tp.sum()), int(fp.sum()), int(fn.sum())
        precision, recall = _ratio(total_tp, total_tp + total_fp), _ratio(total_tp, total_tp + total_fn)
        predictions = sum(x.predictions for x in c)
        return {
            "precision": precision, "recall": recall, "f1": f1(precision, recall),
            "tp": total_tp, "fp": total_fp, "fn": total_fn,
            "macro_f1": float(np.mean([claim_doc(x)["f1"] for x in c])),
            "lenient_recall": _ratio(sum(x.lenient_covered for x in c), sum(x.gold_scored for x in c)),
            "weighted_recall": _ratio(sum(x.weighted_tp for x in c), sum(x.weighted_total for x in c)),
            "version_weighted_recall": _ratio(sum(x.version_tp for x in c), sum(x.version_total for x in c)),
            "duplicate_rate": _ratio(sum(x.duplicates for x in c), predictions),
            "excluded_content": sum(x.excluded for x in c),
            "predictions": predictions,
            "f1_ci95": micro_f1_interval(tp, fp, fn, n_boot, seed),
            "f1_ci95_docs_then_claims": two_level_f1_ci(tp, fp, fn, n_boot, seed),
            "n_documents": len(c),
        }

    def sensitivity(self, thresholds: Sequence[float]) -> list[dict] | None:
        """Micro P/R/F1 at each threshold, over the documents whose claims were scored (None: no such document).

        The counts were made per document where the claims were scored (harness.scoring.sensitivity), so the
        sums are the same whichever process scored which document."""
        counts = [c for c in self._sensitivity if c is not None]
        if not counts:
            return None
        rows = []
        for k, threshold in enumerate(thresholds):
            tp, fp, fn = (sum(c[k][j] for c in counts) for j in range(3))
            precision, recall = _ratio(tp, tp + fp), _ratio(tp, tp + fn)
            rows.append({"threshold": threshold, "precision": precision, "recall": recall,
                         "f1": f1(precision, recall), "tp": tp, "fp": fp, "fn": fn})
        return rows

    def per_doc(self) -> Iterator[tuple[str, dict]]:
        """(doc_id, row) in document-id order: the rows of results.json's per_doc."""
        for score in self.doc_scores(""):
            entry: dict = {}
            if score.summary is not None:
                entry["summary"] = summary_doc(score.summary)
            if score.claims is not None:
                entry["claims"] = claim_doc(score.claims)
            if score.failure:
                entry["failure"] = score.failure
            yield score.doc_id, entry

    def doc_scores(self, system: str) -> Iterator[DocScore]:
        """The documents' scores as DocScore records again, in document-id order."""
        width = 3 * len(ROUGE_TYPES)
        for i in self._order():
            doc_id, row, claims, failure = self._docs[i]
            summary = None
            if row >= 0:
                values = self._rouge[row * width:(row + 1) * width]
                rouge = {t: Score(*values[3 * k:3 * k + 3]) for k, t in enumerate(ROUGE_TYPES)}
                summary = SummaryScore(rouge, *self._summary_rest[row])
            yield DocScore(doc_id, system, summary, claims, failure, self._sensitivity[i])


# --------------------------------------------------------------------------- per-document rows

def summary_doc(s: SummaryScore) -> dict:
    out: dict = {t: {"precision": s.rouge[t].precision, "recall": s.rouge[t].recall, "fmeasure": s.rouge[t].fmeasure}
                 for t in ROUGE_TYPES}
    measured = s.coverage is not None and s.coverage.total > 0  # no gold claim to cover: not measured, not 0
    out["claim_coverage"] = len(s.coverage.covered) / s.coverage.total if measured else None
    out["weighted_claim_coverage"] = _ratio(s.coverage.weighted_covered, s.coverage.weighted_total) if measured else None
    out["version_weighted_claim_coverage"] = (_ratio(s.coverage.version_covered, s.coverage.version_total)
                                              if measured else None)
    out["claim_coverage_vs_reference"] = (len(s.coverage.covered) / s.reference_claims
                                          if measured and s.reference_claims else None)
    out["numeric_faithfulness"] = _ratio(s.numbers_faithful, s.numbers_stated) if s.numbers_stated else None
    out["numbers_stated"] = s.numbers_stated
    out["covered_claims"] = list(s.coverage.covered) if s.coverage is not None else []
    return out


def claim_doc(x: ClaimCounts) -> dict:
    p, r = _ratio(x.tp, x.tp + x.fp), _ratio(x.tp, x.tp + x.fn)
    return {"precision": p, "recall": r, "f1": f1(p, r), "tp": x.tp, "fp": x.fp, "fn": x.fn,
            "lenient_recall": _ratio(x.lenient_covered, x.gold_scored),
            "weighted_recall": _ratio(x.weighted_tp, x.weighted_total),
            "version_weighted_recall": _ratio(x.version_tp, x.version_total),
            "duplicates": x.duplicates, "excluded_content": x.excluded, "matched": list(x.matched)}


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
    centred = diffs - diffs.mean()
    beyond = sum(int(np.sum(np.abs(centred[picks].mean(axis=1)) >= observed))
                 for picks in resample_blocks(n, n_boot, seed))
    p = float((beyond + 1) / (n_boot + 1))
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
