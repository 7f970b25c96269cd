"""Sentence splitting and light normalisation shared by the scorers and the baselines.

Sentences come from pysbd: rule-based, offline and deterministic, and it keeps abbreviations that
news text is full of ("U.K.", "Feb. 24", "Gov. Gladkov") inside one sentence, where a naive
full-stop split breaks them and NLTK's punkt needs a data download.
"""

from __future__ import annotations

import re
from functools import lru_cache

import pysbd

SPLITTER_NAME = f"pysbd-{getattr(pysbd, '__version__', '0.3.4')}"
SPLIT_CACHE_SIZE = 4096  # distinct texts; a news summary and its sentences take about 2 kB


@lru_cache(maxsize=1)
def _segmenter() -> pysbd.Segmenter:
    return pysbd.Segmenter(language="en", clean=False)


def split_sentences(text: str) -> list[str]:
    """Sentences of `text`. Text that already has one sentence per line is taken as split."""
    if "\n" in text.strip():
        lines = [line.strip() for line in text.split("\n")]
        return [line for line in lines if line]
    return list(_segmented(text))


@lru_cache(maxsize=SPLIT_CACHE_SIZE)
def _segmented(text: str) -> tuple[str, ...]:
    """pysbd's sentences, remembered: it costs about a millisecond per summary, and the same text is split
    for ROUGE-Lsum, for coverage and again for every system scored against the same reference."""
    return tuple(s.strip() for s in _segmenter().segment(text) if s.strip())


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """Character spans of the sentences of `text` (paragraph breaks always end a sentence)."""
    spans = []
    for block in re.finditer(r"[^\n]+(?:\n(?!\s*\n)[^\n]+)*", text):
        chunk = block.group(0)
        cursor = 0
        for sentence in _segmenter().segment(chunk):
            stripped = sentence.strip()
            if not stripped:
                continue
            start = chunk.index(stripped, cursor)
            cursor = start + len(stripped)
            spans.append((block.start() + start, block.start() + cursor))
    return spans


def one_sentence_per_line(text: str) -> str:
    """The form ROUGE-Lsum needs: without newlines it silently equals ROUGE-L."""
    return "\n".join(split_sentences(text))


def squash_whitespace(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()
