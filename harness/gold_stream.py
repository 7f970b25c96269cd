"""The gold as `harness score` reads it to stream predictions: each document of a JSONL gold read, validated and
hashed in turn, and one without gold claims kept as only scoring needs it.

A corpus of 100,000 summaries is mostly text: held whole, its articles and references take some 300 MB (text with
typographic quotes takes two bytes a character as a str, and every text is an object of its own). Scoring a
document without claims reads only its references and its story (for numeric faithfulness), so those are packed as
UTF-8 into a few large blocks (PackedTexts) and decoded when the document is scored; a document with claims is kept
whole, since claim matching and coverage read all of it. Validation and the hash are those of harness.gold (the same
one-line errors, the same corpus.sha256).
"""

from __future__ import annotations

import hashlib
from array import array
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from harness import gold
from harness.errors import UserError
from harness.io import iter_jsonl, loads_strict
from harness.records import Document, ScoringGold, key_versions

BLOCK_BYTES = 1 << 20  # texts are packed into blocks of about this size


class PackedTexts:
    """Texts as UTF-8 in blocks of about a megabyte, each found by its number: no object, header or allocation
    per text, so many texts cost their bytes and 8 bytes each."""

    def __init__(self) -> None:
        self._blocks: list[bytes] = []
        self._block_starts: list[int] = []  # offset of each sealed block's first byte
        self._sealed = 0  # bytes in the sealed blocks
        self._open = bytearray()  # the block being filled, after the sealed ones
        self._ends = array("Q")  # each text's end offset (its start is the previous one's end)

    def add(self, text: str) -> int:
        """Pack `text`; its number."""
        if len(self._open) >= BLOCK_BYTES:
            self._block_starts.append(self._sealed)
            self._blocks.append(bytes(self._open))
            self._sealed += len(self._open)
            self._open = bytearray()
        self._open += text.encode("utf-8")
        self._ends.append(self._sealed + len(self._open))
        return len(self._ends) - 1

    def __len__(self) -> int:
        return len(self._ends)

    def __getitem__(self, number: int) -> str:
        start, end = self._ends[number - 1] if number else 0, self._ends[number]
        if start >= self._sealed:
            return self._open[start - self._sealed:end - self._sealed].decode("utf-8")
        block = bisect_right(self._block_starts, start) - 1
        offset = self._block_starts[block]
        return self._blocks[block][start - offset:end - offset].decode("utf-8")


class SummaryOnlyDocuments:
    """Documents without gold claims as scoring reads them, in columns: id, text length, story and references."""

    def __init__(self) -> None:
        self._rows: dict[str, int] = {}  # doc_id: row
        self._ids: list[str] = []
        self._text_lengths = array("Q")
        self._first_texts = array("Q", [0])  # per row, and one past the last: the number of its story
        self._texts = PackedTexts()  # per row: its story, then its references

    def add(self, doc: Document) -> None:
        self._rows[doc.doc_id] = len(self._ids)
        self._ids.append(doc.doc_id)
        self._text_lengths.append(len(doc.text))
        self._texts.add(doc.story_text())
        for summary in doc.summaries:
            self._texts.add(summary.text)
        self._first_texts.append(len(self._texts))

    def __len__(self) -> int:
        return len(self._ids)

    def known_id(self, doc_id: str) -> str | None:
        row = self._rows.get(doc_id)
        return None if row is None else self._ids[row]

    def text_length(self, doc_id: str) -> int:
        return self._text_lengths[self._rows[doc_id]]

    def story(self, doc_id: str) -> str:
        return self._texts[self._first_texts[self._rows[doc_id]]]

    def references(self, doc_id: str) -> tuple[str, ...]:
        row = self._rows[doc_id]
        return tuple(self._texts[n] for n in range(self._first_texts[row] + 1, self._first_texts[row + 1]))


@dataclass(frozen=True)
class StreamedGold:
    """A validated JSONL gold (a ScoringGold): its documents with claims whole, the others in columns."""

    sha256: str
    source: str
    claimed: dict[str, Document]
    summary_only: SummaryOnlyDocuments
    ids: tuple[str, ...]  # every document's id, sorted

    def doc_ids(self) -> Sequence[str]:
        return self.ids

    def known_id(self, doc_id: str) -> str | None:
        doc = self.claimed.get(doc_id)
        return doc.doc_id if doc is not None else self.summary_only.known_id(doc_id)

    def text_length(self, doc_id: str) -> int:
        doc = self.claimed.get(doc_id)
        return len(doc.text) if doc is not None else self.summary_only.text_length(doc_id)

    def with_claims(self, doc_id: str) -> Document | None:
        return self.claimed.get(doc_id)

    def references(self, doc_id: str) -> tuple[str, ...]:
        doc = self.claimed.get(doc_id)
        return tuple(s.text for s in doc.summaries) if doc is not None else self.summary_only.references(doc_id)

    def story(self, doc_id: str) -> str:
        doc = self.claimed.get(doc_id)
        return doc.story_text() if doc is not None else self.summary_only.story(doc_id)

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
    summary_only = SummaryOnlyDocuments()
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
            summary_only.add(doc)
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

