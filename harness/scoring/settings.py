"""Scoring settings: every knob that changes a number, and nothing heavy to import."""

from __future__ import annotations

from dataclasses import dataclass

# Calibrated on gold/matching/ (claim_pairs.jsonl, summary_pairs.jsonl); `harness matcher eval` reproduces them.
DEFAULT_THRESHOLD = 0.45
DEFAULT_COVERAGE_THRESHOLD = 0.45
MATCHER_THRESHOLDS = {"lexical": DEFAULT_THRESHOLD, "embedding": 0.70, "hybrid": 0.55}
VETOES = ("number", "negation", "time", "place", "speaker", "actor")  # harness.scoring.rules
MAX_BOOTSTRAP = 100_000  # beyond this the resampling only costs memory and time


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

    def __post_init__(self) -> None:
        """Refuse values that would crash or silently empty the scoring only after every model has run."""
        import math

        from harness.errors import UserError

        for name in ("threshold", "coverage_threshold"):
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or isinstance(value, bool) or not math.isfinite(value) or value < 0:
                raise UserError(f"must be a finite number >= 0, got {value!r}", field=name)
        if not isinstance(self.bootstrap, int) or isinstance(self.bootstrap, bool) \
                or not 0 <= self.bootstrap <= MAX_BOOTSTRAP:
            raise UserError(f"must be a whole number from 0 to {MAX_BOOTSTRAP:,}, got {self.bootstrap!r}",
                            field="bootstrap")
        if not isinstance(self.seed, int) or isinstance(self.seed, bool) or self.seed < 0:
            raise UserError(f"must be a whole number >= 0, got {self.seed!r}", field="seed")
