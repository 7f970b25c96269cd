"""The adapter interface: a model that turns a document's Source into a summary and/or a list of claims.

An adapter subclass declares its `tasks`, its closed typed `options` and whether it is
`deterministic`; it implements `summarize` and/or `extract_claims`. Everything else (caching,
timeouts, failure recording, scoring) is the runner's job, so an adapter stays a few lines long.
Adapters are given a `Source` (text, regions, headline, date, outlet), never the gold answers; only
one that declares `reads_gold = True` (an oracle, a ceiling) is given the whole `Document`.
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from harness.options import Option, check_options, options_hash
from harness.errors import UserError
from harness.records import TASKS, Document, PredictedClaim, Source


class AdapterError(Exception):
    """The adapter could not produce an output for one document; the runner records it and moves on."""


class AdapterTimeout(AdapterError):
    """The adapter took longer than its time limit on one document."""


class BadOutput(AdapterError):
    """The model answered, but not in the expected form; `raw` keeps what it said (for the record)."""

    def __init__(self, message: str, raw: str | None = None):
        super().__init__(message)
        self.raw = raw


class MissingDependency(UserError):
    """An optional library an adapter needs is not installed; the message is the pip command to run."""


def require(module: str, pip_name: str | None = None, adapter: str = "this adapter") -> Any:
    """Import an optional heavy library at use time; a missing one becomes a one-line install hint."""
    try:
        return importlib.import_module(module)
    except ImportError:
        raise MissingDependency(f"{adapter} needs the '{module}' module: pip install {pip_name or module}") from None


@dataclass(frozen=True)
class Output:
    """What one adapter call produced for one task."""

    summary: str | None = None
    claims: tuple[PredictedClaim, ...] | None = None

    def to_json(self) -> dict:
        if self.claims is not None:
            return {"claims": [{"text": c.text, "span": list(c.span)} if c.span else c.text for c in self.claims]}
        return {"summary": self.summary}

    @staticmethod
    def from_json(obj: Mapping) -> Output:
        if "claims" in obj:
            return Output(claims=tuple(PredictedClaim(c["text"], tuple(c["span"]) if c.get("span") else None)
                                       if isinstance(c, dict) else PredictedClaim(c) for c in obj["claims"]))
        return Output(summary=obj["summary"])


class Adapter:
    """Base class for adapters. Subclasses set the class attributes and override the task methods.

    Construct with keyword options: `LeadAdapter(k=3)`. Unknown or ill-typed options raise UserError.
    """

    name: ClassVar[str] = "adapter"
    version: ClassVar[str] = "0"
    tasks: tuple[str, ...] = TASKS
    deterministic: ClassVar[bool] = False
    cacheable: ClassVar[bool] = True
    reads_gold: ClassVar[bool] = False  # True: given the Document with its gold; reported as a ceiling
    options: ClassVar[tuple[Option, ...]] = ()

    def __init__(self, **options: Any):
        self.settings: dict[str, Any] = check_options(self.options, options, f"adapter {self.name}")
        self.setup()

    def setup(self) -> None:
        """Hook: check the resolved options (raise UserError) and prepare; no model call here."""

    # ---------------------------------------------------------------- what subclasses implement

    def summarize(self, doc: Source) -> str:
        raise NotImplementedError

    def extract_claims(self, doc: Source) -> Sequence[str | PredictedClaim]:
        """Claims as strings, or PredictedClaim(text, (start, end)) with the span in `doc.text`."""
        raise NotImplementedError

    # ---------------------------------------------------------------- identity for the cache and manifest

    def fingerprint(self) -> str:
        """Extra material that changes outputs but is not an option (a prompt's text, a file's hash)."""
        return ""

    @property
    def concurrency(self) -> int:
        """How many documents the runner may send at once."""
        return 1

    def options_hash(self) -> str:
        return options_hash({"options": self.settings, "fingerprint": self.fingerprint()})

    def runtime_info(self) -> dict:
        """Facts learnt while running (e.g. which structured-output form a server accepted), for the manifest."""
        return {}

    def close(self) -> None:
        """Release connections or processes."""

    # ---------------------------------------------------------------- one call, checked

    def run(self, doc: Source, task: str) -> Output:
        """Call the task method and check its output's types and spans (BadOutput if wrong)."""
        if task not in self.tasks:
            raise AdapterError(f"adapter {self.name} does not do task {task!r}")
        if task == "summary":
            return Output(summary=check_summary(self.summarize(doc)))
        return Output(claims=check_claims(self.extract_claims(doc), doc))


def check_summary(value: object) -> str:
    if not isinstance(value, str):
        raise BadOutput(f"a summary must be a string, got {type(value).__name__}", repr(value)[:2000])
    _check_unicode(value, "the summary")
    return value


def _check_unicode(text: str, what: str) -> None:
    """A lone surrogate (e.g. from a JSON "\\ud800" escape) cannot be written to any UTF-8 file."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as err:
        raise BadOutput(f"{what} is not valid Unicode (a lone surrogate at character {err.start})",
                        text.encode("utf-8", "backslashreplace").decode("utf-8")[:2000]) from None


def given_to(adapter: Adapter, doc: Document) -> Document | Source:
    """What `adapter` may read of `doc`: its Source, or the whole Document for an adapter that reads the gold."""
    return doc if adapter.reads_gold else doc.source()


def check_claims(value: object, doc: Source | Document) -> tuple[PredictedClaim, ...]:
    """An adapter's claims as PredictedClaims, or BadOutput: a malformed answer is that document's failure,
    recorded with what the model said, never a crash of the run or a span the report cannot show."""
    if isinstance(value, (str, bytes)) or not isinstance(value, Sequence):
        raise BadOutput(f"claims must be a list, got {type(value).__name__}", repr(value)[:2000])
    out = []
    for i, item in enumerate(value):
        if isinstance(item, str):
            item = PredictedClaim(item)
        if not isinstance(item, PredictedClaim) or not isinstance(item.text, str):
            raise BadOutput(f"claims[{i}] must be a string or PredictedClaim, got {type(item).__name__}",
                            repr(item)[:2000])
        _check_unicode(item.text, f"claims[{i}]")
        if item.span is not None:
            span = item.span
            if (not isinstance(span, (tuple, list)) or len(span) != 2
                    or not all(isinstance(x, int) and not isinstance(x, bool) for x in span)
                    or not 0 <= span[0] <= span[1] <= len(doc.text)):
                raise BadOutput(f"claims[{i}] span {span!r} is not inside the document ({len(doc.text)} characters)")
            item = PredictedClaim(item.text, (span[0], span[1]))
        out.append(item)
    return tuple(out)


def call_with_timeout(adapter: Adapter, doc: Source | Document, task: str, timeout: float | None) -> Output:
    """Run one call on what the adapter may read (see given_to); past `timeout` seconds give up with
    AdapterTimeout (the worker thread is abandoned)."""
    if not timeout:
        return adapter.run(doc, task)
    box: dict[str, Any] = {}

    def work() -> None:
        try:
            box["output"] = adapter.run(doc, task)
        except BaseException as err:  # noqa: BLE001 - handed to the caller's thread
            box["error"] = err

    worker = threading.Thread(target=work, name=f"adapter-{adapter.name}-{doc.doc_id}", daemon=True)
    worker.start()
    worker.join(timeout)
    if worker.is_alive():
        raise AdapterTimeout(f"timed out after {timeout:g} s")
    if "error" in box:
        raise box["error"]
    return box["output"]
