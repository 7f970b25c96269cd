"""Score one prediction against one gold document: ROUGE, claim coverage, numbers, claim matching.

Work is done only where a number needs it: a document without gold claims gets no coverage work,
the claim matcher is built the first time a claim is matched, and a text's sentences, features and
numbers are computed once and reused (a source document is shared by every system scored against it).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

from harness import numbers
from harness.records import SALIENCE_WEIGHTS, Document, Prediction, ScoringGold
from harness.scoring.rouge import ROUGE_TYPES, RougeScorer, Score
from harness.scoring.settings import ScoreSettings
from harness.text import SPLITTER_NAME, one_sentence_per_line, split_sentences

if TYPE_CHECKING:  # matching and coverage import scikit-learn and scipy: only when claims are scored
    from harness.scoring.coverage import CoverageCounts
    from harness.scoring.matching import ClaimCounts, ClaimMatcher, GoldItem
    from harness.scoring.similarity import Similarity

SOURCE_CACHE_SIZE = 4096  # source documents whose numbers are remembered


@dataclass(frozen=True)
class SummaryScore:
    rouge: dict[str, Score]
    coverage: CoverageCounts | None  # None: the document has no gold claims to cover
    numbers_faithful: int
    numbers_stated: int
    reference_claims: int = 0  # claims the gold reference of the nearest length expresses (the ceiling)


@dataclass(frozen=True)
class DocScore:
    doc_id: str
    system: str
    summary: SummaryScore | None
    claims: ClaimCounts | None
    failure: str | None = None
    # (tp, fp, fn) at each harness.scoring.sensitivity threshold; None when no claim was scored
    sensitivity: tuple[tuple[int, int, int], ...] | None = None


@dataclass(frozen=True)
class GoldView:
    """What scoring a prediction needs from its gold document; small enough to send to a worker process."""

    doc_id: str
    references: tuple[str, ...]  # reference summaries as written
    story: str  # the main story (the source for numeric faithfulness)
    gold: tuple[GoldItem, ...]  # gold claims
    excluded: tuple[str, ...]  # page content outside the story (captions, related stories), as written
    labelled: tuple[tuple[int, str, int], ...] = ()  # per labelled reference: (words, id, scored claims expressed)


class DocScorer:
    """Scores predictions against gold views. It holds no corpus, so a worker process can hold one; the claim
    matcher, fitted on the whole gold, is passed in when claims are scored."""

    def __init__(self, settings: ScoreSettings = ScoreSettings()):
        self.settings = settings
        self.rouge = RougeScorer(settings.use_stemmer, settings.multi_ref)
        self._source_numbers: dict[str, list[float]] = {}

    def score(self, view: GoldView, prediction: Prediction, matcher: ClaimMatcher | None = None) -> DocScore:
        return self.score_many([(view, prediction)], matcher)[0]

    def score_many(self, items: Sequence[tuple[GoldView, Prediction]], matcher: ClaimMatcher | None = None) -> list[DocScore]:
        """Each prediction against its view. ROUGE for all the summaries goes in one batch (the Rust backend
        tokenises and scores it on every core); the rest is per document."""
        summaries = [(view, p.summary or "") for view, p in items
                     if view.references and (p.summary is not None or p.claims is None)]
        rouge = iter(self.rouge.score_multi_batch(
            [([one_sentence_per_line(r) for r in view.references], one_sentence_per_line(text) if text.strip() else "")
             for view, text in summaries]) if summaries else [])
        scores = []
        for view, p in items:
            summary = None
            if view.references and (p.summary is not None or p.claims is None):
                summary = self._summary_rest(view, p.summary or "", next(rouge), matcher)
            claims = sensitivity = None
            if view.gold and (p.claims is not None or p.summary is None):
                texts = [c.text for c in p.claims or ()]
                claims = self.score_claims(view, texts, _needed(matcher))
                sensitivity = self.claims_sensitivity(view, texts, _needed(matcher), claims)
            scores.append(DocScore(view.doc_id, p.system, summary, claims, p.failure, sensitivity))
        return scores

    def _summary_rest(self, view: GoldView, summary: str, rouge: dict[str, Score],
                      matcher: ClaimMatcher | None) -> SummaryScore:
        cov = None
        if view.gold:
            from harness.scoring.coverage import coverage

            cov = coverage(_needed(matcher), summary, view.gold, view.story, self.settings.coverage_threshold)
        faithful, stated = self._numbers(summary, view.story)
        return SummaryScore(rouge, cov, faithful, stated, reference_claims(view.labelled, summary))

    def score_claims(self, view: GoldView, texts: list[str], matcher: ClaimMatcher) -> ClaimCounts:
        return matcher.match(texts, view.gold, view.story, excluded_sentences(view.excluded))

    def claims_sensitivity(self, view: GoldView, texts: list[str], matcher: ClaimMatcher,
                           at_run: ClaimCounts) -> tuple[tuple[int, int, int], ...]:
        """The document's claim counts at each sensitivity threshold (harness.scoring.sensitivity)."""
        from harness.scoring.sensitivity import counts_at

        return counts_at(matcher, texts, view.gold, view.story, self.settings.threshold, at_run)

    def _numbers(self, summary: str, source: str) -> tuple[int, int]:
        """numbers.faithful_counts, with the source's numbers found once per source."""
        stated = numbers.values(summary)
        if not stated:
            return 0, 0
        pool = self._source_numbers.get(source)
        if pool is None:
            pool = numbers.values(source)
            if len(self._source_numbers) >= SOURCE_CACHE_SIZE:
                self._source_numbers.clear()
            self._source_numbers[source] = pool
        return numbers.faithful_among(stated, pool)


