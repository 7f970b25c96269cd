"""The one regression rule, shared by `compare` (two runs) and `history` (each run against the one before).

A value regresses when it moves the wrong way (by the metric registry's direction) by more than the
tolerance. Tolerances are absolute. A move equal to the tolerance, up to float noise, is not a regression.
"""

from __future__ import annotations

DEFAULT_TOLERANCE = 0.01
EPSILON = 1e-9  # float noise: far below any difference a table shows, far above double rounding error
EXACT_TEST_MAX_DOCUMENTS = 16  # up to this many paired documents the sign-flip test enumerates every sign


def worse_by(before: float, after: float, direction: int) -> float:
    """How far `after` is worse than `before`: positive a move the wrong way, negative an improvement."""
    return (before - after) * direction


def exceeds(worse: float, tolerance: float | None) -> bool:
    """A move the wrong way by more than the tolerance; a tolerance of None means not gated."""
    return tolerance is not None and worse - tolerance > EPSILON


def is_regression(before: float, after: float, direction: int, tolerance: float | None = DEFAULT_TOLERANCE) -> bool:
    return exceeds(worse_by(before, after, direction), tolerance)


def smallest_reachable_p(n_documents: int, n_differing: int | None = None, n_boot: int = 10000) -> float | None:
    """The smallest two-sided p-value the paired document test can give; None with no paired document.

    The exact sign-flip test (up to EXACT_TEST_MAX_DOCUMENTS documents) reaches 2 / 2^k with k documents
    that differ (a document with no difference flips to itself); `n_differing` None means all of them,
    the best case for that many documents. The paired bootstrap reaches 1 / (n_boot + 1).
    """
    if not n_documents:
        return None
    if n_documents > EXACT_TEST_MAX_DOCUMENTS:
        return 1.0 / (n_boot + 1)
    k = n_documents if n_differing is None else n_differing
    return min(1.0, 2.0 / 2 ** k) if k else 1.0
