"""Which gold claims a summary expresses: the claim matcher, many-to-one over the summary's sentences.

Coverage uses the same matcher and the same rules as claim extraction (a sentence must carry the
claim's content, every number of the claim, the same speaker, polarity, time, place and actors),
applied to each sentence and clause of the summary. A claim is covered if any of them states it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from harness.scoring.matching import ClaimMatcher, GoldItem
from harness.text import split_sentences


@dataclass(frozen=True)
class CoverageCounts:
    covered: tuple[str, ...]
    total: int
    weighted_covered: float
    weighted_total: float
    version_covered: float
    version_total: float


def expressed_claims(matcher: ClaimMatcher, summary: str, gold: Sequence[GoldItem], source: str | None = None,
                     threshold: float | None = None) -> list[str]:
    """Ids of the gold claims some sentence of `summary` expresses."""
    return matcher.expressed(split_sentences(summary), gold, source, threshold)


def coverage(matcher: ClaimMatcher, summary: str, gold: Sequence[GoldItem], source: str | None = None,
             threshold: float | None = None) -> CoverageCounts:
    scored = [g for g in gold if not g.optional]
    covered = set(expressed_claims(matcher, summary, scored, source, threshold))
    return CoverageCounts(
        covered=tuple(g.id for g in scored if g.id in covered),
        total=len(scored),
        weighted_covered=sum(g.salience_weight for g in scored if g.id in covered),
        weighted_total=sum(g.salience_weight for g in scored),
        version_covered=sum(g.version_weight for g in scored if g.id in covered),
        version_total=sum(g.version_weight for g in scored),
    )
