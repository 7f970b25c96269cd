"""ROUGE through rouge-score's definitions, on a fast verified backend.

`rouge-score` (Google's Python package) is the reference. `rouge-score-rs` reimplements it in Rust;
it is used only after it reproduces rouge-score's numbers on an edge-case fixture in this process
(harness.scoring.rouge_selfcheck), and the Python package is used whenever it is missing or disagrees. Either way the numbers are
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

from harness.scoring.rouge_selfcheck import EXPECTED as SELF_CHECK_EXPECTED
from harness.scoring.rouge_selfcheck import SELF_CHECK_PAIRS

ROUGE_TYPES = ("rouge1", "rouge2", "rougeL", "rougeLsum")
TOKENIZER_NAME = "rouge-score-default"  # lowercase, [a-z0-9]+ only: drops non-ASCII letters and symbols
DEFAULT_CACHE_SIZE = 10_000  # normalised references kept; about 1 kB each for a 60-word summary
STEM_MEMO_SIZE = 200_000  # distinct words whose stem is remembered; about 150 bytes each
MAX_MEMO_WORD = 40  # longer "words" (hashes, URLs run together) are stemmed but not remembered


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
        engine = None
        if backend in ("auto", "rust"):
            native = _NativeEngine.create(use_stemmer)
            if native is not None and _agrees(native, SELF_CHECK_EXPECTED[bool(use_stemmer)]):
                engine = native
            elif backend == "rust":
                raise RuntimeError("rouge-score-rs is not installed or disagrees with rouge-score")
        # rouge-score (and the NLTK it imports: seconds, ~190 MB) is loaded only when it does the scoring
        self._engine = engine or _PythonEngine(use_stemmer)
        self.backend = self._engine.name

    # ---------------------------------------------------------------- identity

    def signature_fields(self) -> dict:
        """This scorer's part of the scoring signature (harness.results.signature.Signature's ROUGE fields)."""
        version = _installed_version("rouge-score", "0.1.2")
        return {"rouge": ROUGE_TYPES, "tokenizer": TOKENIZER_NAME, "stemmer": "porter" if self.use_stemmer else "no",
                "multi_ref": self.multi_ref, "rouge_impl": f"rouge-score-{version}"}

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
        return self._combined([self._engine.score_normalised(self._reference_form(ref), pred) for ref in references])

    def score_multi_batch(self, items: Sequence[tuple[Sequence[str], str]]) -> list[dict[str, Score]]:
        """`score_multi` for many (references, prediction) items in one batch (all cores on the native
        backend, tokenised there); references are not cached."""
        if any(not references for references, _ in items):
            raise ValueError("no reference to score against")
        pairs = [(ref, prediction) for references, prediction in items for ref in references]
        flat = self.score_pairs([r for r, _ in pairs], [p for _, p in pairs])
        out, at = [], 0
        for references, _ in items:
            out.append(self._combined(flat[at:at + len(references)]))
            at += len(references)
        return out

    def _combined(self, per_ref: list[dict[str, Score]]) -> dict[str, Score]:
        """One item's scores against each of its references → its score (best F per metric, or the mean)."""
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


# bytes.translate table: [a-z0-9] stay, a newline becomes "|" (a sentence-break token), all else a space
_SEPARATE = bytes(b if (0x30 <= b <= 0x39 or 0x61 <= b <= 0x7A) else (0x7C if b == 0x0A else 0x20) for b in range(256))


