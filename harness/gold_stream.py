"""The gold as `harness score` reads it to stream predictions: each document of a JSONL gold read, validated and
hashed in turn, and one without gold claims kept as only scoring needs it.

A corpus of 100,000 summaries is mostly text: held whole, its articles and references take some 300 MB (text with
typographic quotes takes two bytes a character as a str). Scoring a document without claims reads only its
references and its story (for numeric faithfulness), so they are kept as UTF-8 bytes, the story compressed with zlib
(about half the size, for some 20 microseconds a document to compress and 7 to decompress), and decoded when the
document is scored; a document with claims is kept whole, since claim matching and coverage read all of it.
Validation and the hash are those of harness.gold (the same one-line errors, the same corpus.sha256).
"""

from __future__ import annotations

import hashlib
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from harness import gold
from harness.errors import UserError
from harness.io import iter_jsonl, loads_strict
from harness.records import Document, ScoringGold, key_versions


STORY_COMPRESSION = 1  # zlib's fastest level: 57% of the UTF-8 size of news text (level 6: 56%, 30% slower)


@dataclass(frozen=True, slots=True)
class SummaryGold:
    """A document without gold claims, as scoring reads it."""

    doc_id: str
    text_length: int  # characters of the document's text
    story: bytes  # Document.story_text() in UTF-8, compressed
    references: tuple[bytes, ...]  # reference summaries' texts in UTF-8

    @classmethod
    def of(cls, doc: Document) -> SummaryGold:
        return cls(doc.doc_id, len(doc.text), zlib.compress(doc.story_text().encode("utf-8"), STORY_COMPRESSION),
                   tuple(s.text.encode("utf-8") for s in doc.summaries))


@dataclass(frozen=True)
class StreamedGold:
    """A validated JSONL gold (a ScoringGold): documents with claims whole, the others as SummaryGold."""

    sha256: str
    source: str
    claimed: dict[str, Document]
    summary_only: dict[str, SummaryGold]
    ids: tuple[str, ...]  # sorted

    def doc_ids(self) -> Sequence[str]:
        return self.ids

    def known_id(self, doc_id: str) -> str | None:
        found = self.summary_only.get(doc_id) or self.claimed.get(doc_id)
        return None if found is None else found.doc_id

    def text_length(self, doc_id: str) -> int:
        doc = self.claimed.get(doc_id)
        return len(doc.text) if doc is not None else self.summary_only[doc_id].text_length

    def with_claims(self, doc_id: str) -> Document | None:
        return self.claimed.get(doc_id)

    def references(self, doc_id: str) -> tuple[str, ...]:
        doc = self.claimed.get(doc_id)
        if doc is not None:
            return tuple(s.text for s in doc.summaries)
        return tuple(text.decode("utf-8") for text in self.summary_only[doc_id].references)

    def story(self, doc_id: str) -> str:
        doc = self.claimed.get(doc_id)
        return doc.story_text() if doc is not None else zlib.decompress(self.summary_only[doc_id].story).decode("utf-8")

    def key_versions(self) -> dict[str, int]:
        return key_versions(self.claimed.values())


def load_for_scoring(path: Path | str | None = None) -> ScoringGold:
    """The gold `harness score` streams predictions against: a JSONL file as a StreamedGold, validated as
    harness.gold.load_valid validates it; a gold folder (or a missing path) as load_valid loads it."""
    path = Path(path) if path else gold.default_gold_path()
    if not path.is_file():
        return gold.load_valid(path)
    lines: dict[str, int] = {}  # doc_id: line
    claimed: dict[str, Document] = {}
    summary_only: dict[str, SummaryGold] = {}
    problems: list[tuple[str, list[UserError]]] = []
    digest, in_order, last = hashlib.sha256(), True, None
    for number, obj in iter_jsonl(path, storable=True):
        origins = gold.Origins()
        doc = gold.jsonl_document(obj, path, number, origins, lines)
        found = gold.validate_document(doc, origins)
        if found:
            problems.append((doc.doc_id, found))
        if in_order and (last is None or doc.doc_id > last):  # hashed as read while the file is in doc_id order
            digest.update(gold.hashed_line(doc))
            last = doc.doc_id
        else:
            in_order = False
        if doc.claims:
            claimed[doc.doc_id] = doc
        else:
            summary_only[doc.doc_id] = SummaryGold.of(doc)
    if not lines:
        raise UserError("no documents in file", path)
    if problems:  # reported in doc_id order, as validating the whole corpus reports them
        raise gold.refusal([p for _, found in sorted(problems, key=lambda p: p[0]) for p in found], str(path))
    sha256 = digest.hexdigest() if in_order else _hash_in_id_order(path, lines)
    return StreamedGold(sha256, str(path), claimed, summary_only, tuple(sorted(lines)))


def _hash_in_id_order(path: Path, lines: dict[str, int]) -> str:
    """The gold hash of a file not in doc_id order: each line read again, in doc_id order."""
    offsets = [0]
    with path.open("rb") as handle:
        for raw in handle:
            offsets.append(offsets[-1] + len(raw))
        digest = hashlib.sha256()
        for doc_id in sorted(lines):
            number = lines[doc_id]
            handle.seek(offsets[number - 1])
            obj = loads_strict(handle.readline().removeprefix(b"\xef\xbb\xbf").decode("utf-8"))
            digest.update(gold.hashed_line(gold.jsonl_document(obj, path, number, gold.Origins(), {})))
    return digest.hexdigest()

