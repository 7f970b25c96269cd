"""Typed records that flow through the pipeline: gold → adapters → runner → scoring → reports."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Protocol

STORY_LABELS = frozenset({"headline", "body"})
EXCLUDED_LABELS = frozenset(
    {"dateline", "byline", "caption", "social_embed", "credits", "boilerplate",
     "navigation", "comments", "copyright", "related"}
)
SALIENCE_WEIGHTS = {"core": 3.0, "major": 2.0, "minor": 1.0}
SUMMARY_LENGTHS = ("headline", "short", "long")
TASKS = ("summary", "claims")

Span = tuple[int, int]


@dataclass(frozen=True, slots=True)
class Region:
    start: int
    end: int
    label: str

    @property
    def in_story(self) -> bool:
        return self.label in STORY_LABELS


@dataclass(frozen=True)
class NumberMention:
    """A quantity as written in the text and as normalised (a number, or an ISO date string)."""

    text: str
    value: float | str
    unit: str
    hedge: str | None = None


@dataclass(frozen=True)
class Claim:
    id: str
    text: str
    spans: tuple[Span, ...] = ()
    evidence: tuple[str, ...] = ()
    numbers: tuple[NumberMention, ...] = ()
    speaker: str = "narrator"
    salience: str = "major"
    key: str | None = None
    optional: bool = False


@dataclass(frozen=True)
class Summary:
    id: str
    length: str
    text: str
    claims: tuple[str, ...] = ()


def _story_pieces(text: str, regions: tuple[Region, ...]) -> list[tuple[int, int]]:
    """(start, end) in `text` of each headline/body region, in order; the whole text where there are none."""
    pieces = [(r.start, r.end) for r in regions if r.in_story]
    return pieces or [(0, len(text))]


@dataclass(frozen=True, slots=True)
class Source:
    """What a model may read of a document: its text, page layout and metadata, never the gold answers.

    Adapters receive this, not the Document. It holds only strings and Regions (slots, no reference back
    to a Document or Corpus), so no claim or reference summary is reachable from it. A claim's span is
    always a pair of offsets into `text`; `story_span` converts a span found in `story_text()`.
    """

    doc_id: str
    text: str
    regions: tuple[Region, ...] = ()
    headline: str = ""
    date: str = ""
    outlet: str = ""

    def story_text(self) -> str:
        """The main story only (headline and body regions, joined by a newline); the whole text where no
        regions exist. Its offsets differ from `text`'s: convert with `story_span`."""
        return "\n".join(self.text[start:end] for start, end in _story_pieces(self.text, self.regions))

    def story_span(self, start: int, end: int) -> Span:
        """A span of `story_text()` as the span of `text` it came from (the form PredictedClaim.span takes)."""
        pieces = _story_pieces(self.text, self.regions)
        length = sum(e - s for s, e in pieces) + len(pieces) - 1
        if not 0 <= start <= end <= length:
            raise ValueError(f"span ({start}, {end}) is outside the story text ({length} characters)")
        return _to_text(pieces, start, is_start=start < end), _to_text(pieces, end, is_start=False)


def _to_text(pieces: list[tuple[int, int]], offset: int, is_start: bool) -> int:
    """An offset in the newline-joined pieces as an offset in the text. An offset on a joining newline is the
    end of the piece before it, or (for the start of a non-empty span) the start of the piece after it."""
    cursor = 0
    for i, (start, end) in enumerate(pieces):
        size = end - start
        if offset < cursor + size or (offset == cursor + size and not (is_start and i + 1 < len(pieces))):
            return start + offset - cursor
        cursor += size + 1
        if offset < cursor:  # on the newline joining piece i and i + 1
            return pieces[i + 1][0] if is_start else end
    return pieces[-1][1]


@dataclass(frozen=True)
class Document:
    """A gold document: the source a model reads plus the gold answers (claims, reference summaries)."""

    doc_id: str
    text: str
    outlet: str = ""
    headline: str = ""
    date: str = ""
    regions: tuple[Region, ...] = ()
    claims: tuple[Claim, ...] = ()
    summaries: tuple[Summary, ...] = ()

    def source(self) -> Source:
        """The part a model may read: everything but the claims and the reference summaries."""
        return Source(self.doc_id, self.text, self.regions, self.headline, self.date, self.outlet)

    def story_text(self) -> str:
        """The main story only (headline and body regions); the whole text where no regions exist."""
        return self.source().story_text()

    def excluded_text(self) -> list[str]:
        return [self.text[r.start:r.end] for r in self.regions if not r.in_story]


class ScoringGold(Protocol):
    """What scoring reads of a gold corpus (harness.evaluate, harness.scoring.scorer, harness.predictions): a Corpus,
    or a harness.gold_stream.StreamedGold holding its documents without claims compactly."""

    @property
    def sha256(self) -> str: ...

    @property
    def source(self) -> str: ...

    def doc_ids(self) -> Sequence[str]:
        """Every document's id, sorted."""
        ...

    def known_id(self, doc_id: str) -> str | None:
        """The gold's own copy of `doc_id` (one string however many systems name it); None: no such document."""
        ...

    def text_length(self, doc_id: str) -> int:
        """Characters in a known document's text (where a predicted claim's span must lie)."""
        ...

    def with_claims(self, doc_id: str) -> Document | None:
        """The whole document if it has gold claims (claim matching and coverage read all of it), else None."""
        ...

    def references(self, doc_id: str) -> tuple[str, ...]:
        """The texts of a document's reference summaries, in order."""
        ...

    def story(self, doc_id: str) -> str:
        """A document's main story (Document.story_text)."""
        ...

    def key_versions(self) -> dict[str, int]:
        """How many documents carry each cross-article key: the claim's version weight."""
        ...


def key_versions(documents: Iterable[Document]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for doc in documents:
        for key in {c.key for c in doc.claims if c.key}:
            counts[key] = counts.get(key, 0) + 1
    return counts


@dataclass(frozen=True)
class Corpus:
    """The gold corpus, every document whole (a ScoringGold)."""

    documents: tuple[Document, ...]
    sha256: str
    source: str
    conflicts: tuple[dict, ...] = ()

    def by_id(self) -> dict[str, Document]:
        return dict(self._by_id)

    @cached_property
    def _by_id(self) -> dict[str, Document]:
        return {d.doc_id: d for d in self.documents}

    def doc_ids(self) -> Sequence[str]:
        return sorted(self._by_id)

    def known_id(self, doc_id: str) -> str | None:
        doc = self._by_id.get(doc_id)
        return None if doc is None else doc.doc_id

    def text_length(self, doc_id: str) -> int:
        return len(self._by_id[doc_id].text)

    def with_claims(self, doc_id: str) -> Document | None:
        doc = self._by_id[doc_id]
        return doc if doc.claims else None

    def references(self, doc_id: str) -> tuple[str, ...]:
        return tuple(s.text for s in self._by_id[doc_id].summaries)

    def story(self, doc_id: str) -> str:
        return self._by_id[doc_id].story_text()

    def key_versions(self) -> dict[str, int]:
        return key_versions(self.documents)


@dataclass(frozen=True)
class PredictedClaim:
    text: str
    span: Span | None = None


@dataclass(frozen=True)
class Prediction:
    """One system's output for one document; `failure` says why an output is missing."""

    doc_id: str
    system: str
    summary: str | None = None
    claims: tuple[PredictedClaim, ...] | None = None
    failure: str | None = None
    meta: dict = field(default_factory=dict, compare=False, hash=False)
