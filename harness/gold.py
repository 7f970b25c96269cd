"""Load, validate, hash and export the gold corpus (a gold folder or an exported JSON Lines file)."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness import numbers
from harness.errors import UserError
from harness.io import decode_utf8, dumps_canonical, iter_jsonl, line_of, read_bytes, read_yaml
from harness.records import (
    EXCLUDED_LABELS, SALIENCE_WEIGHTS, STORY_LABELS, Claim, Corpus, Document, NumberMention,
    Region, Summary,
)

SCHEMA_VERSION = 1
SUMMARY_WORD_LIMITS = {"headline": (1, 30), "short": (50, 80), "long": (120, 180)}


@dataclass
class Origins:
    """Where each record came from (file and line), so problems can be reported precisely."""

    files: dict[str, Path] = field(default_factory=dict)
    lines: dict[tuple[str, str], int | None] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)

    def error(self, doc_id: str, where: str, field_name: str, message: str) -> UserError:
        return UserError(message, self.files.get(doc_id), self.lines.get((doc_id, where)), field_name,
                         record=f"{doc_id} {where}")


def default_gold_path() -> Path:
    """The bundled corpus: package data when installed from a wheel, gold/ in a checkout."""
    from harness.resources import bundled

    return bundled("gold")


# --------------------------------------------------------------------------- parsing

def _require(obj: Any, name: str, kind: type | tuple, path: Path, line: int | None, where: str) -> Any:
    if not isinstance(obj, dict) or name not in obj:
        raise UserError(f"{where}: missing required field", path, line, name)
    value = obj[name]
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        expected = kind.__name__ if isinstance(kind, type) else "/".join(k.__name__ for k in kind)
        raise UserError(f"{where}: expected {expected}, got {type(value).__name__}", path,
                        line_of(obj) or line, name)
    return value


def _check_keys(obj: dict, allowed: set[str], path: Path, line: int | None, where: str) -> None:
    unknown = sorted(set(obj) - allowed)
    if unknown:
        raise UserError(f"{where}: unknown field (allowed: {', '.join(sorted(allowed))})", path,
                        line_of(obj) or line, unknown[0])


_SINGULAR = {"claims": "claim", "summaries": "summary"}  # a record's kind as problems name it
_CLAIM_FIELDS = {"id", "text", "spans", "evidence", "numbers", "speaker", "salience", "key", "optional"}
_NUMBER_FIELDS = {"text", "value", "unit", "hedge"}
_SUMMARY_FIELDS = {"id", "length", "text", "claims"}
_REGION_FIELDS = {"start", "end", "label", "note"}
_META_FIELDS = {"outlet", "headline", "date"}
_ANNOTATION_FIELDS = {"doc_id", "regions", "claims", "summaries", "notes", "new_keys"}
_JSONL_FIELDS = {"doc_id", "text", "regions", "claims", "summaries", "notes"} | _META_FIELDS
_MANIFEST_FIELDS = {"schema_version", "documents"}
_ENTRY_FIELDS = {"doc_id", "sha256"} | _META_FIELDS
_CONFLICT_FIELDS = {"key", "kind", "description", "values"}
SAFE_DOC_ID = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]*")


def _optional_str(obj: dict, name: str, path: Path, line: int | None, where: str, default: str = "") -> str:
    """A text field that may be absent; a YAML date (2025-06-13 unquoted) is taken as its ISO form."""
    import datetime

    value = obj.get(name)
    if value is None:
        return default
    if isinstance(value, (datetime.date, datetime.datetime)):
        return value.isoformat()
    if not isinstance(value, str):
        raise UserError(f"{where}: expected a string, got {type(value).__name__}", path, line_of(obj) or line, name)
    return value


def _parse_span(raw: Any, path: Path, line: int | None, where: str) -> tuple[int, int]:
    if (not isinstance(raw, (list, tuple)) or len(raw) != 2
            or not all(isinstance(x, int) and not isinstance(x, bool) for x in raw)):
        raise UserError(f"{where}: a span is [start, end] with two integers", path, line, "spans")
    return (raw[0], raw[1])


def _parse_claim(raw: Any, path: Path, line: int | None, where: str) -> Claim:
    if not isinstance(raw, dict):
        raise UserError(f"{where}: a claim must be a mapping", path, line)
    line = line_of(raw) or line
    _check_keys(raw, _CLAIM_FIELDS, path, line, where)
    cid = _require(raw, "id", str, path, line, where)
    where = f"claim {cid}"
    nums = []
    for i, num in enumerate(raw.get("numbers") or []):
        if not isinstance(num, dict):
            raise UserError(f"{where}: numbers[{i}] must be a mapping", path, line, "numbers")
        _check_keys(num, _NUMBER_FIELDS, path, line, where)
        value = _require(num, "value", (int, float, str), path, line, where)
        nums.append(NumberMention(str(_require(num, "text", (str, int, float), path, line, where)),
                                  value, str(num.get("unit", "")), num.get("hedge")))
    spans = tuple(_parse_span(s, path, line, where) for s in raw.get("spans") or [])
    evidence = raw.get("evidence") or []
    if not isinstance(evidence, list) or not all(isinstance(e, str) for e in evidence):
        raise UserError(f"{where}: evidence must be a list of strings", path, line, "evidence")
    optional = raw.get("optional", False)
    if not isinstance(optional, bool):
        raise UserError(f"{where}: expected true or false", path, line, "optional")
    key = raw.get("key")
    if key is not None and not isinstance(key, str):
        raise UserError(f"{where}: expected a string", path, line, "key")
    return Claim(
        id=cid, text=_require(raw, "text", str, path, line, where), spans=spans,
        evidence=tuple(evidence), numbers=tuple(nums),
        speaker=_optional_str(raw, "speaker", path, line, where) or "narrator",
        salience=_optional_str(raw, "salience", path, line, where, "major"), key=key, optional=optional,
    )


def _parse_summary(raw: Any, path: Path, line: int | None, where: str) -> Summary:
    if not isinstance(raw, dict):
        raise UserError(f"{where}: a summary must be a mapping", path, line)
    line = line_of(raw) or line
    _check_keys(raw, _SUMMARY_FIELDS, path, line, where)
    sid = _require(raw, "id", str, path, line, where)
    claims = raw.get("claims") or []
    if not isinstance(claims, list) or not all(isinstance(c, str) for c in claims):
        raise UserError(f"summary {sid}: claims must be a list of claim ids", path, line, "claims")
    return Summary(sid, _optional_str(raw, "length", path, line, f"summary {sid}", sid),
                   _require(raw, "text", str, path, line, f"summary {sid}"), tuple(claims))


def _parse_region(raw: Any, path: Path, line: int | None, where: str) -> Region:
    if not isinstance(raw, dict):
        raise UserError(f"{where}: a region must be a mapping", path, line)
    line = line_of(raw) or line
    _check_keys(raw, _REGION_FIELDS, path, line, where)
    return Region(_require(raw, "start", int, path, line, where), _require(raw, "end", int, path, line, where),
                  _require(raw, "label", str, path, line, where))


def parse_document(raw: Any, text: str, path: Path, line: int | None, origins: Origins,
                   meta: dict | None = None, meta_path: Path | None = None) -> Document:
    """Build a Document from a mapping (an annotation file, with `meta` from the manifest, or one exported JSON line)."""
    if not isinstance(raw, dict):
        raise UserError("expected a JSON/YAML object", path, line)
    _check_keys(raw, _ANNOTATION_FIELDS if meta is not None else _JSONL_FIELDS, path, line, "document")
    doc_id = _require(raw, "doc_id", str, path, line, "document")
    meta_path = meta_path if meta is not None else path
    meta = meta if meta is not None else raw
    origins.files[doc_id] = path
    regions, claims, summaries = [], [], []
    for kind, parse, out in (("regions", _parse_region, regions), ("claims", _parse_claim, claims),
                             ("summaries", _parse_summary, summaries)):
        items = raw.get(kind) or []
        if not isinstance(items, list):
            raise UserError(f"{doc_id}: expected a list", path, line_of(raw) or line, kind)
        for i, item in enumerate(items):
            record = parse(item, path, line, f"{kind}[{i}]")
            out.append(record)
            name = getattr(record, "id", f"{kind}[{i}]")
            origins.lines[(doc_id, f"{_SINGULAR[kind]} {name}" if kind != "regions" else name)] = line_of(item) or line
    outlet, headline, date = (_optional_str(meta, name, meta_path, line, f"document {doc_id}")
                              for name in ("outlet", "headline", "date"))
    return Document(
        doc_id=doc_id, text=text, outlet=outlet, headline=headline, date=date,
        regions=tuple(regions), claims=tuple(claims), summaries=tuple(summaries),
    )


# --------------------------------------------------------------------------- loading

def load(path: Path | str | None = None) -> tuple[Corpus, Origins]:
    """Load a gold folder (manifest + articles + annotations) or an exported JSONL file."""
    path = Path(path) if path else default_gold_path()
    origins = Origins()
    if path.is_dir():
        documents, conflicts = _load_folder(path, origins)
    elif path.exists():
        documents = _load_jsonl(path, origins)
        conflicts = []
    else:
        raise UserError("gold path not found", path)
    if not documents:
        raise UserError("no documents", path)
    documents = tuple(sorted(documents, key=lambda d: d.doc_id))
    corpus = Corpus(documents, gold_hash(documents), str(path), tuple(conflicts))
    return corpus, origins


def load_valid(path: Path | str | None = None) -> Corpus:
    """A corpus to score against: loaded and validated by the rules of `harness gold validate`, so scores are
    never computed on gold it would refuse (spans outside the text, duplicate claim ids, unknown salience)."""
    corpus, origins = load(path)
    problems = validate(corpus, origins)
    if problems:
        raise refusal(problems, corpus.source)
    return corpus


def refusal(problems: list[UserError], source: str) -> UserError:
    """The one-line error that refuses a gold corpus: its first problem, and how many more there are."""
    first = problems[0]
    more = f" (and {len(problems) - 1} more problem(s))" if len(problems) > 1 else ""
    return UserError(f"{first.message}{more}; `harness gold validate --gold {source}` lists them",
                     first.path, first.line, first.field, first.record)


def _load_folder(root: Path, origins: Origins) -> tuple[list[Document], list[dict]]:
    manifest_path = root / "manifest.yaml"
    manifest = read_yaml(manifest_path)
    if not isinstance(manifest, dict):
        raise UserError("a manifest is a mapping with 'documents'", manifest_path, 1)
    _check_keys(manifest, _MANIFEST_FIELDS, manifest_path, 1, "manifest")
    entries = _require(manifest, "documents", list, manifest_path, 1, "manifest")
    documents = []
    seen: dict[str, int | None] = {}
    for i, entry in enumerate(entries):
        if not isinstance(entry, dict):
            raise UserError(f"documents[{i}]: expected a mapping with doc_id", manifest_path, line_of(manifest))
        _check_keys(entry, _ENTRY_FIELDS, manifest_path, None, f"documents[{i}]")
        doc_id = _require(entry, "doc_id", str, manifest_path, line_of(entry), "manifest entry")
        if not SAFE_DOC_ID.fullmatch(doc_id):  # it names files: no separators, no leading dot, no '..'
            raise UserError(f"{doc_id!r} cannot name a file (letters, digits, '_', '.', '-'; not starting with '.')",
                            manifest_path, line_of(entry), "doc_id")
        if doc_id in seen:
            raise UserError(f"duplicate document {doc_id!r} (first on line {seen[doc_id]})", manifest_path,
                            line_of(entry), "doc_id")
        seen[doc_id] = line_of(entry)
        sha = entry.get("sha256")
        if sha is not None and not isinstance(sha, str):
            raise UserError(f"{doc_id}: expected a string", manifest_path, line_of(entry), "sha256")
        article = root / "articles" / f"{doc_id}.txt"
        if not article.exists():
            raise UserError("article file not found", article)
        raw_bytes = read_bytes(article)
        origins.extra.setdefault("sha", {})[doc_id] = (sha, hashlib.sha256(raw_bytes).hexdigest(),
                                                      manifest_path, line_of(entry))
        text = decode_utf8(raw_bytes, article)
        ann_path = root / "annotations" / f"{doc_id}.yaml"
        if not ann_path.is_file():
            raise UserError(f"annotation file not found for document {doc_id} (listed in {manifest_path})", ann_path)
        annotation = read_yaml(ann_path)
        if not isinstance(annotation, dict) or annotation.get("doc_id") != doc_id:
            raise UserError(f"doc_id must be {doc_id}", ann_path, line_of(annotation) or 1, "doc_id")
        documents.append(parse_document(annotation, text, ann_path, 1, origins, meta=entry, meta_path=manifest_path))
    keys_path = root / "keys.yaml"
    if keys_path.exists():
        keys = read_yaml(keys_path) or {}
        if not isinstance(keys, dict):
            raise UserError("expected a mapping of fact keys", keys_path, 1)
        origins.extra["keys"] = (set(keys), keys_path)
    conflicts_path = root / "conflicts.yaml"
    conflicts = (read_yaml(conflicts_path) or []) if conflicts_path.exists() else []
    if not isinstance(conflicts, list):
        raise UserError("expected a list of conflicts", conflicts_path, 1)
    for i, conflict in enumerate(conflicts):
        if not isinstance(conflict, dict):
            raise UserError(f"conflicts[{i}]: expected a mapping", conflicts_path, 1)
        _check_keys(conflict, _CONFLICT_FIELDS, conflicts_path, None, f"conflicts[{i}]")
        if not isinstance(conflict.get("values") or {}, dict):
            raise UserError(f"conflicts[{i}]: expected a mapping of doc_id: wording", conflicts_path,
                            line_of(conflict), "values")
    return documents, [dict(c) for c in conflicts]


def _load_jsonl(path: Path, origins: Origins) -> list[Document]:
    documents = []
    seen: dict[str, int] = {}
    for number, obj in iter_jsonl(path, storable=True):
        documents.append(jsonl_document(obj, path, number, origins, seen))
    if not documents:
        raise UserError("no documents in file", path)
    return documents


def jsonl_document(obj: Any, path: Path, number: int, origins: Origins, seen: dict[str, int]) -> Document:
    """The document on line `number` of a JSONL gold; `seen` (doc_id: line) refuses a second one of an id."""
    if not isinstance(obj, dict):
        raise UserError("each line must be a JSON object", path, number)
    text = _require(obj, "text", str, path, number, "document")
    doc = parse_document(obj, text, path, number, origins)
    if doc.doc_id in seen:
        raise UserError(f"duplicate document {doc.doc_id!r} (first on line {seen[doc.doc_id]})", path, number,
                        "doc_id")
    seen[doc.doc_id] = number
    return doc


# --------------------------------------------------------------------------- export and hash

def document_record(doc: Document) -> dict:
    """The exported form of one document (the JSONL schema; also what the gold hash covers)."""
    return {
        "doc_id": doc.doc_id, "outlet": doc.outlet, "headline": doc.headline, "date": doc.date,
        "text": doc.text,
        "regions": [{"start": r.start, "end": r.end, "label": r.label} for r in doc.regions],
        "claims": [
            {"id": c.id, "text": c.text, "spans": [list(s) for s in c.spans],
             "numbers": [{"text": n.text, "value": n.value, "unit": n.unit, "hedge": n.hedge} for n in c.numbers],
             "speaker": c.speaker, "salience": c.salience, "key": c.key, "optional": c.optional}
            for c in doc.claims
        ],
        "summaries": [{"id": s.id, "length": s.length, "text": s.text, "claims": list(s.claims)}
                      for s in doc.summaries],
    }


def gold_hash(documents: tuple[Document, ...] | list[Document]) -> str:
    digest = hashlib.sha256()
    for doc in sorted(documents, key=lambda d: d.doc_id):
        digest.update(hashed_line(doc))
    return digest.hexdigest()


def hashed_line(doc: Document) -> bytes:
    """What the gold hash covers of one document (the hash is over these, in doc_id order)."""
    return dumps_canonical(document_record(doc)).encode("utf-8") + b"\n"


def export_jsonl(corpus: Corpus, out: Path) -> None:
    from harness.io import atomic_write
    atomic_write(out, "".join(dumps_canonical(document_record(d)) + "\n" for d in corpus.documents))


def export_hf(corpus: Corpus, out: Path) -> None:
    """Save a datasets.DatasetDict with one split, `test`; nested records are kept as JSON-friendly columns."""
    import datasets  # heavy: imported only here

    rows = [document_record(d) for d in corpus.documents]
    for row in rows:
        for claim in row["claims"]:
            claim["numbers"] = [{**n, "value": str(n["value"])} for n in claim["numbers"]]
    datasets.DatasetDict({"test": datasets.Dataset.from_list(rows)}).save_to_disk(str(out))


# --------------------------------------------------------------------------- validation

def _squash(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def validate(corpus: Corpus, origins: Origins) -> list[UserError]:
    """Every problem in the corpus, each naming document, record and field."""
    problems: list[UserError] = []
    for doc_id, (declared, actual, mpath, mline) in origins.extra.get("sha", {}).items():
        if declared != actual:
            problems.append(UserError(f"{doc_id}: sha256 {declared} does not match article ({actual})",
                                      mpath, mline, "sha256"))
    known_keys, _ = origins.extra.get("keys", (None, None))
    for doc in corpus.documents:
        problems += validate_document(doc, origins, known_keys)
    problems += _validate_conflicts(corpus, origins)
    return problems


def validate_document(doc: Document, origins: Origins, known_keys: set[str] | None = None) -> list[UserError]:
    """Every problem in one document (its regions, claims and summaries)."""
    return _validate_regions(doc, origins) + _validate_claims(doc, origins, known_keys) + \
        _validate_summaries(doc, origins)


def _validate_regions(doc: Document, origins: Origins) -> list[UserError]:
    problems = []
    previous_end = 0
    for i, region in enumerate(doc.regions):
        where = f"regions[{i}]"
        if region.label not in STORY_LABELS | EXCLUDED_LABELS:
            problems.append(origins.error(doc.doc_id, where, "label", f"unknown label {region.label!r}"))
        if not 0 <= region.start < region.end <= len(doc.text):
            problems.append(origins.error(doc.doc_id, where, "start",
                                          f"range [{region.start}, {region.end}) outside the text (length {len(doc.text)})"))
        elif region.start < previous_end:
            problems.append(origins.error(doc.doc_id, where, "start", "overlaps the previous region or is out of order"))
        previous_end = max(previous_end, region.end)
    return problems


def _in_story(doc: Document, span: tuple[int, int]) -> bool:
    if not doc.regions:
        return True
    return any(r.in_story and r.start <= span[0] and span[1] <= r.end for r in doc.regions)


def _validate_claims(doc: Document, origins: Origins, known_keys: set[str] | None) -> list[UserError]:
    problems = []
    seen: set[str] = set()
    for claim in doc.claims:
        where = f"claim {claim.id}"

        def err(field_name: str, message: str, where: str = where) -> None:
            problems.append(origins.error(doc.doc_id, where, field_name, message))

        if claim.id in seen:
            err("id", "duplicate claim id")
        seen.add(claim.id)
        if not claim.text.strip():
            err("text", "empty claim text")
        if claim.salience not in SALIENCE_WEIGHTS:
            err("salience", f"must be one of {', '.join(SALIENCE_WEIGHTS)}, got {claim.salience!r}")
        if known_keys is not None and claim.key not in known_keys:
            err("key", f"key {claim.key!r} is not in keys.yaml")
        if claim.evidence and len(claim.evidence) != len(claim.spans):
            err("evidence", f"{len(claim.evidence)} quotes for {len(claim.spans)} spans")
        quoted = []
        for j, (start, end) in enumerate(claim.spans):
            if not 0 <= start < end <= len(doc.text):
                err("spans", f"span {j} [{start}, {end}) outside the text (length {len(doc.text)}) or reversed")
                continue
            piece = doc.text[start:end]
            quoted.append(piece)
            if not _in_story(doc, (start, end)):
                err("spans", f"span {j} [{start}, {end}) is not inside a headline/body region")
            if j < len(claim.evidence) and claim.evidence[j] != piece:
                err("evidence", f"quote {j} differs from text[{start}:{end}] = {piece[:60]!r}")
        evidence_text = _squash(" ".join(quoted))
        for number in claim.numbers:
            if _squash(number.text) not in evidence_text:
                err("numbers", f"number {number.text!r} does not occur in the claim's evidence")
            elif not isinstance(number.value, str):
                parsed = numbers.find_quantities(number.text)
                if len(parsed) == 1 and not numbers.same_value(parsed[0].value, float(number.value)):
                    err("numbers", f"number {number.text!r} normalises to {parsed[0].value:g}, not {number.value}")
    return problems


def _validate_summaries(doc: Document, origins: Origins) -> list[UserError]:
    problems = []
    claim_ids = {c.id for c in doc.claims}
    seen: set[str] = set()
    for summary in doc.summaries:
        where = f"summary {summary.id}"
        if summary.id in seen:
            problems.append(origins.error(doc.doc_id, where, "id", "duplicate summary id"))
        seen.add(summary.id)
        limits = SUMMARY_WORD_LIMITS.get(summary.length)
        words = len(summary.text.split())
        if limits and not limits[0] <= words <= limits[1]:
            problems.append(origins.error(doc.doc_id, where, "text",
                                          f"{words} words; a {summary.length} summary has {limits[0]}-{limits[1]}"))
        for cid in summary.claims:
            if cid not in claim_ids:
                problems.append(origins.error(doc.doc_id, where, "claims", f"unknown claim id {cid!r}"))
    return problems


def _validate_conflicts(corpus: Corpus, origins: Origins) -> list[UserError]:
    problems = []
    keys_by_doc = {d.doc_id: {c.key for c in d.claims} for d in corpus.documents}
    path = Path(corpus.source) / "conflicts.yaml"
    for conflict in corpus.conflicts:
        key = conflict.get("key")
        for doc_id in (conflict.get("values") or {}):
            if doc_id not in keys_by_doc:
                problems.append(UserError(f"conflict {key}: unknown document {doc_id}", path, line_of(conflict), "values"))
    return problems


# --------------------------------------------------------------------------- stats

def stats_rows(corpus: Corpus) -> list[dict]:
    rows = []
    for doc in corpus.documents:
        by = {level: sum(c.salience == level for c in doc.claims) for level in SALIENCE_WEIGHTS}
        rows.append({
            "doc_id": doc.doc_id, "outlet": doc.outlet, "chars": len(doc.text),
            "claims": len(doc.claims), **by, "optional": sum(c.optional for c in doc.claims),
            "summaries": len(doc.summaries),
            "excluded_regions": sum(not r.in_story for r in doc.regions),
        })
    return rows

