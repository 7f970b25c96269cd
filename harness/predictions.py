"""Predictions JSON Lines: the strict reader (every problem is one line naming file, line and field) and the writer."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

from harness.errors import UserError
from harness.io import atomic_write, iter_jsonl
from harness.records import PredictedClaim, Prediction, ScoringGold

ALLOWED_FIELDS = frozenset({"doc_id", "system", "summary", "claims", "failure", "meta"})
MAX_TEXT_CHARS = 200_000  # a "summary" longer than this is a pipeline bug
MAX_CLAIMS = 1_000  # claims per document; a million (55 MB on one line) took 5.4 GB to score
MAX_LINE_BYTES = 16_000_000  # one line is parsed whole; refused before it is, beyond this


def iter_predictions(path: Path, gold: ScoringGold | None = None,
                     system: str | None = None) -> Iterator[Prediction]:
    """Yield validated predictions one by one (streaming: memory does not grow with the file); with `gold`, each
    names one of its documents and its claims' spans lie inside that document's text."""
    seen: set[tuple[str, str]] = set()
    any_line = False
    for number, obj in iter_jsonl(path, storable=True, max_line_bytes=MAX_LINE_BYTES):
        any_line = True
        prediction = parse_prediction(obj, path, number, gold, system)
        key = (prediction.doc_id, prediction.system)
        if key in seen:
            raise UserError(f"second prediction for document {prediction.doc_id!r} and system {prediction.system!r}",
                            path, number, "doc_id")
        seen.add(key)
        yield prediction
    if not any_line:
        raise UserError("no predictions (the file is empty)", path)


def read_predictions(path: Path, gold: ScoringGold | None = None,
                     system: str | None = None) -> list[Prediction]:
    return list(iter_predictions(path, gold, system))


def parse_prediction(obj: object, path: Path, line: int, gold: ScoringGold | None,
                     system: str | None) -> Prediction:
    """One line of a predictions file, checked field by field: every problem names file, line and field, and
    a document the gold does not have is refused rather than scored as nothing."""
    if not isinstance(obj, dict):
        raise UserError(f"expected a JSON object, got {type(obj).__name__}", path, line)
    unknown = sorted(set(obj) - ALLOWED_FIELDS)
    if unknown:
        raise UserError(f"unknown field (allowed: {', '.join(sorted(ALLOWED_FIELDS))})", path, line, unknown[0])
    doc_id = obj.get("doc_id")
    if not isinstance(doc_id, str) or not doc_id:
        raise UserError("missing or not a string", path, line, "doc_id")
    text_length = None
    if gold is not None:
        if gold.known_id(doc_id) is None:
            raise UserError(f"unknown document {doc_id!r} (not in the gold corpus)", path, line, "doc_id")
        text_length = gold.text_length(doc_id)
    name = obj.get("system", system)
    if not isinstance(name, str) or not name.strip():
        raise UserError("missing (give it per line or with --system NAME)", path, line, "system")
    if "summary" not in obj and "claims" not in obj and "failure" not in obj:
        raise UserError("a prediction needs 'summary' and/or 'claims'", path, line, "summary")
    summary = obj.get("summary")
    if summary is not None and not isinstance(summary, str):
        raise UserError(f"expected a string, got {type(summary).__name__}", path, line, "summary")
    if summary is not None and len(summary) > MAX_TEXT_CHARS:
        raise UserError(f"{len(summary):,} characters; the limit is {MAX_TEXT_CHARS:,}", path, line, "summary")
    claims = None
    if "claims" in obj and obj["claims"] is not None:
        claims = parse_claims(obj["claims"], text_length, path, line)
    failure = obj.get("failure")
    if failure is not None and not isinstance(failure, str):
        raise UserError("expected a string", path, line, "failure")
    meta = obj.get("meta") or {}
    if not isinstance(meta, dict):
        raise UserError("expected an object", path, line, "meta")
    return Prediction(doc_id, name, summary, claims, failure, meta)


def parse_claims(raw: object, text_length: int | None, path: Path, line: int) -> tuple[PredictedClaim, ...]:
    """A prediction's claims: strings, or objects with `text` and an optional `span` inside the document's text
    (`text_length` characters, when known),
    within the per-document limit (a million claims would take gigabytes to score)."""
    if not isinstance(raw, list):
        raise UserError(f"expected a list, got {type(raw).__name__}", path, line, "claims")
    if len(raw) > MAX_CLAIMS:
        raise UserError(f"{len(raw):,} claims; the limit is {MAX_CLAIMS:,} per document", path, line, "claims")
    out = []
    for i, item in enumerate(raw):
        where = f"claims[{i}]"
        if isinstance(item, str):
            out.append(PredictedClaim(_limited(item, path, line, where)))
            continue
        if not isinstance(item, dict) or not isinstance(item.get("text"), str):
            raise UserError("a claim is a string or an object with a string 'text'", path, line, where)
        extra = sorted(set(item) - {"text", "span"})
        if extra:
            raise UserError(f"unknown field {extra[0]!r} (allowed: text, span)", path, line, where)
        out.append(PredictedClaim(_limited(item["text"], path, line, where),
                                  _span(item.get("span"), text_length, path, line, f"{where}.span")))
    return tuple(out)


def _limited(text: str, path: Path, line: int, where: str) -> str:
    if len(text) > MAX_TEXT_CHARS:
        raise UserError(f"{len(text):,} characters; the limit is {MAX_TEXT_CHARS:,}", path, line, where)
    return text


def _span(raw: object, text_length: int | None, path: Path, line: int, where: str) -> tuple[int, int] | None:
    if raw is None:
        return None
    if (not isinstance(raw, list) or len(raw) != 2
            or not all(isinstance(x, int) and not isinstance(x, bool) for x in raw)):
        raise UserError("a span is [start, end] with two integers", path, line, where)
    start, end = raw
    if start < 0 or end < start:
        raise UserError(f"span [{start}, {end}] is reversed or negative", path, line, where)
    if text_length is not None and end > text_length:
        raise UserError(f"span [{start}, {end}] is outside the document ({text_length} characters)", path, line, where)
    return (start, end)


def systems_of(predictions: Iterable[Prediction]) -> list[str]:
    return sorted({p.system for p in predictions})


def systems_without_output(predictions: Iterable[Prediction]) -> list[str]:
    """Systems that failed on every document they were given and produced nothing at all: a run that scores them
    measures nothing, so CI must not pass on it (the command line exits 3)."""
    usable: dict[str, bool] = {}
    for p in predictions:
        usable[p.system] = usable.get(p.system, False) or is_usable(p)
    return sorted(name for name, ok in usable.items() if not ok)


def is_usable(p: Prediction) -> bool:
    """A prediction that did not fail, or failed after producing something."""
    return not p.failure or bool(p.summary or p.claims)


def prediction_record(p: Prediction) -> dict:
    """A prediction as one line of predictions.jsonl: what `iter_predictions` reads back as the same Prediction."""
    record: dict = {"doc_id": p.doc_id, "system": p.system}
    if p.summary is not None:
        record["summary"] = p.summary
    if p.claims is not None:
        record["claims"] = [{"text": c.text, "span": list(c.span)} if c.span else c.text for c in p.claims]
    if p.failure:
        record["failure"] = p.failure
    if p.meta:
        record["meta"] = p.meta
    return record


def write_predictions(path: Path, predictions: Iterable[Prediction], systems: Sequence[str] = ()) -> None:
    """predictions.jsonl, atomically: by system in the order of `systems` (others after), then by document."""
    order = {name: i for i, name in enumerate(systems)}
    rows = sorted(predictions, key=lambda p: (order.get(p.system, len(order)), p.doc_id))
    atomic_write(path, "".join(json.dumps(prediction_record(p), ensure_ascii=False) + "\n" for p in rows))