class _Normaliser:
    """rouge-score's tokenizer as a text-to-text map: lowercase, [a-z0-9]+ runs, stem words over three
    letters, drop invalid stems; tokens joined by spaces, sentences by newlines.

    After lowercasing, every character outside ASCII is a separator for rouge-score, so the text is
    encoded as ASCII (others replaced by "?", itself a separator) and split with C string methods. Each
    distinct word is stemmed once (Porter stems a word alone, whatever its neighbours). Lines left
    without tokens stay as blank lines: an empty sentence adds nothing to rougeLsum's union LCS or to
    its token counts, as in rouge-score.
    """

    def __init__(self, use_stemmer: bool, stem_word, max_words: int = STEM_MEMO_SIZE):
        self._use_stemmer = use_stemmer
        self._stem_word = stem_word
        self._stems: dict[bytes, bytes] = {b"|": b"\n"}
        self._max_words = max_words

    def __call__(self, text: str) -> str:
        # lowercasing is per character (it never makes or removes a newline) and may yield ASCII: K (Kelvin) -> k
        tokens = text.lower().encode("ascii", "replace").translate(_SEPARATE).replace(b"|", b" | ").split()
        if not self._use_stemmer:
            return b" ".join(tokens).replace(b"|", b"\n").decode("ascii")
        try:
            return b" ".join(map(self._stems.__getitem__, tokens)).decode("ascii")
        except KeyError:  # a word not seen before
            get, stem = self._stems.get, self._stem
            return b" ".join([get(w) or stem(w) for w in tokens]).decode("ascii")

    def _stem(self, word: bytes) -> bytes:
        stemmed = self._stem_word(word.decode("ascii")).encode("ascii")  # b"" when rouge-score drops the stem
        if len(self._stems) < self._max_words and len(word) <= MAX_MEMO_WORD:
            self._stems[word] = stemmed
        return stemmed


class _NativeEngine:
    """rouge-score-rs: a plain scorer for normalised text, a stemming one for raw-text batches."""

    name = "rouge-score-rs"

    def __init__(self, use_stemmer: bool, rougers, native):
        tokenize = rougers.tokenize
        self._call = native.call
        self.normalise = _Normaliser(use_stemmer, lambda word: " ".join(tokenize(word, True)))
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

    def score_normalised(self, reference: str, prediction: str) -> dict[str, Score]:
        raw = self._plain.score(reference, prediction)  # normalised text is ASCII: no surrogate retry needed
        return {t: Score(*raw[t]) for t in ROUGE_TYPES}

    def score_batch(self, references: list[str], predictions: list[str]) -> list[dict[str, Score]]:
        raw = self._call(self._stemming.score_batch, references, predictions)
        return [{t: Score(*r[t]) for t in ROUGE_TYPES} for r in raw]


class _PythonEngine:
    """rouge-score itself: its tokenizer stems the words, its scorer scores the normalised text."""

    name = "rouge-score"

    def __init__(self, use_stemmer: bool):
        from rouge_score import tokenizers

        tokenizer = tokenizers.DefaultTokenizer(True)
        self.normalise = _Normaliser(use_stemmer, lambda word: " ".join(tokenizer.tokenize(word)))
        self._plain = _python_scorer(False)
        self._stemming = _python_scorer(use_stemmer)

    def score_normalised(self, reference: str, prediction: str) -> dict[str, Score]:
        return _converted(self._plain.score(reference, prediction))

    def score_batch(self, references: list[str], predictions: list[str]) -> list[dict[str, Score]]:
        return [_converted(self._stemming.score(r, p)) for r, p in zip(references, predictions)]


def _converted(raw) -> dict[str, Score]:
    return {t: Score(float(raw[t].precision), float(raw[t].recall), float(raw[t].fmeasure)) for t in ROUGE_TYPES}


def _agrees(engine: _NativeEngine, expected: tuple[dict, ...]) -> bool:
    """Both native paths (normalised text, raw-text batch) must reproduce rouge-score on the fixture."""
    want = [{t: Score(*e[t]) for t in ROUGE_TYPES} for e in expected]
    try:
        normalised = [engine.score_normalised(engine.normalise(r), engine.normalise(p)) for r, p in SELF_CHECK_PAIRS]
        batch = engine.score_batch([r for r, _ in SELF_CHECK_PAIRS], [p for _, p in SELF_CHECK_PAIRS])
    except Exception:  # noqa: BLE001 - any failure of the extension means: do not use it
        return False
    return normalised == want and batch == want


def _installed_version(distribution: str, default: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(distribution)
    except PackageNotFoundError:
        return default


def _python_scorer(use_stemmer: bool):
    from rouge_score import rouge_scorer

    return rouge_scorer.RougeScorer(list(ROUGE_TYPES), use_stemmer=use_stemmer)
