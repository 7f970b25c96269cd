"""Offline baselines: lead-k, TextRank, one-claim-per-sentence, and the gold oracle (the ceiling).

All of them read the main story by default: where a document has regions, only the headline and
body regions (Source.story_text()); datelines, captions, bylines and page furniture are left out.
`text: raw` makes them read the whole page text instead, which shows the boilerplate trap: a
lead-k summary of a scraped page is often its navigation and byline.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from harness import __version__
from harness.adapters.base import Adapter, AdapterError
from harness.options import Option
from harness.records import Document, PredictedClaim, Source
from harness.text import split_sentences

TEXT_OPTION = Option("text", str, "story", "story: headline and body regions only; raw: the whole page text",
                     choices=("story", "raw"))


@dataclass(frozen=True)
class Sentence:
    start: int
    end: int
    text: str


def sentences(doc: Source | Document, text: str = "story") -> list[Sentence]:
    """Sentences with their offsets in doc.text; wrapped lines are joined, blank lines end a paragraph."""
    if text == "story" and any(r.in_story for r in doc.regions):
        pieces = [(r.start, doc.text[r.start:r.end]) for r in doc.regions if r.in_story]
    else:
        pieces = [(0, doc.text)]
    out = []
    for base, chunk in pieces:
        cursor = 0
        for block in re.split(r"(\n[ \t\r\f\v]*\n)", chunk):
            if block.strip() and not re.fullmatch(r"\n[ \t\r\f\v]*\n", block):
                out += _paragraph_sentences(block, base + cursor)
            cursor += len(block)
    return out


def _paragraph_sentences(paragraph: str, offset: int) -> list[Sentence]:
    squashed, where = [], []
    for match in re.finditer(r"\s+|\S+", paragraph):
        piece = match.group(0)
        if piece[0].isspace():
            squashed.append(" ")
            where.append(match.start())
        else:
            squashed.extend(piece)
            where.extend(range(match.start(), match.end()))
    flat = "".join(squashed)
    out, cursor = [], 0
    for sentence in split_sentences(flat.strip()):
        start = flat.index(sentence, cursor)
        cursor = start + len(sentence)
        out.append(Sentence(offset + where[start], offset + where[cursor - 1] + 1, sentence))
    return out


def _words(text: str) -> int:
    return len(text.split())


class LeadAdapter(Adapter):
    """The first k sentences of the main story (story_text(): headline and body regions; `text: raw` for all)."""

    name = "lead"
    version = __version__
    tasks = ("summary",)
    deterministic = True
    cacheable = False  # cheap and deterministic: caching would only hide code changes
    options = (Option("k", int, 3, "number of sentences", minimum=1), TEXT_OPTION)

    def summarize(self, doc: Source) -> str:
        return " ".join(s.text for s in sentences(doc, self.settings["text"])[: self.settings["k"]])


class TextRankAdapter(Adapter):
    """Extractive TextRank: PageRank over the TF-IDF cosine graph of the main story's sentences (story_text())."""

    name = "textrank"
    version = __version__
    tasks = ("summary",)
    deterministic = True
    cacheable = False
    options = (
        Option("k", int, 3, "number of sentences", minimum=1),
        Option("min_words", int, 5, "ignore shorter sentences (headlines, sub-heads)", minimum=0),
        Option("damping", float, 0.85, "PageRank damping factor", minimum=0),
        TEXT_OPTION,
    )

    def summarize(self, doc: Source) -> str:
        candidates = [s for s in sentences(doc, self.settings["text"]) if _words(s.text) >= self.settings["min_words"]]
        if not candidates:
            return ""
        scores = textrank_scores([s.text for s in candidates], self.settings["damping"])
        best = sorted(range(len(candidates)), key=lambda i: (-scores[i], i))[: self.settings["k"]]
        return " ".join(candidates[i].text for i in sorted(best))


