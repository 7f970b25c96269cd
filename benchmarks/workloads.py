"""Seeded workloads built from the gold corpus: the same texts on every run and every machine."""

from __future__ import annotations

import json
import random
import re
from dataclasses import dataclass
from pathlib import Path

from harness import gold
from harness.records import Corpus
from harness.scoring.matching import GoldItem
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


def rouge_pairs(articles: list[Article], n: int, seed: int = SEED) -> list[tuple[str, str]]:
    """(reference, candidate) pairs, both drawn from the same article so that they share vocabulary."""
    rng = random.Random(seed)
    pairs = []
    for _ in range(n):
        article = rng.choice(articles)
        pairs.append((summary(rng, article), summary(rng, article)))
    return pairs


@dataclass(frozen=True)
class MultiDoc:
    references: tuple[str, ...]
    outputs: tuple[str, ...]  # one per system


def multi_system(articles: list[Article], n_docs: int, n_refs: int, n_systems: int,
                 seed: int = SEED + 1) -> list[MultiDoc]:
    rng = random.Random(seed)
    docs = []
    for _ in range(n_docs):
        article = rng.choice(articles)
        docs.append(MultiDoc(tuple(summary(rng, article) for _ in range(n_refs)),
                             tuple(summary(rng, article) for _ in range(n_systems))))
    return docs


@dataclass(frozen=True)
class ClaimDoc:
    predictions: tuple[str, ...]
    gold: tuple[GoldItem, ...]
    excluded: tuple[str, ...]


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


def claim_docs(corpus: Corpus, articles: list[Article], gold_items: dict[str, list[GoldItem]], n_docs: int,
               n_gold: int, n_pred: int, seed: int = SEED + 2) -> list[ClaimDoc]:
    """Per document: n_gold gold claims; predictions are 30% copies, 30% near-misses, 40% story sentences."""
    rng = random.Random(seed)
    by_id = {a.doc_id: a for a in articles}
    eligible = [d.doc_id for d in corpus.documents if len(gold_items[d.doc_id]) >= n_gold]
    docs = []
    for _ in range(n_docs):
        doc_id = rng.choice(eligible)
        items = rng.sample(gold_items[doc_id], n_gold)
        copies = [g.text for g in rng.sample(items, int(n_pred * 0.3))]
        near = [_perturb(rng, g.text) for g in rng.sample(items, int(n_pred * 0.3))]
        story = list(rng.choices(by_id[doc_id].sentences, k=n_pred - len(copies) - len(near)))
        predictions = copies + near + story
        rng.shuffle(predictions)
        excluded = by_id[doc_id].excluded
        docs.append(ClaimDoc(tuple(predictions), tuple(items), tuple(rng.sample(excluded, min(10, len(excluded))))))
    return docs


def write_pairs_jsonl(path: Path, articles: list[Article], n: int, seed: int = SEED + 3) -> None:
    """n pairs as JSON Lines, written as generated (the generator holds no list)."""
    rng = random.Random(seed)
    with path.open("w", encoding="utf-8") as out:
        for i in range(n):
            article = rng.choice(articles)
            out.write(json.dumps({"id": i, "reference": summary(rng, article), "prediction": summary(rng, article)},
                                 ensure_ascii=False) + "\n")
