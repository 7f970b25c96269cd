"""Scoring settings: every knob that changes a number, and nothing heavy to import."""

from __future__ import annotations

from dataclasses import dataclass

# Calibrated on gold/matching/ (claim_pairs.jsonl, summary_pairs.jsonl); `harness matcher eval` reproduces them.
DEFAULT_THRESHOLD = 0.45
DEFAULT_COVERAGE_THRESHOLD = 0.45
# The version of the matcher's rules and word lists, named in the signature after every matcher: raise it when
# a change to harness.scoring.features, rules or lexicon changes a decision, so runs before and after it do
# not compare as if scored alike.
RULES_VERSION = "rules3"
MATCHERS = ("lexical", "embedding", "hybrid", "judge")  # every matcher, as --matcher and scoring.matcher name it
# Each matcher's calibrated threshold. The judge scores a pair 1.0 (yes) or 0.0 (no): any threshold between reads it.
MATCHER_THRESHOLDS = dict(zip(MATCHERS, (DEFAULT_THRESHOLD, 0.45, 0.45, 0.50), strict=True))
VETOES = ("number", "negation", "time", "place", "speaker", "actor")  # harness.scoring.rules
MAX_BOOTSTRAP = 100_000  # beyond this the resampling only costs memory and time
DEFAULT_JUDGE_CACHE_DIR = ".cache/harness"  # the run's model-output cache (harness.cache.DEFAULT_DIR)


@dataclass(frozen=True)
class ScoreSettings:
    """`threshold` defaults to the matcher's calibrated one. The judge_* fields configure `matcher="judge"`;
    `judge_cache_dir` (None: no cache) is where its answers are kept, which changes no number."""

    threshold: float | None = None
    matcher: str = "lexical"
    coverage_threshold: float = DEFAULT_COVERAGE_THRESHOLD
    use_stemmer: bool = True
    multi_ref: str = "max"
    bootstrap: int = 1000
    seed: int = 12345
    vetoes: tuple[str, ...] = VETOES
    judge_url: str | None = None
    judge_model: str | None = None
    judge_api_key_env: str | None = None  # the name of the variable; the key itself is never stored
    judge_cache_dir: str | None = DEFAULT_JUDGE_CACHE_DIR

    def __post_init__(self) -> None:
        """Refuse values that would crash or silently empty the scoring only after every model has run."""
        import math

        from harness.errors import UserError

        if self.matcher not in MATCHERS:
            raise UserError(f"unknown matcher {self.matcher!r} (valid: {', '.join(MATCHERS)})",
                            field="matcher")
        if self.threshold is None:
            object.__setattr__(self, "threshold", MATCHER_THRESHOLDS[self.matcher])
        self._check_judge()
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

    def _check_judge(self) -> None:
        from harness.errors import UserError

        if self.matcher != "judge":
            for name in ("judge_url", "judge_model", "judge_api_key_env"):
                if getattr(self, name) is not None:
                    raise UserError(f"only used with matcher judge (the matcher is {self.matcher})", field=name)
            return
        for name, what in (("judge_url", "the endpoint root, e.g. http://127.0.0.1:8080/v1"),
                           ("judge_model", "the model name the endpoint expects")):
            value = getattr(self, name)
            if not isinstance(value, str) or not value.strip():
                raise UserError(f"the judge matcher needs {what}", field=name)
        from harness.adapters.openai_compatible import is_http_url, read_api_key

        if not is_http_url(self.judge_url):
            raise UserError(f"must start with http:// or https://, got {self.judge_url!r}", field="judge_url")
        read_api_key(self.judge_api_key_env, "judge_api_key_env")  # set now, not once the models have run
