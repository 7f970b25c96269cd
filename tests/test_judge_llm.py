"""The judge matcher against a REAL local server: llama-cpp-python serving SmolLM2-135M-Instruct. A 135M model
is a poor judge, so these tests check the plumbing, the cache and the calibration table, never its quality."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.tools.llama_server import MISSING, MODEL, available, calls_logged, llama_server

pytestmark = pytest.mark.slow

if not available():
    pytest.skip(MISSING, allow_module_level=True)

ROOT = Path(__file__).resolve().parent.parent
MATCHING = ROOT / "gold" / "matching"
JUDGE_LINE = re.compile(r"^judge .*?: (\d+) pairs, (\d+) requests .*$", re.M)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with llama_server(tmp_path_factory.mktemp("judge") / "server.log") as running:
        yield running


def harness(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "harness.cli", *args], capture_output=True, text=True, cwd=cwd,
                          timeout=1800)


def categories(path: Path) -> set[str]:
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return {row.get("category") or row["kind"] for row in rows}


def test_matcher_eval_prints_the_calibration_table_then_reruns_from_the_cache(server, tmp_path):
    argv = ["matcher", "eval", "--matcher", "judge", "--judge-url", server["url"], "--judge-model", MODEL,
            "--limit", "10", "--cache-dir", str(tmp_path / "cache")]
    before = calls_logged(server["log"])
    done = harness(*argv, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    sections = done.stdout.split("\nClaim pairs, ")[1:]
    assert [re.search(r"\((\d+) pairs", s).group(1) for s in sections] == ["10", "10"]
    for section, name in zip(sections, ("claim_pairs.jsonl", "heldout_claim_pairs.jsonl")):
        assert f"gold/matching/{name}" in section
        assert re.search(r"accuracy \d\.\d{3}, kappa -?\d\.\d{3}, P (\d\.\d{3}|–), R (\d\.\d{3}|–), "
                         r"F1 \d\.\d{3}", section), section
        rows = {c: n for c, n in re.findall(r"^(\w+) +(\d+) +\d+ +\d\.\d{3}$", section, re.M)}
        # Ten pairs spread over the categories, taken in turn: ten categories of the file, one pair each.
        assert len(rows) == 10 and set(rows) <= categories(MATCHING / name) and set(rows.values()) == {"1"}, section
    pairs, requests = map(int, JUDGE_LINE.search(done.stdout).groups())
    sent = calls_logged(server["log"]) - before
    assert 0 < sent == requests <= pairs <= 20  # pairs below the lexical floor are not asked

    again = harness(*argv, cwd=tmp_path)
    assert again.returncode == 0, again.stderr[-3000:]
    assert calls_logged(server["log"]) - before == sent  # not one request more
    assert JUDGE_LINE.search(again.stdout).group(2) == "0"
    assert JUDGE_LINE.sub("", again.stdout) == JUDGE_LINE.sub("", done.stdout)


def test_score_through_the_matching_engine_then_from_the_cache(server, tmp_path, corpus):
    doc = corpus.documents[0]
    claims = [c.text for c in doc.claims[:3]] + [doc.claims[0].text.replace("1 million", "2 million")]
    (tmp_path / "p.jsonl").write_text(json.dumps({"doc_id": doc.doc_id, "system": "s", "claims": claims}) + "\n")
    argv = ["score", "--predictions", "p.jsonl", "--bootstrap", "0", "--json", "--matcher", "judge",
            "--judge-url", server["url"], "--judge-model", MODEL]
    before = calls_logged(server["log"])
    done = harness(*argv, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    results = json.loads(done.stdout)
    assert re.search(rf"\|matcher:judge\({MODEL},prompt:[0-9a-f]{{8}},top3>=0\.10\)\+rules3\|thr:0\.50\|",
                     results["signature"])
    system = results["systems"]["s"]
    assert "claims" in system["per_doc"][doc.doc_id] and len(system["missing"]) == len(corpus.documents) - 1
    sent = calls_logged(server["log"]) - before
    # At most the top 3 gold claims per prediction, and 3 excluded sentences for a prediction no claim took.
    assert 0 < sent <= 6 * len(claims)
    assert f"{sent} requests sent" in done.stderr
    assert list((tmp_path / ".cache" / "harness" / "judge").rglob("*.json"))  # the default cache directory

    again = harness(*argv, cwd=tmp_path)
    assert again.returncode == 0, again.stderr[-3000:]
    assert calls_logged(server["log"]) - before == sent
    assert "0 requests sent" in again.stderr and json.loads(again.stdout) == results