def textrank_scores(texts: Sequence[str], damping: float = 0.85, iterations: int = 200) -> list[float]:
    """PageRank scores of sentences on their TF-IDF cosine-similarity graph (no self loops)."""
    import numpy as np
    from sklearn.feature_extraction.text import TfidfVectorizer

    n = len(texts)
    if n == 1:
        return [1.0]
    try:
        matrix = TfidfVectorizer(stop_words="english").fit_transform(texts)
    except ValueError:  # nothing but stop words: no graph, keep document order
        return [float(n - i) for i in range(n)]
    sim = (matrix @ matrix.T).toarray()
    np.fill_diagonal(sim, 0.0)
    rows = sim.sum(axis=1, keepdims=True)
    transition = np.divide(sim, rows, out=np.full_like(sim, 1.0 / n), where=rows > 0)
    scores = np.full(n, 1.0 / n)
    for _ in range(iterations):
        updated = (1 - damping) / n + damping * transition.T @ scores
        if np.abs(updated - scores).sum() < 1e-10:
            scores = updated
            break
        scores = updated
    return [float(x) for x in scores]


class SentenceClaimsAdapter(Adapter):
    """Every sentence of the main story (story_text()) is a claim, with its span: the naive claims baseline."""

    name = "sentence-claims"
    version = __version__
    tasks = ("claims",)
    deterministic = True
    cacheable = False
    options = (
        Option("min_words", int, 5, "skip shorter sentences (headlines, sub-heads, datelines)", minimum=0),
        Option("max_claims", int, None, "keep at most this many (first ones)", minimum=1),
        TEXT_OPTION,
    )

    def extract_claims(self, doc: Source) -> list[PredictedClaim]:
        found = [PredictedClaim(s.text, (s.start, s.end)) for s in sentences(doc, self.settings["text"])
                 if _words(s.text) >= self.settings["min_words"]]
        limit = self.settings["max_claims"]
        return found[:limit] if limit else found


class OracleAdapter(Adapter):
    """The ceiling: a greedy ROUGE oracle over the main story's sentences (story_text()) against the document's
    reference summaries, and the gold claims themselves. It reads the gold (reads_gold: it is given the whole
    Document), so every table reports it as a ceiling, not a competitor."""

    name = "oracle"
    version = __version__
    tasks = ("summary", "claims")
    deterministic = True
    cacheable = False
    reads_gold = True
    options = (
        Option("max_sentences", int, 5, "stop after this many sentences", minimum=1),
        Option("reference", str, "all", "which reference summaries to aim at (all = best of them)",
               choices=("all", "headline", "short", "long")),
        TEXT_OPTION,
    )

    def setup(self) -> None:
        self._rouge = None

    def summarize(self, doc: Document) -> str:
        from harness.scoring.rouge import RougeScorer
        from harness.text import one_sentence_per_line

        wanted = self.settings["reference"]
        refs = [one_sentence_per_line(s.text) for s in doc.summaries if wanted in ("all", s.length)]
        if not refs:
            raise AdapterError(f"document {doc.doc_id} has no reference summary ({wanted}) for the oracle")
        if self._rouge is None:
            self._rouge = RougeScorer(use_stemmer=True, multi_ref="max")
        return " ".join(greedy_oracle([s.text for s in sentences(doc, self.settings["text"])], refs,
                                      self._rouge, self.settings["max_sentences"]))

    def extract_claims(self, doc: Document) -> list[PredictedClaim]:
        return [PredictedClaim(c.text, c.spans[0] if c.spans else None) for c in doc.claims]


def greedy_oracle(candidates: Sequence[str], references: Sequence[str], rouge, max_sentences: int) -> list[str]:
    """Add the sentence that most raises mean(ROUGE-1 F, ROUGE-2 F) until none does; keep document order."""
    chosen: list[int] = []
    best = 0.0
    while len(chosen) < max_sentences:
        pick, pick_score = None, best
        for i in range(len(candidates)):
            if i in chosen:
                continue
            text = "\n".join(candidates[j] for j in sorted(chosen + [i]))
            scores = rouge.score_multi(list(references), text)
            value = (scores["rouge1"].fmeasure + scores["rouge2"].fmeasure) / 2
            if value > pick_score + 1e-12:
                pick, pick_score = i, value
        if pick is None:
            break
        chosen.append(pick)
        best = pick_score
    return [candidates[j] for j in sorted(chosen)]
