"""Seeded workloads built from the gold corpus: the same texts on every run and every machine."""

from __future__ import annotations

import json
import random
import re
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

from harness import gold
from harness.records import Corpus
from harness.text import split_sentences

SEED = 6


@dataclass(frozen=True)
class Article:
    doc_id: str
    sentences: tuple[str, ...]  # main-story sentences (Document.story_text), pysbd-split
    excluded: tuple[str, ...]  # sentences of captions, related stories and other page furniture


def load_articles(corpus: Corpus | None = None) -> tuple[Corpus, list[Article]]:
    corpus = corpus or gold.load()[0]
    articles = [Article(d.doc_id, tuple(split_sentences(d.story_text())),
                        tuple(s for t in d.excluded_text() for s in split_sentences(t))) for d in corpus.documents]
    return corpus, articles


def summary(rng: random.Random, article: Article, k: int = 3) -> str:
    """k sentences of one article, one per line (the form rougeLsum needs)."""
    return "\n".join(rng.sample(article.sentences, k))


@dataclass(frozen=True)
class SummaryPair:
    source: str  # eight sentences of one article, one per line: the document summarised
    reference: str  # three of them
    prediction: str  # three of them, drawn independently


def summary_pairs(articles: list[Article], seed: int = SEED) -> Iterator[SummaryPair]:
    """An endless seeded stream of news-like pairs (about 55 words, 3 sentences each, one per line); the first
    n of a longer run are the n of a shorter one."""
    rng = random.Random(seed)
    while True:
        article = rng.choice(articles)
        source = Article(article.doc_id, tuple(rng.sample(article.sentences, 8)), ())
        yield SummaryPair("\n".join(source.sentences), summary(rng, source), summary(rng, source))


def write_summary_workload(folder: Path, articles: list[Article], n: int, with_gold: bool = True) -> dict[str, Path]:
    """n pairs as `harness score` takes them: a gold JSONL (one document per pair, its source and one reference
    summary, no claims) with a predictions JSONL, and the same pairs as a pairs JSONL. Written as generated."""
    paths = {"pairs": folder / f"pairs_{n}.jsonl"}
    if with_gold:
        paths |= {"gold": folder / f"gold_{n}.jsonl", "predictions": folder / f"predictions_{n}.jsonl"}
    with ExitStack() as stack:
        out = {name: stack.enter_context(path.open("w", encoding="utf-8")) for name, path in paths.items()}
        for i, pair in zip(range(n), summary_pairs(articles)):
            doc_id = f"d{i:07d}"
            out["pairs"].write(_line({"id": doc_id, "reference": pair.reference, "prediction": pair.prediction}))
            if with_gold:
                out["gold"].write(_line({"doc_id": doc_id, "text": pair.source,
                                         "summaries": [{"id": "reference", "length": "any", "text": pair.reference}]}))
                out["predictions"].write(_line({"doc_id": doc_id, "system": "model", "summary": pair.prediction}))
    return paths


def write_checkpoint_workload(path: Path, corpus: Corpus, articles: list[Article], n_systems: int,
                              seed: int = SEED + 4) -> None:
    """Predictions of `n_systems` systems (training checkpoints) on every bundled document: each a summary of
    three story sentences, one per line, scored against the bundled gold's references and claims."""
    rng = random.Random(seed)
    by_id = {a.doc_id: a for a in articles}
    with path.open("w", encoding="utf-8") as out:
        for k in range(n_systems):
            for doc in corpus.documents:
                out.write(_line({"doc_id": doc.doc_id, "system": f"checkpoint-{k:05d}",
                                 "summary": summary(rng, by_id[doc.doc_id])}))


def _perturb(rng: random.Random, text: str) -> str:
    """A near-miss a claim extractor makes: a changed number, a negation, or dropped words."""
    choice = rng.randrange(3)
    if choice == 0 and re.search(r"\d", text):
        return re.sub(r"\d+", lambda m: str(int(m.group()) + rng.randint(1, 9)), text, count=1)
    if choice == 1:
        return re.sub(r"\b(is|was|were|are|has|have|will|said)\b", r"\1 not", text, count=1)
    words = text.split()
    keep = sorted(rng.sample(range(len(words)), max(1, int(len(words) * 0.7))))
    return " ".join(words[i] for i in keep)


def write_claim_workload(folder: Path, corpus: Corpus, articles: list[Article], n_docs: int, n_gold: int,
                         n_pred: int, seed: int = SEED + 2) -> dict[str, Path]:
    """A claims-only gold of n_docs documents (a bundled article with n_gold of its claims) and predictions of
    n_pred claims each: 30% copies of a gold claim, 30% near-misses (a changed number, a negation, dropped
    words), 40% story sentences. Each document keeps its article's page furniture (excluded content)."""
    rng = random.Random(seed)
    by_id = {a.doc_id: a for a in articles}
    records = {d.doc_id: gold.document_record(d) for d in corpus.documents}
    eligible = [d.doc_id for d in corpus.documents if len(d.claims) >= n_gold]
    paths = {"gold": folder / f"claims_gold_{n_docs}.jsonl", "predictions": folder / f"claims_predictions_{n_docs}.jsonl"}
    with paths["gold"].open("w", encoding="utf-8") as gold_out, paths["predictions"].open("w", encoding="utf-8") as pred_out:
        for i in range(n_docs):
            source = rng.choice(eligible)
            claims = rng.sample(records[source]["claims"], n_gold)
            texts = [c["text"] for c in claims]
            copies = rng.sample(texts, int(n_pred * 0.3))
            near = [_perturb(rng, t) for t in rng.sample(texts, int(n_pred * 0.3))]
            story = list(rng.choices(by_id[source].sentences, k=n_pred - len(copies) - len(near)))
            predictions = copies + near + story
            rng.shuffle(predictions)
            doc_id = f"c{i:05d}"
            gold_out.write(_line({**records[source], "doc_id": doc_id, "claims": claims, "summaries": []}))
            pred_out.write(_line({"doc_id": doc_id, "system": "extractor", "claims": predictions}))
    return paths


def _line(record: dict) -> str:
    return json.dumps(record, ensure_ascii=False) + "\n"
