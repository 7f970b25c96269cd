"""The README is followed as written: its walkthroughs run, its examples validate, its printed output is real."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
BIN = Path(sys.executable).parent  # where `harness` and `pip` of this environment are


def block_after(marker: str) -> str:
    """The first fenced code block after `<!-- marker -->`."""
    rest = README.split(f"<!-- {marker} -->", 1)[1]
    match = re.search(r"```[a-z]*\n(.*?)```", rest, re.S)
    return match.group(1)


def run_walkthrough(name: str, cwd: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    """A README bash block, as a reader would paste it: `harness` and `pip` on PATH, nothing else set up."""
    environment = {**{k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "GITHUB_STEP_SUMMARY")},
                   "PATH": f"{BIN}:/usr/bin:/bin", **(env or {})}
    return subprocess.run(["bash", "-euo", "pipefail", "-c", block_after(f"walkthrough: {name}")], cwd=cwd,
                          env=environment, capture_output=True, text=True, timeout=1200)


def test_the_gold_jsonl_example_validates(tmp_path: Path):
    from harness import gold

    path = tmp_path / "my-gold.jsonl"
    path.write_text(block_after("gold-jsonl-example"), encoding="utf-8")
    corpus, origins = gold.load(path)
    assert gold.validate(corpus, origins) == []
    (doc,) = corpus.documents
    assert [c.id for c in doc.claims] == ["c1", "c2"] and doc.story_text() == doc.text.replace("\n\n", "\n")
    for claim in doc.claims:  # the spans quote what the claims say
        start, end = claim.spans[0]
        assert doc.text[start:end].rstrip(".").split()[:3] == claim.text.split()[:3]


def test_the_adapters_show_example_is_the_real_output(capsys):
    from harness.cli import main

    assert main(["adapters", "show", "lead"]) == 0
    assert capsys.readouterr().out == block_after("adapters-show: lead")


def test_the_adapter_example_in_the_readme_conforms():
    from harness.adapters.conformance import check_adapter, sample_documents

    code = README.split("## Write an adapter", 1)[1].split("```python\n", 1)[1].split("```", 1)[0]
    namespace: dict = {}
    exec(compile(code, "README.md", "exec"), namespace)  # noqa: S102 - the README's own example
    adapter = namespace["FirstWordsAdapter"]()
    check_adapter(adapter, sample_documents(2), time_limit=60)
    for doc in sample_documents(2):
        (claim,) = adapter.extract_claims(doc.source())
        assert doc.text[claim.span[0]:claim.span[1]] == claim.text  # story_span gave offsets into text


def test_walkthrough_csv_corpus(tmp_path: Path):
    done = run_walkthrough("csv", tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    results = json.loads((tmp_path / "results" / "my-corpus" / "results.json").read_text(encoding="utf-8"))
    assert sorted(results["systems"]) == ["lead-1", "textrank-1"] and results["n_documents"] == 3
    assert results["systems"]["lead-1"]["summary"]["claim_coverage"] is None
    assert "textrank-1 against lead-1, paired over 3 documents" in done.stdout


@pytest.mark.slow
def test_walkthrough_ci_gate(tmp_path: Path):
    shutil.copytree(ROOT / "results" / "baseline", tmp_path / "results" / "baseline")
    done = run_walkthrough("ci-gate", tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.rstrip().endswith("gate passed: exit 0")
    for name in ("report.html", "leaderboard.md", "compare.md", "compare-junit.xml", "history.sqlite"):
        assert (tmp_path / "results" / "ci" / name).is_file(), name


@pytest.mark.slow
def test_walkthrough_history(tmp_path: Path):
    done = run_walkthrough("history", tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "claims.f1 · system sentence-claims · config default" in done.stdout
    assert re.search(r"deleted run 1 \(.*, tag v1\) from my-history.sqlite", done.stdout)
    from harness.history import list_runs

    assert [(r["run"], r["tag"]) for r in list_runs(tmp_path / "my-history.sqlite")] == [(2, "v2")]


@pytest.mark.slow
def test_walkthrough_own_adapter(tmp_path: Path):
    # pip installs into a scratch folder instead of this environment; harness already satisfies the dependency
    site = tmp_path / "site"
    done = run_walkthrough("adapter", tmp_path, {"PIP_TARGET": str(site), "PIP_NO_DEPS": "1",
                                                 "PIP_NO_BUILD_ISOLATION": "0", "PYTHONPATH": str(site)})
    assert done.returncode == 0, done.stdout + done.stderr
    assert "adapter first-words: first_words.FirstWordsAdapter (first-words 0.1.0)" in done.stdout
    assert "words   int   40       how many words to keep (at least 1)" in done.stdout
    results = json.loads((tmp_path / "results" / "mine" / "results.json").read_text(encoding="utf-8"))
    assert results["manifest"]["systems"]["first-40-words"]["package"] == "first-words"
    assert "first-40-words against lead-3, paired over 5 documents" in done.stdout
