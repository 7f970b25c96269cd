"""How claim counts move with the match threshold: each document's claims matched again at a few thresholds.

A ranking that flips between 0.4 and 0.5 is a ranking the matcher decides, not the systems. The counts are
made per document, beside the run's own claim counts and in the same process (this one or a worker), so
they are summed like every other count and never depend on how the scoring was split.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from harness.scoring.matching import ClaimCounts, ClaimMatcher, GoldItem

THRESHOLDS = (0.3, 0.4, 0.5, 0.6, 0.7)


def thresholds(run_threshold: float) -> tuple[float, ...]:
    """THRESHOLDS, plus the run's own when it is not among them (the row to read the table against)."""
    if any(abs(t - run_threshold) < 1e-9 for t in THRESHOLDS):
        return THRESHOLDS
    return tuple(sorted([*THRESHOLDS, run_threshold]))


def counts_at(matcher: ClaimMatcher, texts: Sequence[str], gold: Sequence[GoldItem], story: str,
              run_threshold: float, at_run: ClaimCounts) -> tuple[tuple[int, int, int], ...]:
    """(tp, fp, fn) of one document's predicted claims at each of `thresholds(run_threshold)`; the run's own
    threshold reuses the counts the run already made (`at_run`), the others are matched together."""
    others = [t for t in thresholds(run_threshold) if t != run_threshold]
    at_others = dict(zip(others, matcher.counts_at(texts, gold, story, others)))
    return tuple((at_run.tp, at_run.fp, at_run.fn) if t == run_threshold else at_others[t]
                 for t in thresholds(run_threshold))
