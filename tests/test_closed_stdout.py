"""Commands behave like Unix commands: `harness … | head -1` ends without a traceback and with the command's own
status (0 here; 1 only for a regression). The reader is gone before the first byte is written, the worst case:
every subcommand in this process (a stdout whose every write fails as a closed pipe does), and the real thing,
a closed pipe and `| head -1`, in real processes."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BASELINE = ROOT / "results" / "baseline" / "results.json"


def with_closed_stdout(args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    """Run `harness ARGS` with standard output a pipe whose reading end is already closed."""
    read, write = os.pipe()
    os.close(read)
    try:
        return subprocess.run([sys.executable, "-m", "harness.cli", *args], stdout=write, stderr=subprocess.PIPE,
                              text=True, cwd=cwd, timeout=600)
    finally:
        os.close(write)


@pytest.fixture(scope="module")
def work(tmp_path_factory) -> Path:
    """A run folder and history database to point the commands at, and a gold copy fill-spans may rewrite."""
    root = tmp_path_factory.mktemp("pipe")
    (root / "run.yaml").write_text(json.dumps({"tasks": ["summary"], "systems": [
        {"name": "lead-3", "adapter": "lead"}, {"name": "lead-1", "adapter": "lead", "options": {"k": 1}}],
        "scoring": {"bootstrap": 0}}))
    done = subprocess.run([sys.executable, "-m", "harness.cli", "run", "--config", "run.yaml", "--out", "run",
                           "--no-progress", "--db", "h.sqlite"], capture_output=True, text=True, cwd=root, timeout=600)
    assert done.returncode == 0, done.stderr
    rows = [json.loads(line) for line in (root / "run" / "predictions.jsonl").read_text().splitlines()]
    (root / "preds.jsonl").write_text("".join(json.dumps({k: r[k] for k in ("doc_id", "system", "summary")}) + "\n"
                                              for r in rows))
    shutil.copytree(ROOT / "gold" / "annotations", root / "gold" / "annotations")
    shutil.copytree(ROOT / "gold" / "articles", root / "gold" / "articles")
    return root


COMMANDS = {
    "help": ["--help"],
    "version": ["--version"],
    "gold validate": ["gold", "validate"],
    "gold stats": ["gold", "stats"],
    "gold export": ["gold", "export", "--format", "jsonl", "gold.jsonl"],
    "gold fill-spans": ["gold", "fill-spans", "gold/annotations/001_52e54b49f32cf5ad.yaml"],
    "score": ["score", "--predictions", "preds.jsonl", "--out", "scored", "--db", "h.sqlite", "--bootstrap", "0"],
    "score --json": ["score", "--predictions", "preds.jsonl", "--json", "--bootstrap", "0"],
    "matcher eval": ["matcher", "eval"],
    "run": ["run", "--config", "run.yaml", "--out", "again", "--no-progress", "--db", "h.sqlite"],
    "adapters list": ["adapters", "list"],
    "adapters show": ["adapters", "show", "openai-compatible"],
    "compare": ["compare", str(BASELINE), str(BASELINE)],
    "compare --systems": ["compare", "--systems", "lead-1", "lead-3", "run"],
    "compare --against-previous": ["compare", "--against-previous", "again", "--db", "h.sqlite"],
    "history": ["history", "--db", "h.sqlite", "--metric", "summary.rougeL"],
    "history list": ["history", "list", "--db", "h.sqlite"],
    "history import": ["history", "import", "run", "--db", "h.sqlite"],
    "history delete": ["history", "delete", "1", "--db", "h.sqlite"],
}


class ClosedPipe:
    """A standard output whose reader has gone: every write and flush fails as a closed pipe does."""

    def write(self, text: str) -> int:
        raise BrokenPipeError(32, "Broken pipe")

    def flush(self) -> None:
        raise BrokenPipeError(32, "Broken pipe")


@pytest.mark.parametrize("name", list(COMMANDS))
def test_every_subcommand_ends_quietly_with_its_own_status(work, name, monkeypatch, capsys):
    from harness.cli import main

    monkeypatch.chdir(work)
    monkeypatch.setattr(sys, "stdout", ClosedPipe())
    try:
        code = main(COMMANDS[name])
    except SystemExit as stop:  # --help and --version leave through argparse
        code = stop.code
    assert code in (0, None)
    assert capsys.readouterr().err.count("\n") <= 3  # progress notes at most; no traceback
    if name == "run":  # the work was done all the same: files written, run recorded
        assert (work / "again" / "report.html").is_file()
    if name == "score":
        assert (work / "scored" / "results.json").is_file()


@pytest.mark.parametrize("args", [["run", "--config", "run.yaml", "--out", "piped", "--no-progress", "--db", "p.sqlite"],
                                  ["--help"]], ids=["run", "help"])
def test_a_closed_pipe_in_a_real_process(work, args):
    done = with_closed_stdout(args, work)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr and "BrokenPipe" not in done.stderr and "Exception ignored" not in done.stderr
    if args[0] == "run":
        assert (work / "piped" / "report.html").is_file() and (work / "p.sqlite").is_file()


def test_a_regression_keeps_its_status_through_head(tmp_path):
    """A real `| head -1`: compare still exits 1 for a regression, 0 for none."""
    worse = json.loads(BASELINE.read_text(encoding="utf-8"))
    claims = worse["systems"]["sentence-claims"]["claims"]
    claims["f1"] -= 0.1
    (tmp_path / "worse.json").write_text(json.dumps(worse))
    for candidate, status in ((BASELINE, 0), (tmp_path / "worse.json", 1)):
        pipeline = (f"set -o pipefail; {sys.executable} -m harness.cli compare {BASELINE} {candidate} "
                    "--fail-on-regression | head -1")
        done = subprocess.run(["bash", "-c", pipeline], capture_output=True, text=True, cwd=ROOT, timeout=300)
        assert done.returncode == status, done.stderr
        assert done.stdout == f"baseline:  {BASELINE}\n" and done.stderr == ""
