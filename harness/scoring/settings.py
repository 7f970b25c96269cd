"""Scoring settings: every knob that changes a number, and nothing heavy to import."""

from __future__ import annotations

from dataclasses import dataclass

# Calibrated on gold/matching/ (claim_pairs.jsonl, summary_pairs.jsonl); `harness matcher eval` reproduces them.
DEFAULT_THRESHOLD = 0.40
DEFAULT_COVERAGE_THRESHOLD = 0.40
MATCHER_THRESHOLDS = {"lexical": DEFAULT_THRESHOLD, "embedding": 0.70, "hybrid": 0.55}
VETOES = ("number", "negation", "date", "speaker", "actor")


@dataclass(frozen=True)
class ScoreSettings:
    threshold: float = DEFAULT_THRESHOLD
    matcher: str = "lexical"
    coverage_threshold: float = DEFAULT_COVERAGE_THRESHOLD
    use_stemmer: bool = True
    multi_ref: str = "max"
    bootstrap: int = 1000
    seed: int = 12345
    vetoes: tuple[str, ...] = VETOES
