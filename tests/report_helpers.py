"""For the report and compare tests: predictions built from the gold with known damage; the CLI run for real."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from harness import gold
from harness.records import Corpus

JUNK_CLAIM = "The moon is made of green cheese according to a bakery in Lisbon."
SCRIPT = "<script>document.title='PWNED'</script>"
IMG = "<img src=x onerror=\"document.body.setAttribute('data-pwned','1')\">"


def export_gold(path: Path) -> Corpus:
    """A frozen copy of the bundled gold, so every run in a test session scores on the same corpus."""
    corpus, _ = gold.load()
    gold.export_jsonl(corpus, path)
    return gold.load(path)[0]


def short_reference(doc) -> str:
    return next(s.text for s in doc.summaries if s.length == "short")


def scored_claims(doc) -> list:
    return [c for c in doc.claims if not c.optional]


def dropped_ids(doc, drop: int) -> list[str]:
    """The gold claims a damaged system leaves out: the last `drop` scored (non-optional) claims."""
    return [c.id for c in scored_claims(doc)[-drop:]] if drop else []


def perfect(corpus: Corpus, system: str) -> list[dict]:
    """Every gold claim verbatim and the short reference summary: perfect claim scores and ROUGE 1.0."""
    return [{"doc_id": d.doc_id, "system": system, "summary": short_reference(d),
             "claims": [c.text for c in d.claims]} for d in corpus.documents]


def damaged(corpus: Corpus, system: str, drop: int = 3, junk: bool = True,
            summary_words: int | None = None) -> list[dict]:
    """Gold claims minus `dropped_ids`, plus one claim that matches nothing; optionally a truncated summary."""
    rows = []
    for d in corpus.documents:
        gone = set(dropped_ids(d, drop))
        claims = [c.text for c in d.claims if c.id not in gone] + ([JUNK_CLAIM] if junk else [])
        summary = short_reference(d)
        if summary_words is not None:
            summary = " ".join(summary.split()[:summary_words])
        rows.append({"doc_id": d.doc_id, "system": system, "summary": summary, "claims": claims})
    return rows


def hostile(corpus: Corpus, system: str = "evil<b>bold</b>") -> list[dict]:
    """Model output that tries to run script in the reader's browser."""
    return [{"doc_id": d.doc_id, "system": system,
             "summary": f"{SCRIPT} {IMG} {short_reference(d)}",
             "claims": [SCRIPT, IMG, d.claims[0].text + " " + SCRIPT]} for d in corpus.documents]


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def harness(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess:
    """The real command line in a subprocess (cwd keeps any history database inside the test's folder)."""
    env = {k: v for k, v in os.environ.items() if k != "GITHUB_STEP_SUMMARY"}
    return subprocess.run([sys.executable, "-m", "harness.cli", *map(str, args)], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=600)


def score(predictions: Path, out: Path, gold_path: Path, *extra: str) -> dict:
    """`harness score --out` for real; returns the results.json it wrote."""
    proc = harness("score", "--predictions", predictions, "--gold", gold_path, "--out", out, "--bootstrap", "200",
                   *extra, cwd=out.parent)
    assert proc.returncode == 0, proc.stderr
    return json.loads((out / "results.json").read_text(encoding="utf-8"))


def score_many(jobs: list[tuple[Path, Path, Path, tuple[str, ...]]]) -> list[dict]:
    """Several `harness score --out` runs at once (predictions, out, gold, extra args); their results."""
    procs = []
    for predictions, out, gold_path, extra in jobs:
        env = {k: v for k, v in os.environ.items() if k != "GITHUB_STEP_SUMMARY"}
        argv = [sys.executable, "-m", "harness.cli", "score", "--predictions", str(predictions), "--gold",
                str(gold_path), "--out", str(out), "--bootstrap", "200", *extra]
        procs.append((subprocess.Popen(argv, cwd=out.parent, env=env, stdout=subprocess.DEVNULL,
                                       stderr=subprocess.PIPE, text=True), out))
    results = []
    for proc, out in procs:
        _, err = proc.communicate(timeout=600)
        assert proc.returncode == 0, err
        results.append(json.loads((out / "results.json").read_text(encoding="utf-8")))
    return results
