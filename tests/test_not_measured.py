"""Honest numbers for what was not measured: a corpus without gold claims reports claim coverage as null / n/a in
every output, never 0; a system whose every output is empty, or the same copied answer, is warned about."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

from harness.degenerate import degenerate_outputs
from harness.records import PredictedClaim, Prediction

ROOT = Path(__file__).resolve().parent.parent
ROWS = [
    {"id": "a", "article": "The river flooded the town on Monday. Ten homes were damaged. Rain continues.",
     "highlights": "A river flood damaged ten homes on Monday."},
    {"id": "b", "article": "The council approved a new budget. Taxes will rise by two percent. Schools gain.",
     "highlights": "The council passed a budget raising taxes two percent."},
    {"id": "c", "article": "A new bridge opened on Friday. It cost 40 million dollars. Traffic eased.",
     "highlights": "A 40 million dollar bridge opened Friday."},
]
COVERAGE = ("claim_coverage", "weighted_claim_coverage", "version_weighted_claim_coverage",
            "claim_coverage_vs_reference")


def harness(*args, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "harness.cli", *map(str, args)], capture_output=True, text=True,
                          cwd=cwd, timeout=600)


def cli(capsys, *args) -> tuple[int, str, str]:
    """The command line in this process (the run itself goes through a real process above)."""
    from harness.cli import main

    capsys.readouterr()
    code = main([str(a) for a in args])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_a_summary_only_corpus_shows_n_a_for_claim_metrics_everywhere(tmp_path: Path, monkeypatch, capsys):
    with (tmp_path / "news.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=["id", "article", "highlights"])
        writer.writeheader()
        writer.writerows(ROWS)
    (tmp_path / "csv.yaml").write_text(json.dumps({
        "corpus": {"kind": "dataset", "format": "csv", "files": ["news.csv"],
                   "columns": {"id": "id", "text": "article", "reference": "highlights"}},
        "systems": [{"name": "lead-1", "adapter": "lead", "options": {"k": 1}},
                    {"name": "lead-2", "adapter": "lead", "options": {"k": 2}}],
        "scoring": {"bootstrap": 50}}))
    done = harness("run", "--config", "csv.yaml", "--out", "out", "--no-progress", "--db", "h.sqlite", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    out = tmp_path / "out"
    results = json.loads((out / "results.json").read_text(encoding="utf-8"))
    for name, system in results["systems"].items():
        assert system["claims"] is None
        assert all(system["summary"][key] is None for key in COVERAGE), name
        assert all(entry["summary"][key] is None for entry in system["per_doc"].values() for key in COVERAGE)
        assert system["summary"]["rouge1"]["fmeasure"] > 0  # what was measured is there
    # tables: n/a where a number would be, explained in the legend
    text = (out / "leaderboard.txt").read_text(encoding="utf-8")
    header, first = text.splitlines()[1], text.splitlines()[3]
    assert header.split()[-6:] == ["coverage", "w.coverage", "cov/ref", "num.faithful", "fail", "missing"]
    assert first.startswith("lead-1 ") and first.split()[-6:] == ["n/a", "n/a", "n/a", "n/a", "0", "0"]
    assert "  n/a           not measured" in text
    assert done.stdout.startswith(text.split("\nsignature:")[0])  # the terminal shows the same table
    markdown = (out / "leaderboard.md").read_text(encoding="utf-8")
    assert "| n/a | n/a |" in markdown and "`n/a` not measured" in markdown
    per_doc = (out / "per_doc.md").read_text(encoding="utf-8")
    assert "| coverage |" in per_doc and per_doc.count("| n/a |") >= 6
    board = json.loads((out / "leaderboard.json").read_text(encoding="utf-8"))
    assert all(e["metrics"]["summary.claim_coverage"]["value"] is None for e in board["systems"])
    rows = list(csv.DictReader((out / "leaderboard.csv").open(encoding="utf-8")))
    assert [r["summary.claim_coverage"] for r in rows] == ["", ""]
    assert '<td class="num">n/a</td>' in (out / "report.html").read_text(encoding="utf-8")
    # compare: the same run twice, and the two systems of the run
    monkeypatch.chdir(tmp_path)
    same = json.loads(cli(capsys, "compare", "out", "out", "--json")[1])
    row = next(r for r in same["systems"]["lead-1"]["metrics"] if r["metric"] == "summary.claim_coverage")
    assert (row["baseline"], row["candidate"], row["delta"], row["status"]) == (None, None, None, "n/a")
    table = cli(capsys, "compare", "out", "out")[1]
    line = next(x for x in table.splitlines() if "lead-1" in x and "summary.claim_coverage " in x)
    assert line.split()[2:5] == ["n/a", "n/a", "n/a"]
    pair = json.loads(cli(capsys, "compare", "--systems", "lead-1", "lead-2", "out", "--json")[1])
    row = next(r for r in pair["metrics"] if r["metric"] == "summary.claim_coverage")
    assert (row["a"], row["b"], row["delta"], row["better"]) == (None, None, None, None)
    # history: not recorded as 0; asking for it says so
    code, _, err = cli(capsys, "history", "--db", "h.sqlite", "--metric", "summary.claim_coverage")
    assert code == 2
    assert "no metric 'summary.claim_coverage' recorded" in err and len(err.splitlines()) == 1


def _prediction(system: str, doc: str, summary=None, claims=None, failure=None) -> Prediction:
    return Prediction(doc, system, summary, None if claims is None else tuple(PredictedClaim(c) for c in claims),
                      failure)


def test_degenerate_outputs_are_found_by_hand_examples():
    copied = ["first claim", "second claim"]
    predictions = [
        *(_prediction("copycat", d, summary="", claims=copied) for d in "abc"),
        _prediction("fine", "a", summary="One.", claims=["x"]), _prediction("fine", "b", summary="Two.", claims=[]),
        _prediction("failing", "a", summary="", failure="timed out"), _prediction("failing", "b", summary="Same."),
        _prediction("failing", "c", summary="Same."),
        _prediction("single", "a", summary="Only one document."),
    ]
    warnings = degenerate_outputs(predictions)
    assert warnings == {
        "copycat": ["summary: an empty summary on every document (3); its zeros measure the pipeline, not the model",
                    'claims: the same output on every document (3): ["first claim", "second claim"] (a copied '
                    "prompt example or a broken pipeline?)"],
        "failing": ["summary: the same output on every document (2): Same. (a copied prompt example or a broken "
                    "pipeline?)"],
    }


def test_a_run_warns_about_a_model_that_copies_the_prompt_example(tmp_path: Path):
    model = tmp_path / "copycat.py"
    model.write_text("import json, sys\nrequest = json.load(sys.stdin)\n"
                     "print(json.dumps({'summary': ''} if request['task'] == 'summary' else "
                     "{'claims': ['first claim', 'second claim']}))\n")
    (tmp_path / "c.yaml").write_text(json.dumps({"systems": [
        {"name": "copycat", "adapter": "command", "options": {"argv": [sys.executable, str(model)]}},
        {"name": "lead-3", "adapter": "lead"}], "scoring": {"bootstrap": 0}}))
    done = harness("run", "--config", "c.yaml", "--out", "out", "--no-progress", "--no-cache", "--db", "h.sqlite",
                   cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    expected = ['copycat: summary: an empty summary on every document (5)',
                'copycat: claims: the same output on every document (5): ["first claim", "second claim"]']
    for text in (done.stdout, (tmp_path / "out" / "leaderboard.md").read_text(encoding="utf-8")):
        for warning in expected:
            assert f"warning: {warning}" in text
    assert "no failures; degenerate output from copycat (see the warnings above)" in done.stdout
    report = (tmp_path / "out" / "report.html").read_text(encoding="utf-8")
    assert '<p class="warn">warning: copycat: claims: the same output on every document (5): ' \
           '[&quot;first claim&quot;, &quot;second claim&quot;]' in report
    results = json.loads((tmp_path / "out" / "results.json").read_text(encoding="utf-8"))
    assert results["systems"]["lead-3"]["warnings"] == []
    assert len(results["systems"]["copycat"]["warnings"]) == 2
    assert done.stdout.rstrip().splitlines()[-1] == "report: out/report.html (open it in a browser)"
