"""ROUGE for (reference, prediction) pairs read from a JSON Lines file, in constant memory.

For corpora too large to hold: lines are read, scored and written in fixed-size chunks, so peak
memory depends on the chunk size, not on the number of lines. Single-reference lines are scored in
parallel batches on the native backend. Each line is an object:

    {"id": "any JSON value, echoed", "reference": "text" | "references": ["text", ...], "prediction": "text"}

Texts are scored as given: rougeLsum needs one sentence per line (see harness.text.one_sentence_per_line).
"""

from __future__ import annotations

import json
import math
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from harness.errors import UserError
from harness.io import atomic_open, iter_jsonl
from harness.predictions import MAX_TEXT_CHARS
from harness.scoring.rouge import ROUGE_TYPES, RougeScorer, Score

ALLOWED_FIELDS = frozenset({"id", "reference", "references", "prediction", "meta"})
CHUNK_SIZE = 2048  # lines in memory at once
STREAM_CACHE_SIZE = 4096  # normalised references kept for multi-reference lines


@dataclass(frozen=True)
class PairLine:
    line: int
    id: object
    references: tuple[str, ...]
    prediction: str


@dataclass(frozen=True)
class StreamResult:
    n_pairs: int
    means: dict[str, Score]  # mean precision, recall and F over the lines
    backend: str


def iter_pairs(path: Path) -> Iterator[PairLine]:
    """Validated lines, one at a time; a bad line is a UserError naming file, line and field."""
    any_line = False
    for number, obj in iter_jsonl(path):
        any_line = True
        yield parse_pair(obj, path, number)
    if not any_line:
        raise UserError("no pairs (the file is empty)", path)


def parse_pair(obj: object, path: Path, line: int) -> PairLine:
    if not isinstance(obj, dict):
        raise UserError(f"expected a JSON object, got {type(obj).__name__}", path, line)
    unknown = sorted(set(obj) - ALLOWED_FIELDS)
    if unknown:
        raise UserError(f"unknown field (allowed: {', '.join(sorted(ALLOWED_FIELDS))})", path, line, unknown[0])
    if ("reference" in obj) == ("references" in obj):
        raise UserError("give exactly one of 'reference' (a string) or 'references' (a list)", path, line, "reference")
    if "reference" in obj:
        references = (_text(obj["reference"], path, line, "reference"),)
    else:
        raw = obj["references"]
        if not isinstance(raw, list) or not raw:
            raise UserError("expected a non-empty list of strings", path, line, "references")
        references = tuple(_text(r, path, line, f"references[{i}]") for i, r in enumerate(raw))
    prediction = _text(obj.get("prediction"), path, line, "prediction")
    return PairLine(line, obj.get("id"), references, prediction)


def _text(value: object, path: Path, line: int, field: str) -> str:
    if not isinstance(value, str):
        raise UserError(f"expected a string, got {type(value).__name__}", path, line, field)
    if len(value) > MAX_TEXT_CHARS:
        raise UserError(f"{len(value):,} characters; the limit is {MAX_TEXT_CHARS:,}", path, line, field)
    return value


def score_stream(path: Path, out: Path | None = None, use_stemmer: bool = True, multi_ref: str = "max",
                 chunk_size: int = CHUNK_SIZE, scorer: RougeScorer | None = None) -> StreamResult:
    """Score every line of `path`; with `out`, write one result line per input line (atomically)."""
    scorer = scorer or RougeScorer(use_stemmer, multi_ref, cache_size=STREAM_CACHE_SIZE)
    totals = {t: [0.0, 0.0, 0.0] for t in ROUGE_TYPES}
    n = 0
    with _atomic_lines(out) as sink:
        for chunk in _chunks(iter_pairs(path), chunk_size):
            scores = score_chunk(scorer, chunk)
            for pair, score in zip(chunk, scores):
                if sink is not None:
                    sink.write(json.dumps(result_line(pair, score), ensure_ascii=False) + "\n")
            for t in ROUGE_TYPES:
                total = totals[t]
                total[0] = math.fsum([total[0], *(s[t].precision for s in scores)])
                total[1] = math.fsum([total[1], *(s[t].recall for s in scores)])
                total[2] = math.fsum([total[2], *(s[t].fmeasure for s in scores)])
            n += len(chunk)
    means = {t: Score(*(v / n for v in totals[t])) for t in ROUGE_TYPES}
    return StreamResult(n, means, scorer.backend)


def score_chunk(scorer: RougeScorer, chunk: list[PairLine]) -> list[dict[str, Score]]:
    """Single-reference lines in one parallel batch; multi-reference lines one by one."""
    single = [i for i, p in enumerate(chunk) if len(p.references) == 1]
    scores: list[dict[str, Score] | None] = [None] * len(chunk)
    batch = scorer.score_pairs([chunk[i].references[0] for i in single], [chunk[i].prediction for i in single])
    for i, score in zip(single, batch):
        scores[i] = score
    for i, pair in enumerate(chunk):
        if scores[i] is None:
            scores[i] = scorer.score_multi(list(pair.references), pair.prediction)
    return scores  # type: ignore[return-value]


def result_line(pair: PairLine, score: dict[str, Score]) -> dict:
    row: dict = {"line": pair.line}
    if pair.id is not None:
        row["id"] = pair.id
    for t in ROUGE_TYPES:
        s = score[t]
        row[t] = {"precision": s.precision, "recall": s.recall, "fmeasure": s.fmeasure}
    return row


def _chunks(items: Iterator[PairLine], size: int) -> Iterator[list[PairLine]]:
    chunk: list[PairLine] = []
    for item in items:
        chunk.append(item)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


@contextmanager
def _atomic_lines(path: Path | None) -> Iterator[IO[str] | None]:
    """Nowhere (None), or a file that appears only once complete."""
    if path is None:
        yield None
        return
    with atomic_open(path) as handle:
        yield handle


def main(argv: list[str] | None = None) -> int:
    """`python -m harness.scoring.stream PAIRS.jsonl [--out SCORES.jsonl] [--no-stemmer] [--multi-ref mean]`."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m harness.scoring.stream", description=__doc__.splitlines()[0])
    parser.add_argument("pairs", type=Path)
    parser.add_argument("--out", type=Path, help="write one JSON line of scores per input line")
    parser.add_argument("--no-stemmer", action="store_true")
    parser.add_argument("--multi-ref", choices=("max", "mean"), default="max")
    parser.add_argument("--chunk-size", type=int, default=CHUNK_SIZE)
    args = parser.parse_args(argv)
    if args.chunk_size < 1:
        parser.error("--chunk-size must be at least 1")
    try:
        result = score_stream(args.pairs, args.out, not args.no_stemmer, args.multi_ref, args.chunk_size)
    except UserError as err:
        print(f"harness: error: {err}", file=sys.stderr)
        return 2
    summary = {"n_pairs": result.n_pairs, "backend": result.backend,
               **{t: vars(s) for t, s in result.means.items()}}
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
