"""Score one prediction against one gold document: ROUGE, claim coverage, numbers, claim matching."""

from __future__ import annotations

from dataclasses import dataclass

from harness import numbers
from harness.records import SALIENCE_WEIGHTS, Corpus, Document, Prediction
from harness.scoring.coverage import CoverageCounts, coverage
from harness.scoring.matching import ClaimCounts, ClaimMatcher, GoldItem
from harness.scoring.settings import ScoreSettings
from harness.scoring.rouge import ROUGE_TYPES, RougeScorer, Score
from harness.text import SPLITTER_NAME, one_sentence_per_line, split_sentences


@dataclass(frozen=True)
class SummaryScore:
    rouge: dict[str, Score]
    coverage: CoverageCounts
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


class Scorer:
    """Holds what is fitted once per corpus (IDF, tokenised references) and scores documents."""

    def __init__(self, corpus: Corpus, settings: ScoreSettings = ScoreSettings()):
        self.corpus = corpus
        self.settings = settings
        self.documents = corpus.by_id()
        self.rouge = RougeScorer(settings.use_stemmer, settings.multi_ref)
        self._matcher: ClaimMatcher | None = None
        versions = corpus.key_versions()
        self._gold_items = {d.doc_id: _gold_items(d, versions) for d in corpus.documents}
        self._references = {d.doc_id: [one_sentence_per_line(s.text) for s in d.summaries] for d in corpus.documents}
        self._excluded = {d.doc_id: [s for t in d.excluded_text() for s in split_sentences(t)] for d in corpus.documents}
        self._story = {d.doc_id: d.story_text() for d in corpus.documents}

    @property
    def matcher(self) -> ClaimMatcher:
        """The claim matcher, built on first use: a corpus without gold claims never fits one."""
        if self._matcher is None:
            texts = _idf_texts(self.corpus)
            self._matcher = ClaimMatcher(texts, self.settings.threshold, self.settings.vetoes,
                                         make_similarity(self.settings, texts))
        return self._matcher

    @property
    def model_similarity(self):
        """The model-based similarity, if one was loaded (None for the lexical matcher or before any claim)."""
        return self._matcher.similarity if self._matcher is not None else None

    def signature(self) -> str:
        from harness import __version__

        from harness.results.signature import Signature

        s = self.settings
        return str(Signature(harness=__version__, gold=self.corpus.sha256[:12], **self.rouge.signature_fields(),
                             splitter=SPLITTER_NAME, matcher=matcher_name(s), threshold=s.threshold, vetoes=s.vetoes,
                             coverage="matcher", coverage_threshold=s.coverage_threshold, bootstrap=s.bootstrap,
                             seed=s.seed))

    def gold_items(self, doc_id: str) -> list[GoldItem]:
        return self._gold_items[doc_id]

    def story(self, doc_id: str) -> str:
        return self._story[doc_id]

    def excluded_sentences(self, doc_id: str) -> list[str]:
        return self._excluded[doc_id]

    def score(self, prediction: Prediction) -> DocScore:
        doc = self.documents[prediction.doc_id]
        summary = None
        if doc.summaries and (prediction.summary is not None or prediction.claims is None):
            summary = self.score_summary(doc, prediction.summary or "")
        claims = None
        if doc.claims and (prediction.claims is not None or prediction.summary is None):
            texts = [c.text for c in prediction.claims or ()]
            claims = self.matcher.match(texts, self._gold_items[doc.doc_id], self._story[doc.doc_id],
                                        self._excluded[doc.doc_id])
        return DocScore(doc.doc_id, prediction.system, summary, claims, prediction.failure)

    def score_summary(self, doc: Document, summary: str) -> SummaryScore:
        text = one_sentence_per_line(summary) if summary.strip() else ""
        rouge = self.rouge.score_multi(self._references[doc.doc_id], text)
        cov = coverage(self.matcher, summary, self._gold_items[doc.doc_id], self._story[doc.doc_id],
                       self.settings.coverage_threshold) if doc.claims else CoverageCounts((), 0, 0.0, 0.0, 0.0, 0.0)
        faithful, stated = numbers.faithful_counts(summary, self._story[doc.doc_id])
        return SummaryScore(rouge, cov, faithful, stated, reference_claims(doc, summary))


MATCHER_NAMES = {"lexical": "lexical(concept-recall)", "embedding": "embedding(all-MiniLM-L6-v2)",
                 "hybrid": "hybrid(concept-recall+all-MiniLM-L6-v2)"}


def matcher_name(settings: ScoreSettings) -> str:
    """The matcher as the signature names it, without loading it (a judge: its model and prompt)."""
    if settings.matcher == "judge":
        from harness.scoring.judge import FLOOR, PROMPT_HASH, TOP_K

        return f"judge({settings.judge_model},prompt:{PROMPT_HASH[:8]},top{TOP_K}>={FLOOR:.2f})"
    return MATCHER_NAMES.get(settings.matcher, settings.matcher)


def make_similarity(settings: ScoreSettings, gold_texts: list[str]):
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


def reference_claims(doc: Document, summary: str) -> int:
    """How many scored claims the gold reference closest in length to `summary` expresses (its labels): what a
    careful summary of that length reaches, so coverage / this = 1.0 means "as good as the reference"."""
    labelled = [s for s in doc.summaries if s.claims]
    if not labelled:
        return 0
    words = len(summary.split())
    nearest = min(labelled, key=lambda s: (abs(len(s.text.split()) - words), s.id))
    scored = {c.id for c in doc.claims if not c.optional}
    return len(set(nearest.claims) & scored)


def _idf_texts(corpus: Corpus) -> list[str]:
    texts = []
    for doc in corpus.documents:
        texts += [c.text for c in doc.claims]
        texts += split_sentences(doc.story_text())
    return texts


def _gold_items(doc: Document, versions: dict[str, int]) -> list[GoldItem]:
    return [GoldItem(c.id, c.text, c.optional, SALIENCE_WEIGHTS.get(c.salience, 1.0),
                     float(versions.get(c.key, 1)) if c.key else 1.0, c.speaker) for c in doc.claims]


__all__ = ["ROUGE_TYPES", "DocScore", "ScoreSettings", "Scorer", "SummaryScore"]
