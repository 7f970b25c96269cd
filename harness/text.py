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


# pysbd's time grows faster than the square of a text's length (measured: 0.08 s for 5,000 characters, 3.5 s for
# 40,000, minutes for 200,000), so a longer text is given to it in pieces of at most PIECE_CHARS characters, cut
# after a sentence end; texts up to LONG_TEXT_CHARS (every summary and gold text) are split exactly as before.
LONG_TEXT_CHARS = 10_000
PIECE_CHARS = 5_000
_SENTENCE_END = re.compile(r"[.!?][\"'\u201d\u2019)\]]*\s+")


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
    return tuple(s.strip() for piece in _pieces(text) for s in _segmenter().segment(piece) if s.strip())


def _pieces(text: str) -> list[str]:
    """`text` cut into pieces of at most PIECE_CHARS characters after a sentence end (else after a space, else
    anywhere), when it is longer than LONG_TEXT_CHARS; so splitting costs time in proportion to its length."""
    if len(text) <= LONG_TEXT_CHARS:
        return [text]
    pieces, start = [], 0
    while len(text) - start > PIECE_CHARS:
        window = text[start:start + PIECE_CHARS]
        ends = [m.end() for m in _SENTENCE_END.finditer(window)]
        cut = ends[-1] if ends else (window.rfind(" ") + 1 or PIECE_CHARS)
        pieces.append(text[start:start + cut])
        start += cut
    return pieces + [text[start:]]


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
