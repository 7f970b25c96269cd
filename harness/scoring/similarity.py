"""What the claim matcher asks of a model-based similarity: a name and a score for every (candidate, gold) pair.

The lexical recall (harness.scoring.matching.LexicalSimilarity), the embedding and hybrid similarities
(harness.scoring.embedding) and the judge (harness.scoring.judge) all satisfy `Similarity`; a new one needs
only these members to be passed as `ClaimMatcher(similarity=...)` (see harness.scoring.scorer.make_similarity).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:
    import numpy as np


@runtime_checkable
class Similarity(Protocol):
    """Scores in [0, 1]: rows are candidates (`left`), columns the gold claims of one document (`right`)."""

    name: str  # as the scoring signature names it

    def matrix(self, left: Sequence[str], right: Sequence[str]) -> np.ndarray: ...


@runtime_checkable
class PrefilteredSimilarity(Similarity, Protocol):
    """A similarity too costly to ask about every pair (the judge: a request per pair). The matcher asks only
    the pairs `prefilter` keeps and no rule refuses, and passes them to `matrix` as `ask`."""

    def prefilter(self, left: Sequence[str], right: Sequence[str]) -> np.ndarray: ...

    def matrix(self, left: Sequence[str], right: Sequence[str], ask: np.ndarray | None = None) -> np.ndarray: ...
