"""A conformance kit for any adapter, usable from pytest:

    from harness.adapters.conformance import check_adapter

    def test_my_adapter():
        check_adapter(MyAdapter(k=2))

The adapter is given what the runner gives it: each document's Source (its Document only if it declares
`reads_gold`). It checks the declaration (name, version, tasks, options), output types, that claim spans lie inside
the text, determinism where the adapter declares it, an empty and a very long document, and that
every call ends within `time_limit` seconds. A refusal (AdapterError) is accepted on the empty and
long documents: the runner records it as a failure; any other exception fails the check.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from harness.adapters.base import Adapter, AdapterError, AdapterTimeout, Output, call_with_timeout, given_to
from harness.options import Option
from harness.records import TASKS, Document, Region

LONG_DOCUMENT_CHARS = 200_000


@dataclass
class ConformanceReport:
    adapter: str
    calls: int = 0
    refusals: list[str] = field(default_factory=list)
    slowest_seconds: float = 0.0


class ConformanceError(AssertionError):
    """An adapter broke the contract; the message says which check and on which document."""


def sample_documents(n: int = 2) -> list[Document]:
    """The first `n` documents of the bundled gold corpus (real news text with regions)."""
    from harness import gold

    corpus, _ = gold.load()
    return list(corpus.documents[:n])


def empty_document(template: Document | None = None) -> Document:
    base = template or Document("conformance-empty", "")
    return replace(base, doc_id="conformance-empty", text="", regions=(), claims=(), headline="")


def long_document(template: Document, chars: int = LONG_DOCUMENT_CHARS) -> Document:
    """The template's text repeated to about `chars` characters; its regions repeated with it."""
    copies = max(1, chars // max(1, len(template.text)))
    text = "\n\n".join([template.text] * copies)
    regions, step = [], len(template.text) + 2
    for i in range(copies):
        regions += [Region(r.start + i * step, r.end + i * step, r.label) for r in template.regions]
    return replace(template, doc_id="conformance-long", text=text, regions=tuple(regions))


def check_adapter(adapter: Adapter, documents: Sequence[Document] | None = None, tasks: Sequence[str] | None = None,
                  time_limit: float = 120.0, long_chars: int = LONG_DOCUMENT_CHARS,
                  check_edge_cases: bool = True) -> ConformanceReport:
    """Run every check on `adapter`; raises ConformanceError naming the first broken rule."""
    check_declaration(adapter)
    documents = list(documents) if documents is not None else sample_documents()
    if not documents:
        raise ConformanceError("check_adapter needs at least one document")
    tasks = list(tasks or adapter.tasks)
    report = ConformanceReport(adapter.name)
    for task in tasks:
        for doc in documents:
            first = _call(adapter, doc, task, time_limit, report, allow_refusal=False)
            check_output(first, doc, task)
            if adapter.deterministic:
                second = _call(adapter, doc, task, time_limit, report, allow_refusal=False)
                if second != first:
                    raise ConformanceError(f"{adapter.name} declares itself deterministic but gave two different "
                                           f"{task} outputs for {doc.doc_id}")
        if check_edge_cases:
            for doc in (empty_document(documents[0]), long_document(documents[0], long_chars)):
                output = _call(adapter, doc, task, time_limit, report, allow_refusal=True)
                if output is not None:
                    check_output(output, doc, task)
    return report


def check_declaration(adapter: Adapter) -> None:
    """What the runner relies on before calling the adapter (name, version, tasks, typed options, concurrency,
    fingerprint): each broken promise is named, so a plugin author fixes it from the message."""
    if not isinstance(adapter, Adapter):
        raise ConformanceError(f"{adapter!r} is not a harness.adapters.base.Adapter")
    if not isinstance(adapter.name, str) or not adapter.name.strip():
        raise ConformanceError("an adapter needs a non-empty string `name`")
    if not isinstance(adapter.version, str) or not adapter.version:
        raise ConformanceError(f"{adapter.name}: `version` must be a non-empty string")
    if not adapter.tasks or any(t not in TASKS for t in adapter.tasks):
        raise ConformanceError(f"{adapter.name}: `tasks` must be a non-empty subset of {TASKS}, got {adapter.tasks!r}")
    for option in adapter.options:
        if not isinstance(option, Option):
            raise ConformanceError(f"{adapter.name}: every entry of `options` must be a harness.options.Option")
    if not isinstance(adapter.concurrency, int) or adapter.concurrency < 1:
        raise ConformanceError(f"{adapter.name}: `concurrency` must be a positive int")
    if not isinstance(adapter.fingerprint(), str):
        raise ConformanceError(f"{adapter.name}: fingerprint() must return a string")


def check_output(output: Output, doc: Document, task: str) -> None:
    """One answer has the shape its task promises, and its spans lie inside the text the report will show."""
    if not isinstance(output, Output):
        raise ConformanceError(f"expected an Output, got {type(output).__name__}")
    if task == "summary":
        if not isinstance(output.summary, str) or output.claims is not None:
            raise ConformanceError(f"{doc.doc_id}: a summary call must give a string summary and no claims")
        return
    if output.claims is None or output.summary is not None:
        raise ConformanceError(f"{doc.doc_id}: a claims call must give claims and no summary")
    for i, claim in enumerate(output.claims):
        if not isinstance(claim.text, str):
            raise ConformanceError(f"{doc.doc_id}: claims[{i}].text is not a string")
        if claim.span is not None:
            start, end = claim.span
            if not (isinstance(start, int) and isinstance(end, int) and 0 <= start <= end <= len(doc.text)):
                raise ConformanceError(f"{doc.doc_id}: claims[{i}].span {claim.span} is outside the text "
                                       f"({len(doc.text)} characters)")


def _call(adapter: Adapter, doc: Document, task: str, time_limit: float, report: ConformanceReport,
          allow_refusal: bool) -> Output | None:
    started = time.perf_counter()
    try:
        output = call_with_timeout(adapter, given_to(adapter, doc), task, time_limit)
    except AdapterTimeout:
        raise ConformanceError(f"{adapter.name}: {task} on {doc.doc_id} ({len(doc.text)} characters) took more "
                               f"than {time_limit:g} s") from None
    except AdapterError as err:
        if not allow_refusal:
            raise ConformanceError(f"{adapter.name}: {task} on {doc.doc_id} failed: {err}") from err
        report.refusals.append(f"{task} {doc.doc_id}: {err}")
        return None
    except Exception as err:
        raise ConformanceError(f"{adapter.name}: {task} on {doc.doc_id} raised {type(err).__name__}: {err} "
                               "(raise harness.adapters.base.AdapterError for a per-document failure)") from err
    finally:
        report.calls += 1
        report.slowest_seconds = max(report.slowest_seconds, time.perf_counter() - started)
    return output
