"""The conformance kit on every built-in adapter (openai-compatible: see test_adapters_openai.py and
test_llm_server.py), and the kit's own checks on adapters that break the rules."""

from __future__ import annotations

import json
import random
import sys
import time
from pathlib import Path

import pytest

from harness.adapters.base import Adapter, AdapterError
from harness.adapters.baselines import LeadAdapter, OracleAdapter, SentenceClaimsAdapter, TextRankAdapter
from harness.adapters.command import CommandAdapter
from harness.adapters.conformance import (
    ConformanceError, check_adapter, empty_document, long_document, sample_documents,
)
from harness.adapters.replay import ReplayAdapter
from harness.records import PredictedClaim

ROOT = Path(__file__).resolve().parent.parent
FAKE_MODEL = ROOT / "tests" / "tools" / "fake_model.py"
DOCS = sample_documents(2)


@pytest.mark.parametrize("adapter", [
    LeadAdapter(), LeadAdapter(k=1, text="raw"), TextRankAdapter(), SentenceClaimsAdapter(),
    SentenceClaimsAdapter(text="raw"), OracleAdapter(),
], ids=lambda a: f"{a.name}-{a.options_hash()[:6]}")
def test_baselines_conform(adapter):
    report = check_adapter(adapter, DOCS, time_limit=60)
    per_task = 2 * len(DOCS) + 2  # twice each (deterministic), then the empty and the long document
    assert report.calls == per_task * len(adapter.tasks)


def test_replay_conforms(tmp_path: Path):
    path = tmp_path / "p.jsonl"
    rows = [{"doc_id": d.doc_id, "system": "s", "summary": d.summaries[0].text,
             "claims": [{"text": c.text, "span": list(c.spans[0])} for c in d.claims[:3]]} for d in DOCS]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    report = check_adapter(ReplayAdapter(path=str(path)), DOCS, time_limit=30)
    # The replay file knows nothing of the kit's empty and long documents: both are clean refusals.
    assert len(report.refusals) == 4
    assert all("no prediction for document conformance-" in r for r in report.refusals)


def test_command_conforms():
    adapter = CommandAdapter(argv=[sys.executable, str(FAKE_MODEL)], deterministic=True, timeout=30)
    report = check_adapter(adapter, DOCS, time_limit=60)
    assert report.refusals == []


def test_documents_for_edge_cases():
    doc = DOCS[0]
    assert empty_document(doc).text == "" and empty_document(doc).regions == ()
    long = long_document(doc, 50_000)
    assert len(long.text) >= 50_000 - len(doc.text)
    copies = long.text.count(doc.text)
    assert len(long.regions) == copies * len(doc.regions)
    for region in long.regions:  # every region of every copy covers the same text as in the original
        original = doc.regions[long.regions.index(region) % len(doc.regions)]
        assert long.text[region.start:region.end] == doc.text[original.start:original.end]


# --------------------------------------------------------------------------- the kit catches rule breakers


class _Base(Adapter):
    name = "rule-breaker"
    version = "1"
    tasks = ("summary",)
    deterministic = True

    def summarize(self, doc):
        return "ok"


def test_kit_catches_spans_outside_the_text():
    class BadSpans(_Base):
        tasks = ("claims",)

        def extract_claims(self, doc):
            return [PredictedClaim("x", (0, len(doc.text) + 5))]

    with pytest.raises(ConformanceError, match="span .* is not inside the document"):
        check_adapter(BadSpans(), DOCS[:1])


def test_kit_catches_false_determinism():
    class Random(_Base):
        def summarize(self, doc):
            return str(random.random())

    with pytest.raises(ConformanceError, match="declares itself deterministic but gave two different summary"):
        check_adapter(Random(), DOCS[:1])


def test_kit_catches_crash_on_empty_document():
    class Fragile(_Base):
        def summarize(self, doc):
            return doc.text.split()[0]

    with pytest.raises(ConformanceError, match="conformance-empty raised IndexError"):
        check_adapter(Fragile(), DOCS[:1])


def test_kit_accepts_clean_refusal_but_not_on_normal_documents():
    class Picky(_Base):
        def summarize(self, doc):
            if len(doc.text) > 100_000:
                raise AdapterError("too long for me")
            return "fine"

    assert check_adapter(Picky(), DOCS[:1]).refusals == ["summary conformance-long: too long for me"]
    with pytest.raises(ConformanceError, match="failed: too long for me"):
        check_adapter(Picky(), [long_document(DOCS[0])], check_edge_cases=False)


def test_kit_catches_slow_adapters():
    class Slow(_Base):
        def summarize(self, doc):
            time.sleep(3)
            return ""

    started = time.perf_counter()
    with pytest.raises(ConformanceError, match="took more than 0.3 s"):
        check_adapter(Slow(), DOCS[:1], time_limit=0.3)
    assert time.perf_counter() - started < 2


def test_kit_catches_bad_declarations():
    class NoTasks(_Base):
        tasks = ("translate",)

    with pytest.raises(ConformanceError, match="`tasks` must be a non-empty subset"):
        check_adapter(NoTasks(), DOCS[:1])
