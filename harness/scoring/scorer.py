"""Score one prediction against one gold document: ROUGE, claim coverage, numbers, claim matching."""

from __future__ import annotations

from dataclasses import dataclass

from harness import numbers
from harness.records import SALIENCE_WEIGHTS, Corpus, Document, Prediction
from harness.scoring.coverage import CoverageCounts, coverage
from harness.scoring.matching import ClaimCounts, GoldItem, LexicalSimilarity, match_claims
from harness.scoring.settings import ScoreSettings
from harness.scoring.rouge import ROUGE_TYPES, RougeScorer, Score
from harness.text import SPLITTER_NAME, one_sentence_per_line, split_sentences


@dataclass(frozen=True)
class SummaryScore:
    rouge: dict[str, Score]
    coverage: CoverageCounts
    numbers_faithful: int
    numbers_stated: int


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
        self.similarity = make_similarity(settings, _idf_texts(corpus))
        versions = corpus.key_versions()
        self._gold_items = {d.doc_id: _gold_items(d, versions) for d in corpus.documents}
        self._references = {d.doc_id: [one_sentence_per_line(s.text) for s in d.summaries] for d in corpus.documents}
        self._excluded = {d.doc_id: [s for t in d.excluded_text() for s in split_sentences(t)] for d in corpus.documents}
        self._story = {d.doc_id: d.story_text() for d in corpus.documents}

    def signature(self) -> str:
        from harness import __version__

        s = self.settings
        return "|".join([
            f"harness:{__version__}",
            f"gold:{self.corpus.sha256[:12]}",
            self.rouge.signature(),
            f"split:{SPLITTER_NAME}",
            f"matcher:{self.similarity.name}",
            f"thr:{s.threshold:.2f}",
            f"veto:{','.join(s.vetoes) or 'none'}",
            f"cov:containment|covthr:{s.coverage_threshold:.2f}",
            f"boot:{s.bootstrap}|seed:{s.seed}",
        ])

    def gold_items(self, doc_id: str) -> list[GoldItem]:
        return self._gold_items[doc_id]

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
            claims = match_claims(texts, self._gold_items[doc.doc_id], self.similarity, self.settings.threshold,
                                  self._excluded[doc.doc_id], self.settings.vetoes)
        return DocScore(doc.doc_id, prediction.system, summary, claims, prediction.failure)

    def score_summary(self, doc: Document, summary: str) -> SummaryScore:
        text = one_sentence_per_line(summary) if summary.strip() else ""
        rouge = self.rouge.score_multi(self._references[doc.doc_id], text)
        cov = coverage(summary, self._gold_items[doc.doc_id], self.settings.coverage_threshold)
        faithful, stated = numbers.faithful_counts(summary, self._story[doc.doc_id])
        return SummaryScore(rouge, cov, faithful, stated)


def make_similarity(settings: ScoreSettings, gold_texts: list[str]):
    """The claim similarity the settings name; the embedding model is loaded only when asked for."""
    name = settings.matcher
    if name == "lexical":
        return LexicalSimilarity(gold_texts)
    if name == "judge":
        from harness.scoring.judge import JudgeSimilarity

        return JudgeSimilarity(gold_texts, settings.judge_url, settings.judge_model, settings.judge_api_key_env,
                               settings.judge_cache_dir)
    from harness.scoring.embedding import EmbeddingSimilarity, HybridSimilarity

    if name == "embedding":
        return EmbeddingSimilarity(gold_texts)
    if name == "hybrid":
        return HybridSimilarity(LexicalSimilarity(gold_texts), EmbeddingSimilarity(gold_texts))
    raise ValueError(f"unknown matcher {name!r}")


def _idf_texts(corpus: Corpus) -> list[str]:
    texts = []
    for doc in corpus.documents:
        texts += [c.text for c in doc.claims]
        texts += split_sentences(doc.story_text())
    return texts


def _gold_items(doc: Document, versions: dict[str, int]) -> list[GoldItem]:
    return [GoldItem(c.id, c.text, c.optional, SALIENCE_WEIGHTS.get(c.salience, 1.0),
                     float(versions.get(c.key, 1)) if c.key else 1.0) for c in doc.claims]


__all__ = ["ROUGE_TYPES", "DocScore", "ScoreSettings", "Scorer", "SummaryScore"]
