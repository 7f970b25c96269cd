"""ROUGE through rouge-score's definitions, on a fast verified backend.

`rouge-score` (Google's Python package) is the reference. `rouge-score-rs` reimplements it in Rust;
it is used only after it reproduces rouge-score on an edge-case fixture in this process, and the
Python package is used whenever it is missing or disagrees. Either way the numbers are
rouge-score's, not the Perl ROUGE-1.5.5 script's (their Porter stemmers differ on some tokens).
"""

from __future__ import annotations

from dataclasses import dataclass
from statistics import fmean

ROUGE_TYPES = ("rouge1", "rouge2", "rougeL", "rougeLsum")
TOKENIZER_NAME = "rouge-score-default"  # lowercase, [a-z0-9]+ only: drops non-ASCII letters and symbols

# Texts chosen to exercise every tokenizer and LCS corner: accents and currency symbols (dropped),
# decimals split at the point, repeated tokens, empty text, multi-line Lsum, stemming.
SELF_CHECK_PAIRS = (
    ("Zelenskyy said 45,100 troops were killed.\nAbout 390,000 were injured.",
     "Zelenskyy said 45,100 soldiers died.\nAround 390,000 injured."),
    ("Germany will allocate about €9 billion ($10.3 billion).", "Germany allocates €9bn ($16 billion) this year."),
    ("Mykolaïv and Kryvyi Rih; Dnipró’s mayor said “no”.", "Mykolaiv mayor said no."),
    ("", "Something was said."),
    ("the the the cat cat", "the cat the cat the"),
    ("Drones struck.\nMissiles struck.\nDrones struck again.", "Missiles struck again.\nDrones struck."),
    ("running runners ran quickly", "runs running quick"),
)


@dataclass(frozen=True)
class Score:
    precision: float
    recall: float
    fmeasure: float


def _to_score(raw) -> Score:
    return Score(float(raw.precision), float(raw.recall), float(raw.fmeasure))


class RougeScorer:
    """Scores (reference, prediction) pairs; references are tokenised once and reused."""

    def __init__(self, use_stemmer: bool = True, multi_ref: str = "max", backend: str = "auto"):
        if multi_ref not in ("max", "mean"):
            raise ValueError("multi_ref must be 'max' or 'mean'")
        self.use_stemmer = use_stemmer
        self.multi_ref = multi_ref
        self._reference = _python_scorer(use_stemmer)
        self._native = None
        self._tokens: dict[str, tuple[list[str], list[list[str]]]] = {}
        if backend in ("auto", "rust"):
            self._native = _native_scorer(use_stemmer)
            if self._native is not None and not self._agrees_with_reference():
                self._native = None
            if backend == "rust" and self._native is None:
                raise RuntimeError("rouge-score-rs is not installed or disagrees with rouge-score")
        self.backend = "rouge-score-rs" if self._native else "rouge-score"

    # ---------------------------------------------------------------- identity

    def signature(self) -> str:
        import rouge_score

        version = getattr(rouge_score, "__version__", "0.1.2")
        return (f"rouge:{'+'.join(ROUGE_TYPES)}|tok:{TOKENIZER_NAME}|stem:{'porter' if self.use_stemmer else 'no'}"
                f"|multiref:{self.multi_ref}|impl:rouge-score-{version}")

    # ---------------------------------------------------------------- scoring

    def score(self, reference: str, prediction: str) -> dict[str, Score]:
        """One pair; texts must already have one sentence per line for rougeLsum."""
        if self._native is None:
            raw = self._reference.score(reference, prediction)
            return {t: _to_score(raw[t]) for t in ROUGE_TYPES}
        ref_tokens, ref_sents = self._tokenise(reference, cache=True)
        pred_tokens, pred_sents = self._tokenise(prediction, cache=False)
        raw = self._native_call(ref_tokens, ref_sents, pred_tokens, pred_sents)
        return {t: _to_score(raw[t]) for t in ROUGE_TYPES}

    def score_multi(self, references: list[str], prediction: str) -> dict[str, Score]:
        """Against several references: the best F per metric (rouge-score's convention) or the mean."""
        per_ref = [self.score(ref, prediction) for ref in references]
        if not per_ref:
            raise ValueError("no reference to score against")
        result = {}
        for rouge_type in ROUGE_TYPES:
            scores = [s[rouge_type] for s in per_ref]
            if self.multi_ref == "max":
                result[rouge_type] = max(scores, key=lambda s: s.fmeasure)
            else:
                result[rouge_type] = Score(fmean(s.precision for s in scores), fmean(s.recall for s in scores),
                                           fmean(s.fmeasure for s in scores))
        return result

    def score_pairs(self, references: list[str], predictions: list[str]) -> list[dict[str, Score]]:
        """Many independent pairs at once (all cores on the native backend)."""
        if self._native is None:
            return [self.score(r, p) for r, p in zip(references, predictions, strict=True)]
        raw = self._native_batch(list(references), list(predictions))
        return [{t: _to_score(r[t]) for t in ROUGE_TYPES} for r in raw]

    # ---------------------------------------------------------------- internals

    def _tokenise(self, text: str, cache: bool) -> tuple[list[str], list[list[str]]]:
        if cache and text in self._tokens:
            return self._tokens[text]
        tokenize = self._native_tokenize
        result = (tokenize(text), [tokenize(s) for s in text.split("\n") if s])
        if cache:
            self._tokens[text] = result
        return result

    def _native_tokenize(self, text: str) -> list[str]:
        from rouge_score_rs import _native, _rougers

        return _native.call(_rougers.tokenize, text, self.use_stemmer)

    def _native_call(self, *args):
        from rouge_score_rs import _native

        return _native.call(self._native.score_documents, *args)

    def _native_batch(self, references: list[str], predictions: list[str]):
        from rouge_score_rs import _native

        return _native.call(self._native.score_batch, references, predictions)

    def _agrees_with_reference(self) -> bool:
        for reference, prediction in SELF_CHECK_PAIRS:
            expected = self._reference.score(reference, prediction)
            got = self._native_call(*self._tokenise(reference, cache=False), *self._tokenise(prediction, cache=False))
            if any(_to_score(expected[t]) != _to_score(got[t]) for t in ROUGE_TYPES):
                return False
        return True


def _python_scorer(use_stemmer: bool):
    from rouge_score import rouge_scorer

    return rouge_scorer.RougeScorer(list(ROUGE_TYPES), use_stemmer=use_stemmer)


def _native_scorer(use_stemmer: bool):
    try:
        from rouge_score_rs import _rougers
        from rouge_score_rs.scoring import Score as NativeScore
    except ImportError:
        return None
    return _rougers.Scorer(list(ROUGE_TYPES), use_stemmer, "rouge-score", NativeScore)