def _needed(matcher: ClaimMatcher | None) -> ClaimMatcher:
    if matcher is None:
        raise ValueError("scoring claims needs the corpus's claim matcher")
    return matcher


def excluded_sentences(texts: tuple[str, ...]) -> list[str]:
    return [s for t in texts for s in split_sentences(t)]


class Scorer:
    """A corpus's scoring: its gold views, the claim matcher (fitted on its gold text when first needed)
    and a DocScorer for predictions scored in this process."""

    def __init__(self, corpus: ScoringGold, settings: ScoreSettings = ScoreSettings()):
        self.corpus = corpus
        self.settings = settings
        self.doc_scorer = DocScorer(settings)
        self._views: dict[str, GoldView] = {}
        self._matcher: ClaimMatcher | None = None

    @property
    def matcher(self) -> ClaimMatcher:
        """The claim matcher, built on first use: a corpus without gold claims never fits one."""
        if self._matcher is None:
            from harness.scoring.matching import ClaimMatcher

            texts = _idf_texts(self.corpus)
            self._matcher = ClaimMatcher(texts, self.settings.threshold, self.settings.vetoes,
                                         make_similarity(self.settings, texts))
        return self._matcher

    @property
    def model_similarity(self) -> Similarity | None:
        """The model-based similarity, if one was loaded (None for the lexical matcher or before any claim)."""
        return self._matcher.similarity if self._matcher is not None else None

    @cached_property
    def _versions(self) -> dict[str, int]:
        return self.corpus.key_versions()

    def signature(self) -> str:
        from harness import __version__

        from harness.results.signature import Signature

        s = self.settings
        return str(Signature(harness=__version__, gold=self.corpus.sha256[:12], **self.doc_scorer.rouge.signature_fields(),
                             splitter=SPLITTER_NAME, matcher=matcher_name(s), threshold=s.threshold, vetoes=s.vetoes,
                             coverage="matcher", coverage_threshold=s.coverage_threshold, bootstrap=s.bootstrap,
                             seed=s.seed))

    def view(self, doc_id: str) -> GoldView:
        """The gold view of a document; kept for a document with claims (its gold items are worth building once),
        rebuilt for one without (cheap, and a corpus of a million summaries need not be held twice)."""
        view = self._views.get(doc_id)
        if view is not None:
            return view
        doc = self.corpus.with_claims(doc_id)
        if doc is None:
            return GoldView(doc_id, self.corpus.references(doc_id), self.corpus.story(doc_id), (), ())
        view = self._views[doc_id] = GoldView(doc.doc_id, tuple(s.text for s in doc.summaries), doc.story_text(),
                                              tuple(_gold_items(doc, self._versions)), tuple(doc.excluded_text()),
                                              _labelled(doc))
        return view

    def gold_items(self, doc_id: str) -> list[GoldItem]:
        return list(self.view(doc_id).gold)

    def story(self, doc_id: str) -> str:
        return self.view(doc_id).story

    def excluded_sentences(self, doc_id: str) -> list[str]:
        return excluded_sentences(self.view(doc_id).excluded)

    def needs_matcher(self, prediction: Prediction) -> bool:
        """Whether scoring `prediction` matches claims or measures coverage (and so needs the fitted matcher)."""
        return self.corpus.with_claims(prediction.doc_id) is not None

    def score(self, prediction: Prediction) -> DocScore:
        matcher = self.matcher if self.needs_matcher(prediction) else None
        return self.doc_scorer.score(self.view(prediction.doc_id), prediction, matcher)


