"""Typed records that flow through the pipeline: gold → adapters → runner → scoring → reports."""

from __future__ import annotations

from dataclasses import dataclass, field

STORY_LABELS = frozenset({"headline", "body"})
EXCLUDED_LABELS = frozenset(
    {"dateline", "byline", "caption", "social_embed", "credits", "boilerplate",
     "navigation", "comments", "copyright", "related"}
)
SALIENCE_WEIGHTS = {"core": 3.0, "major": 2.0, "minor": 1.0}
SUMMARY_LENGTHS = ("headline", "short", "long")
TASKS = ("summary", "claims")

Span = tuple[int, int]


@dataclass(frozen=True)
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


@dataclass(frozen=True)
class Document:
    doc_id: str
    text: str
    outlet: str = ""
    headline: str = ""
    date: str = ""
    regions: tuple[Region, ...] = ()
    claims: tuple[Claim, ...] = ()
    summaries: tuple[Summary, ...] = ()

    def story_text(self) -> str:
        """The main story only (headline and body regions); the whole text where no regions exist."""
        story = [self.text[r.start:r.end] for r in self.regions if r.in_story]
        return "\n".join(story) if story else self.text

    def excluded_text(self) -> list[str]:
        return [self.text[r.start:r.end] for r in self.regions if not r.in_story]


@dataclass(frozen=True)
class Corpus:
    documents: tuple[Document, ...]
    sha256: str
    source: str
    conflicts: tuple[dict, ...] = ()

    def by_id(self) -> dict[str, Document]:
        return {d.doc_id: d for d in self.documents}

    def key_versions(self) -> dict[str, int]:
        """How many documents carry each cross-article key: the claim's version weight."""
        counts: dict[str, int] = {}
        for doc in self.documents:
            for key in {c.key for c in doc.claims if c.key}:
                counts[key] = counts.get(key, 0) + 1
        return counts


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
