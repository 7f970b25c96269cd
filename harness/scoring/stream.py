"""ROUGE for (reference, prediction) pairs read from a JSON Lines file, in constant memory (`harness score --pairs`).

For corpora too large to hold: lines are read, scored and written in fixed-size chunks, so peak
memory depends on the chunk size, not on the number of lines. Single-reference lines are scored in
parallel batches on the native backend (every core). Each line is an object:

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
    means: dict[str, Score]  # mean precision, recall and F over the lines (exactly rounded sums)
    ci95: dict[str, list[float] | None]  # of the mean F, by ROUGE type (None: no bootstrap, or under two lines)
    backend: str
    rouge_fields: dict  # RougeScorer.signature_fields()


def iter_pairs(path: Path) -> Iterator[PairLine]:
    """Validated lines, one at a time; a bad line is a UserError naming file, line and field."""
    any_line = False
    for number, obj in iter_jsonl(path):
        any_line = True
        yield parse_pair(obj, path, number)
    if not any_line:
        raise UserError("no pairs (the file is empty)", path)


def parse_pair(obj: object, path: Path, line: int) -> PairLine:
    """One line of a pairs file, checked: exactly one of `reference`/`references`, strings within the size
    limit; a bad line names file, line and field."""
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
                 chunk_size: int = CHUNK_SIZE, scorer: RougeScorer | None = None, n_boot: int = 0, seed: int = 0,
                 progress: bool = False) -> StreamResult:
    """Score every line of `path`; with `out`, write one result line per input line (atomically).

    With `n_boot`, 95% intervals of the mean F of each ROUGE type come from a Poisson bootstrap
    (harness.aggregate.StreamingBootstrap): no per-line value is kept, so memory does not grow with the file.
    """
    from harness.aggregate import StreamingBootstrap

    scorer = scorer or RougeScorer(use_stemmer, multi_ref, cache_size=STREAM_CACHE_SIZE)
    totals = {t: [0.0, 0.0, 0.0] for t in ROUGE_TYPES}
    bootstrap = StreamingBootstrap(len(ROUGE_TYPES), n_boot, seed)
    n = 0
    with _atomic_lines(out) as sink, _progress_bar(progress) as bar:
        for chunk in _chunks(iter_pairs(path), chunk_size):
            scores = score_chunk(scorer, chunk)
            if sink is not None:
                sink.write("".join(json.dumps(result_line(pair, score), ensure_ascii=False) + "\n"
                                   for pair, score in zip(chunk, scores)))
            for t in ROUGE_TYPES:
                total = totals[t]
                total[0] = math.fsum([total[0], *(s[t].precision for s in scores)])
                total[1] = math.fsum([total[1], *(s[t].recall for s in scores)])
                total[2] = math.fsum([total[2], *(s[t].fmeasure for s in scores)])
            bootstrap.add([[s[t].fmeasure for t in ROUGE_TYPES] for s in scores])
            n += len(chunk)
            bar.update(len(chunk))
    means = {t: Score(*(v / n for v in totals[t])) for t in ROUGE_TYPES}
    return StreamResult(n, means, dict(zip(ROUGE_TYPES, bootstrap.intervals())), scorer.backend,
                        scorer.signature_fields())


def _progress_bar(enabled: bool):
    from tqdm import tqdm

    # on a terminal only: piped or logged stderr keeps to messages (a bad line is one line)
    return tqdm(desc="scoring", unit=" pairs", file=sys.stderr, disable=not (enabled and sys.stderr.isatty()),
                dynamic_ncols=True, mininterval=0.5)


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


def pairs_results(result: StreamResult, system: str, settings) -> dict:
    """The result object of a pairs file, shaped like `harness score`'s (one system, summaries only), so the
    same leaderboard prints it; per-pair scores are in the scores file, not here."""
    from harness import __version__
    from harness.results.signature import pairs_signature

    summary: dict = {t: {**vars(result.means[t]), "ci95": result.ci95[t]} for t in ROUGE_TYPES}
    summary.update(dict.fromkeys(("claim_coverage", "weighted_claim_coverage", "version_weighted_claim_coverage",
                                  "claim_coverage_vs_reference", "numeric_faithfulness", "numbers_stated")))
    summary["n_documents"] = result.n_pairs
    signature = pairs_signature(__version__, result.rouge_fields, settings.bootstrap, settings.seed)
    return {"signature": signature, "gold_sha256": None, "n_documents": result.n_pairs, "backend": result.backend,
            "systems": {system: {"summary": summary, "claims": None, "failures": 0, "missing": []}}}