MATCHER_NAMES = {"lexical": "lexical(concept-recall)", "embedding": "embedding(all-MiniLM-L6-v2)",
                 "hybrid": "hybrid(concept-recall+all-MiniLM-L6-v2)"}


def matcher_name(settings: ScoreSettings) -> str:
    """The matcher as the signature names it, without loading it (a judge: its model and prompt), with the version
    of the rules every matcher applies."""
    from harness.scoring.settings import RULES_VERSION

    if settings.matcher == "judge":
        from harness.scoring.judge import FLOOR, PROMPT_HASH, TOP_K

        return f"judge({settings.judge_model},prompt:{PROMPT_HASH[:8]},top{TOP_K}>={FLOOR:.2f})+{RULES_VERSION}"
    return f"{MATCHER_NAMES.get(settings.matcher, settings.matcher)}+{RULES_VERSION}"


def make_similarity(settings: ScoreSettings, gold_texts: list[str]) -> Similarity | None:
    """The model-based similarity the settings name (None: the lexical recall itself); loaded only when asked for."""
    name = settings.matcher
    if name == "lexical":
        return None
    if name == "judge":
        from harness.scoring.judge import JudgeSimilarity

        return JudgeSimilarity(gold_texts, settings.judge_url, settings.judge_model, settings.judge_api_key_env,
                               settings.judge_cache_dir)
    from harness.scoring.embedding import EmbeddingSimilarity, HybridSimilarity
    from harness.scoring.matching import LexicalSimilarity

    if name == "embedding":
        return EmbeddingSimilarity(gold_texts)
    if name == "hybrid":
        return HybridSimilarity(LexicalSimilarity(gold_texts), EmbeddingSimilarity(gold_texts))
    raise ValueError(f"unknown matcher {name!r}")


def reference_claims(labelled: Sequence[tuple[int, str, int]], summary: str) -> int:
    """How many scored claims the gold reference closest in length to `summary` expresses (its labels): what a
    careful summary of that length reaches, so coverage / this = 1.0 means "as good as the reference"."""
    if not labelled:
        return 0
    words = len(summary.split())
    return min(labelled, key=lambda ref: (abs(ref[0] - words), ref[1]))[2]


def _labelled(doc: Document) -> tuple[tuple[int, str, int], ...]:
    """(words, id, scored claims expressed) of each reference labelled with the claims it expresses."""
    scored = {c.id for c in doc.claims if not c.optional}
    return tuple((len(s.text.split()), s.id, len(set(s.claims) & scored)) for s in doc.summaries if s.claims)


def _idf_texts(corpus: ScoringGold) -> list[str]:
    """Every gold claim and every sentence of every story, in document order."""
    texts = []
    for doc_id in corpus.doc_ids():
        doc = corpus.with_claims(doc_id)
        texts += [c.text for c in doc.claims] if doc is not None else []
        texts += split_sentences(corpus.story(doc_id))
    return texts


def _gold_items(doc: Document, versions: dict[str, int]) -> list[GoldItem]:
    from harness.scoring.matching import GoldItem

    return [GoldItem(c.id, c.text, c.optional, SALIENCE_WEIGHTS.get(c.salience, 1.0),
                     float(versions.get(c.key, 1)) if c.key else 1.0, c.speaker) for c in doc.claims]


__all__ = ["ROUGE_TYPES", "DocScore", "DocScorer", "GoldView", "ScoreSettings", "Scorer", "SummaryScore"]
