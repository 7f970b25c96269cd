"""A chunk of predictions with the gold they need, scored the same in any process, this one or a worker.

Kept light (no numpy, no aggregation): a worker process imports only this and the scorer, and sends
back plain rows, which unpickle several times faster than the DocScore records they summarise.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from harness.records import Prediction
from harness.scoring.rouge import ROUGE_TYPES
from harness.scoring.scorer import DocScore, DocScorer, GoldView
from harness.scoring.settings import ScoreSettings

if TYPE_CHECKING:
    from harness.scoring.matching import ClaimMatcher


@dataclass(frozen=True)
class ScoreJob:
    """Predictions with the gold views they need, and the claim matcher if they match claims or measure coverage.

    The matcher travels without its caches; `matcher_key` (the gold's hash) lets a worker keep the one it
    first received, with the texts it has parsed since."""

    views: tuple[GoldView, ...]
    items: tuple[tuple[int, Prediction], ...]  # (index into views, prediction)
    settings: ScoreSettings
    matcher: ClaimMatcher | None = None
    matcher_key: str = ""

    def run(self, doc_scorer: DocScorer, matcher: ClaimMatcher | None = None) -> list[tuple]:
        pairs = [(self.views[i], p) for i, p in self.items]
        return [score_row(s) for s in doc_scorer.score_many(pairs, matcher or self.matcher)]


def score_row(score: DocScore) -> tuple:
    """A document's score as plain values: (doc_id, system, ROUGE precision/recall/F of each type or None,
    coverage, numbers faithful, numbers stated, reference claims, claim counts, failure, claim counts at each
    sensitivity threshold). harness.aggregate.SystemScores keeps these."""
    s = score.summary
    if s is None:
        return score.doc_id, score.system, None, None, 0, 0, 0, score.claims, score.failure, score.sensitivity
    rouge = tuple(x for t in ROUGE_TYPES for x in (s.rouge[t].precision, s.rouge[t].recall, s.rouge[t].fmeasure))
    return score.doc_id, score.system, rouge, s.coverage, s.numbers_faithful, s.numbers_stated, s.reference_claims, \
        score.claims, score.failure, score.sensitivity


_WORKER_SCORERS: dict[ScoreSettings, DocScorer] = {}  # in a worker process: one DocScorer per settings, reused
_WORKER_MATCHERS: dict[tuple[str, ScoreSettings], ClaimMatcher] = {}  # and one matcher per gold, kept warm


def run_in_worker(job: ScoreJob) -> list[tuple]:
    matcher = None
    if job.matcher is not None:
        matcher = _WORKER_MATCHERS.setdefault((job.matcher_key, job.settings), job.matcher)
    return job.run(worker_scorer(job.settings), matcher)


def worker_scorer(settings: ScoreSettings) -> DocScorer:
    """This worker process's DocScorer for `settings` (also the warm-up: imports and the ROUGE self-check)."""
    doc_scorer = _WORKER_SCORERS.get(settings)
    if doc_scorer is None:
        doc_scorer = _WORKER_SCORERS[settings] = DocScorer(settings)
    return doc_scorer
