"""ROUGE through rouge-score's definitions, on a fast verified backend.

`rouge-score` (Google's Python package) is the reference. `rouge-score-rs` reimplements it in Rust;
it is used only after it reproduces rouge-score on an edge-case fixture in this process, and the
Python package is used whenever it is missing or disagrees. Either way the numbers are
rouge-score's, not the Perl ROUGE-1.5.5 script's (their Porter stemmers differ on some tokens).

Why references are tokenised once: rouge-score lowercases, splits on anything outside [a-z0-9] and
Porter-stems each token, and stemming is most of the cost. That work depends only on the text, so a
reference is normalised once into "stem stem stem\\nstem stem" (one line per sentence) and cached;
scoring two normalised texts without the stemmer then gives rouge-score's numbers exactly, because
re-tokenising such a text returns the same tokens and the same sentences. The whole-text tokens are
the sentences' tokens in order, since a newline is itself a separator. A prediction is normalised
once per call, however many references it is scored against.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from statistics import fmean

ROUGE_TYPES = ("rouge1", "rouge2", "rougeL", "rougeLsum")
TOKENIZER_NAME = "rouge-score-default"  # lowercase, [a-z0-9]+ only: drops non-ASCII letters and symbols
DEFAULT_CACHE_SIZE = 50_000  # normalised references kept; about 1 kB each for a 60-word summary

# Texts chosen to exercise every tokenizer and LCS corner: accents and currency symbols (dropped),
# decimals split at the point, repeated tokens, empty text, multi-line Lsum, stemming, lines without
# tokens, blank lines, a Kelvin sign and a dotted capital I (non-ASCII that lowercases to ASCII).
SELF_CHECK_PAIRS = (
    ("Zelenskyy said 45,100 troops were killed.\nAbout 390,000 were injured.",
     "Zelenskyy said 45,100 soldiers died.\nAround 390,000 injured."),
    ("Germany will allocate about €9 billion ($10.3 billion).", "Germany allocates €9bn ($16 billion) this year."),
    ("Mykolaïv and Kryvyi Rih; Dnipró’s mayor said “no”.", "Mykolaiv mayor said no."),
    ("", "Something was said."),
    ("the the the cat cat", "the cat the cat the"),
    ("Drones struck.\nMissiles struck.\nDrones struck again.", "Missiles struck again.\nDrones struck."),
    ("running runners ran quickly", "runs running quick"),
    ("— €\n\nPower was cut.\n  \n", "€ —\nPower cuts.\n\n"),
    ("İstanbul 5\u212a run\r\nagreed generalization", "istanbul 5k runs\nagree general"),
)


@dataclass(frozen=True)
class Score:
    precision: float
    recall: float
    fmeasure: float


@dataclass(frozen=True)
class TokenStats:
    """How often texts were tokenised: shows that references are tokenised once, not once per system."""

    reference_tokenisations: int
    reference_cache_hits: int
    prediction_tokenisations: int
    cached_references: int
    cache_size: int


class RougeScorer:
    """Scores (reference, prediction) pairs; references are tokenised once and reused."""

    def __init__(self, use_stemmer: bool = True, multi_ref: str = "max", backend: str = "auto",
                 cache_size: int = DEFAULT_CACHE_SIZE):
        if multi_ref not in ("max", "mean"):
            raise ValueError("multi_ref must be 'max' or 'mean'")
        if backend not in ("auto", "rust", "python"):
            raise ValueError("backend must be 'auto', 'rust' or 'python'")
        self.use_stemmer = use_stemmer
        self.multi_ref = multi_ref
        self._cache_size = max(0, int(cache_size))
        self._normalised: dict[str, str] = {}
        self._ref_misses = self._ref_hits = self._pred_tokenisations = 0
        self._reference = _python_scorer(use_stemmer)
        self._engine = _PythonEngine(use_stemmer, self._reference)
        if backend in ("auto", "rust"):
            native = _NativeEngine.create(use_stemmer)
            if native is not None and _agrees(native, self._reference):
                self._engine = native
            if backend == "rust" and self._engine.name != "rouge-score-rs":
                raise RuntimeError("rouge-score-rs is not installed or disagrees with rouge-score")
        self.backend = self._engine.name

    # ---------------------------------------------------------------- identity

    def signature(self) -> str:
        import rouge_score

        version = getattr(rouge_score, "__version__", "0.1.2")
        return (f"rouge:{'+'.join(ROUGE_TYPES)}|tok:{TOKENIZER_NAME}|stem:{'porter' if self.use_stemmer else 'no'}"
                f"|multiref:{self.multi_ref}|impl:rouge-score-{version}")

    def stats(self) -> TokenStats:
        return TokenStats(self._ref_misses, self._ref_hits, self._pred_tokenisations,
                          len(self._normalised), self._cache_size)

    # ---------------------------------------------------------------- scoring

    def score(self, reference: str, prediction: str) -> dict[str, Score]:
        """One pair; texts must already have one sentence per line for rougeLsum."""
        pred = self._engine.normalise(prediction)
        self._pred_tokenisations += 1
        return self._engine.score_normalised(self._reference_form(reference), pred)

    def score_multi(self, references: Sequence[str], prediction: str) -> dict[str, Score]:
        """Against several references: the best F per metric (rouge-score's convention) or the mean."""
        if not references:
            raise ValueError("no reference to score against")
        pred = self._engine.normalise(prediction)
        self._pred_tokenisations += 1
        per_ref = [self._engine.score_normalised(self._reference_form(ref), pred) for ref in references]
        if len(per_ref) == 1:
            return per_ref[0]
        result = {}
        for rouge_type in ROUGE_TYPES:
            scores = [s[rouge_type] for s in per_ref]
            if self.multi_ref == "max":
                result[rouge_type] = max(scores, key=_fmeasure)  # first of equals, like np.argmax
            else:
                result[rouge_type] = Score(fmean(s.precision for s in scores), fmean(s.recall for s in scores),
                                           fmean(s.fmeasure for s in scores))
        return result

    def score_pairs(self, references: Sequence[str], predictions: Sequence[str]) -> list[dict[str, Score]]:
        """Many independent pairs at once (all cores on the native backend); nothing is cached."""
        references, predictions = list(references), list(predictions)
        if len(references) != len(predictions):
            raise ValueError(f"{len(references)} references but {len(predictions)} predictions")
        self._ref_misses += len(references)
        self._pred_tokenisations += len(predictions)
        return self._engine.score_batch(references, predictions)

    # ---------------------------------------------------------------- internals

    def _reference_form(self, reference: str) -> str:
        normalised = self._normalised.get(reference)
        if normalised is not None:
            self._ref_hits += 1
            return normalised
        normalised = self._engine.normalise(reference)
        self._ref_misses += 1
        # Admit until full, then stop: systems x documents revisit references cyclically, which an
        # evicting cache smaller than the corpus would turn into no hits at all.
        if len(self._normalised) < self._cache_size:
            self._normalised[reference] = normalised
        return normalised


def _fmeasure(score: Score) -> float:
    return score.fmeasure


class _NativeEngine:
    """rouge-score-rs: a stemming scorer for raw text (batches) and a plain one for normalised text."""

    name = "rouge-score-rs"

    def __init__(self, use_stemmer: bool, rougers, native):
        self._tokenize = rougers.tokenize
        self._call = native.call
        self._stem = use_stemmer
        # score_class=tuple: the extension builds plain (precision, recall, fmeasure) tuples.
        self._plain = rougers.Scorer(list(ROUGE_TYPES), False, "rouge-score", tuple)
        self._stemming = rougers.Scorer(list(ROUGE_TYPES), use_stemmer, "rouge-score", tuple)

    @classmethod
    def create(cls, use_stemmer: bool) -> _NativeEngine | None:
        try:
            from rouge_score_rs import _native, _rougers
        except ImportError:
            return None
        return cls(use_stemmer, _rougers, _native)

    def normalise(self, text: str) -> str:
        tokenize, stem = self._tokenize, self._stem
        try:
            if "\n" not in text:
                return " ".join(tokenize(text, stem))
            return "\n".join([" ".join(tokenize(line, stem)) for line in text.split("\n") if line])
        except UnicodeEncodeError:  # lone surrogates; the wrapper replaces them as rouge-score-rs does
            return "\n".join([" ".join(self._call(tokenize, line, stem)) for line in text.split("\n") if line])

    def score_normalised(self, reference: str, prediction: str) -> dict[str, Score]:
        raw = self._plain.score(reference, prediction)
        return {t: Score(*raw[t]) for t in ROUGE_TYPES}

    def score_batch(self, references: list[str], predictions: list[str]) -> list[dict[str, Score]]:
        raw = self._call(self._stemming.score_batch, references, predictions)
        return [{t: Score(*r[t]) for t in ROUGE_TYPES} for r in raw]


class _PythonEngine:
    """rouge-score itself: its tokenizer for normalising, a non-stemming scorer for normalised text."""

    name = "rouge-score"

    def __init__(self, use_stemmer: bool, stemming_scorer):
        from rouge_score import tokenizers

        self._tokenizer = tokenizers.DefaultTokenizer(use_stemmer)
        self._plain = _python_scorer(False)
        self._stemming = stemming_scorer

    def normalise(self, text: str) -> str:
        tokenize = self._tokenizer.tokenize
        return "\n".join([" ".join(tokenize(line)) for line in text.split("\n") if line])

    def score_normalised(self, reference: str, prediction: str) -> dict[str, Score]:
        return _converted(self._plain.score(reference, prediction))

    def score_batch(self, references: list[str], predictions: list[str]) -> list[dict[str, Score]]:
        return [_converted(self._stemming.score(r, p)) for r, p in zip(references, predictions)]


def _converted(raw) -> dict[str, Score]:
    return {t: Score(float(raw[t].precision), float(raw[t].recall), float(raw[t].fmeasure)) for t in ROUGE_TYPES}


def _agrees(engine: _NativeEngine, reference) -> bool:
    """Both native paths (normalised text, raw-text batch) must reproduce rouge-score on the fixture."""
    expected = [_converted(reference.score(r, p)) for r, p in SELF_CHECK_PAIRS]
    try:
        normalised = [engine.score_normalised(engine.normalise(r), engine.normalise(p)) for r, p in SELF_CHECK_PAIRS]
        batch = engine.score_batch([r for r, _ in SELF_CHECK_PAIRS], [p for _, p in SELF_CHECK_PAIRS])
    except Exception:  # noqa: BLE001 - any failure of the extension means: do not use it
        return False
    return normalised == expected and batch == expected


def _python_scorer(use_stemmer: bool):
    from rouge_score import rouge_scorer

    return rouge_scorer.RougeScorer(list(ROUGE_TYPES), use_stemmer=use_stemmer)
