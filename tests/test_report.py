"""`harness score --out`: every table agrees with results.json; the numbers agree with hand counts and rouge-score."""

from __future__ import annotations

import csv
import html
import io
import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from tests.report_helpers import (
    IMG, JUNK_CLAIM, SCRIPT, damaged, dropped_ids, export_gold, harness, hostile, perfect, score, scored_claims,
    write_jsonl,
)

from harness.outdir import LOCK_NAME

DROP = 3
SUMMARY_WORDS = 20
OUTPUTS = ["results.json", "leaderboard.txt", "leaderboard.md", "leaderboard.csv", "leaderboard.json", "per_doc.md",
           "per_doc.csv", "decisions.jsonl", "sensitivity.md", "sensitivity.csv", "report.html",
           "plots/metrics.png", "plots/metrics.svg", "plots/precision_recall.png", "plots/precision_recall.svg",
           "plots/sensitivity.png", "plots/sensitivity.svg"]


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    root = tmp_path_factory.mktemp("report")
    gold_path = root / "gold.jsonl"
    corpus = export_gold(gold_path)
    summary_only = [{"doc_id": r["doc_id"], "system": "gamma", "summary": r["summary"]}
                    for r in damaged(corpus, "gamma", summary_words=SUMMARY_WORDS)]
    rows = (perfect(corpus, "alpha") + damaged(corpus, "beta", DROP, junk=True, summary_words=SUMMARY_WORDS)
            + summary_only + hostile(corpus))
    predictions = write_jsonl(root / "predictions.jsonl", rows)
    out = root / "out"
    results = score(predictions, out, gold_path)
    return {"root": root, "gold": gold_path, "corpus": corpus, "predictions": predictions, "out": out,
            "results": results}


def _csv(path: Path) -> list[dict]:
    return list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))))


def _unescaped(cell: str) -> str:
    """A Markdown cell's text as a reader sees it rendered (backslash escapes and HTML entities undone)."""
    return html.unescape(re.sub(r"\\(.)", r"\1", cell))


def _md_rows(text: str, first_column: str = "system") -> list[dict]:
    """Every Markdown table in text as dict rows (cells unescaped)."""
    rows, header = [], None
    for line in text.splitlines():
        if not line.startswith("|"):
            header = None
            continue
        cells = [_unescaped(c.strip()) for c in re.split(r"(?<!\\)\|", line.strip())[1:-1]]
        if header is None:
            header = cells
        elif not set(line) <= set("|-: "):
            rows.append(dict(zip(header, cells)))
    return rows


# --------------------------------------------------------------------------- files


def test_score_out_writes_every_output_atomically(run):
    out = run["out"]
    for name in OUTPUTS:
        assert (out / name).is_file(), name
        assert (out / name).stat().st_size > 0, name
    assert [p.name for p in out.rglob(".*")] == [LOCK_NAME], "temporary files left behind"  # the lock stays
    assert (out / "plots/metrics.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert ET.fromstring((out / "plots/precision_recall.svg").read_bytes()).tag.endswith("svg")


def test_results_json_is_the_evaluation_plus_the_manifest(run):
    from harness.evaluate import evaluate
    from harness.predictions import read_predictions
    from harness.scoring.scorer import ScoreSettings

    corpus = run["corpus"]
    evaluation = evaluate(corpus, read_predictions(run["predictions"], corpus), ScoreSettings(bootstrap=200))
    written = run["results"]
    assert set(written) == set(evaluation.results) | {"manifest"}
    assert "sensitivity" in evaluation.results  # computed by the scoring, not by the report
    assert written["manifest"]["harness_version"] and written["manifest"]["predictions"].endswith(".jsonl")
    for key, value in evaluation.results.items():
        assert json.loads(json.dumps(value)) == written[key], key


def test_claim_scores_match_hand_counts(run):
    corpus, systems = run["corpus"], run["results"]["systems"]
    n_scored = sum(len(scored_claims(d)) for d in corpus.documents)
    alpha = systems["alpha"]["claims"]
    assert (alpha["tp"], alpha["fp"], alpha["fn"]) == (n_scored, 0, 0)
    assert alpha["precision"] == alpha["recall"] == alpha["f1"] == 1.0
    n_docs = len(corpus.documents)
    beta = systems["beta"]["claims"]
    tp, fp, fn = n_scored - DROP * n_docs, n_docs, DROP * n_docs  # one junk claim per document
    assert (beta["tp"], beta["fp"], beta["fn"]) == (tp, fp, fn)
    assert beta["precision"] == pytest.approx(tp / (tp + fp))
    assert beta["recall"] == pytest.approx(tp / (tp + fn))
    assert beta["f1"] == pytest.approx(2 * tp / (2 * tp + fp + fn))
    for d in corpus.documents:
        matched = set(systems["beta"]["per_doc"][d.doc_id]["claims"]["matched"])
        assert matched == {c.id for c in scored_claims(d)} - set(dropped_ids(d, DROP))
    assert systems["gamma"]["claims"] is None


def test_rouge_per_document_matches_rouge_score(run):
    from rouge_score import rouge_scorer

    scorer = rouge_scorer.RougeScorer(["rouge1", "rouge2", "rougeL"], use_stemmer=True)
    rows = {(r["system"], r["doc_id"]): r for r in _csv(run["out"] / "per_doc.csv")}
    for d in run["corpus"].documents:
        summary = " ".join(next(s.text for s in d.summaries if s.length == "short").split()[:SUMMARY_WORDS])
        for kind in ("rouge1", "rouge2", "rougeL"):
            expected = max(scorer.score(ref.text, summary)[kind].fmeasure for ref in d.summaries)
            assert float(rows[("beta", d.doc_id)][f"summary.{kind}"]) == pytest.approx(expected, abs=1e-9)
            assert float(rows[("alpha", d.doc_id)][f"summary.{kind}"]) == pytest.approx(1.0)


# --------------------------------------------------------------------------- tables agree with results.json

def test_leaderboard_csv_matches_json(run):
    from harness.results.metrics import METRICS

    systems = run["results"]["systems"]
    rows = _csv(run["out"] / "leaderboard.csv")
    assert {r["system"] for r in rows} == set(systems)
    checked = 0
    for row in rows:
        system = systems[row["system"]]
        for m in METRICS:
            agg = system.get(m.task)
            if agg is None:
                assert row.get(m.name, "") == ""
                continue
            value = m.value(agg)
            assert (row[m.name] == "") if value is None else float(row[m.name]) == value, (row["system"], m.name)
            checked += 1
        if system.get("summary"):
            assert [float(row["summary.rougeL.ci95.lo"]), float(row["summary.rougeL.ci95.hi"])] == \
                system["summary"]["rougeL"]["ci95"]
        if system.get("claims"):
            assert [float(row["claims.f1.ci95.lo"]), float(row["claims.f1.ci95.hi"])] == system["claims"]["f1_ci95"]
            assert [float(row["claims.f1.ci95_docs_then_claims.lo"]), float(row["claims.f1.ci95_docs_then_claims.hi"])] \
                == system["claims"]["f1_ci95_docs_then_claims"]
        assert row["reads_gold"] == "False"
        assert int(row["failures"]) == system["failures"]
    assert checked >= 3 * 7


def test_leaderboard_markdown_and_text_match_json(run):
    from harness.results.metrics import METRICS

    systems = run["results"]["systems"]
    md_rows = _md_rows((run["out"] / "leaderboard.md").read_text(encoding="utf-8"))
    text = (run["out"] / "leaderboard.txt").read_text(encoding="utf-8")
    seen = 0
    for row in md_rows:
        system = systems[row["system"]]
        for m in METRICS:
            if m.label not in row or not system.get(m.task):
                continue
            value, ci = m.value(system[m.task]), m.ci(system[m.task])
            expected = "n/a" if value is None else str(value) if isinstance(value, int) else f"{value:.3f}"
            if ci:
                expected += f" [{ci[0]:.3f}, {ci[1]:.3f}]"
            assert row[m.label] == expected, (row["system"], m.name)
            assert expected in text
            seen += 1
    assert {r["system"] for r in md_rows} == set(systems)
    assert seen >= 7 * 3 + 7 * 3  # summary metrics for 4 systems' worth of rows, claim metrics for 3


def test_leaderboard_json_matches(run):
    systems = run["results"]["systems"]
    board = json.loads((run["out"] / "leaderboard.json").read_text(encoding="utf-8"))
    assert board["gold_sha256"] == run["results"]["gold_sha256"]
    for entry in board["systems"]:
        s = systems[entry["system"]]
        if s["claims"]:
            assert entry["metrics"]["claims.f1"] == {"value": s["claims"]["f1"], "ci95": s["claims"]["f1_ci95"],
                                                     "ci95_docs_then_claims": s["claims"]["f1_ci95_docs_then_claims"]}
        if s["summary"]:
            assert entry["metrics"]["summary.rouge2"] == {"value": s["summary"]["rouge2"]["fmeasure"],
                                                          "ci95": s["summary"]["rouge2"]["ci95"]}
    # ranked by claim F1: the perfect system first
    assert board["systems"][0]["system"] == "alpha"


def test_per_document_tables_match_json(run):
    systems = run["results"]["systems"]
    csv_rows = _csv(run["out"] / "per_doc.csv")
    md_rows = _md_rows((run["out"] / "per_doc.md").read_text(encoding="utf-8"))
    assert len(csv_rows) == len(md_rows) == sum(len(s["per_doc"]) for s in systems.values())
    for row, md in zip(csv_rows, md_rows):
        entry = systems[row["system"]]["per_doc"][row["doc_id"]]
        assert md["system"] == row["system"] and md["doc_id"] == row["doc_id"]
        if "summary" in entry:
            assert float(row["summary.rougeL"]) == entry["summary"]["rougeL"]["fmeasure"]
            assert md["RL"] == f"{entry['summary']['rougeL']['fmeasure']:.3f}"
        else:
            assert row["summary.rougeL"] == "" and md["RL"] == "n/a"
        if "claims" in entry:
            c = entry["claims"]
            assert (float(row["claims.precision"]), float(row["claims.recall"]), float(row["claims.f1"])) == \
                (c["precision"], c["recall"], c["f1"])
            assert (int(row["claims.tp"]), int(row["claims.fp"]), int(row["claims.fn"])) == (c["tp"], c["fp"], c["fn"])
            assert md["F1"] == f"{c['f1']:.3f}" and md["tp"] == str(c["tp"])


def test_sensitivity_rescored_at_each_threshold(run):
    results, corpus = run["results"], run["corpus"]
    sens = results["sensitivity"]
    assert sens["thresholds"] == sorted({0.3, 0.4, 0.5, 0.6, 0.7, sens["run_threshold"]})
    assert set(sens["systems"]) == {"alpha", "beta", "evil<b>bold</b>"}
    n_scored = sum(len(scored_claims(d)) for d in corpus.documents)
    n_docs = len(corpus.documents)
    for row in sens["systems"]["beta"]:  # verbatim claims match at any threshold, the junk claim at none
        assert (row["tp"], row["fp"], row["fn"]) == (n_scored - DROP * n_docs, n_docs, DROP * n_docs)
    for name, rows in sens["systems"].items():  # the run's threshold reproduces the run's claim scores
        at_run = next(r for r in rows if r["threshold"] == sens["run_threshold"])
        claims = results["systems"][name]["claims"]
        assert (at_run["tp"], at_run["fp"], at_run["fn"]) == (claims["tp"], claims["fp"], claims["fn"])
        assert at_run["f1"] == pytest.approx(claims["f1"])
    csv_rows = _csv(run["out"] / "sensitivity.csv")
    flat = [(name, r) for name in ("alpha", "beta", "evil<b>bold</b>") for r in sens["systems"][name]]
    assert len(csv_rows) == len(flat)
    by_key = {(r["system"], float(r["threshold"])): r for r in csv_rows}
    for name, r in flat:
        row = by_key[(name, r["threshold"])]
        assert float(row["f1"]) == r["f1"] and int(row["tp"]) == r["tp"]
    md = (run["out"] / "sensitivity.md").read_text(encoding="utf-8")
    at_half = next(r for r in sens["systems"]["beta"] if r["threshold"] == 0.5)
    assert f"| beta | 0.500 | {at_half['precision']:.3f} |" in md and f"{at_half['f1']:.3f}" in md


def test_score_json_prints_exactly_what_score_out_writes(run, capsys, monkeypatch):
    """`score --json` and the results.json of `score --out` are one result object: every field, the threshold
    sensitivity and the manifest included. Nothing is left out of the comparison: the manifest holds no clock
    time for `score` (only `run` records its start, end and durations), so no field differs by nature."""
    from harness.cli import main

    monkeypatch.chdir(run["out"].parent)  # where the fixture's `score --out` ran
    code = main(["score", "--predictions", str(run["predictions"]), "--gold", str(run["gold"]), "--bootstrap", "200",
                 "--json", "--no-progress"])
    printed = json.loads(capsys.readouterr().out)
    assert code == 0
    assert printed == run["results"]
    assert printed["sensitivity"]["systems"]["beta"] and printed["manifest"]["predictions"] == str(run["predictions"])


def test_decision_log_explains_every_prediction(run):
    rows = [json.loads(line) for line in (run["out"] / "decisions.jsonl").read_text(encoding="utf-8").splitlines()]
    beta = [r for r in rows if r["system"] == "beta"]
    n_pred = sum(len(d.claims) - DROP + 1 for d in run["corpus"].documents)
    assert len(beta) == n_pred
    junk = [r for r in beta if r["text"] == JUNK_CLAIM]
    assert len(junk) == len(run["corpus"].documents)
    assert all(r["outcome"] == "below_threshold" and r["gold_id"] is None for r in junk)
    for d in run["corpus"].documents:
        matched = {r["gold_id"] for r in beta if r["doc_id"] == d.doc_id and r["outcome"] == "matched"}
        assert matched == set(run["results"]["systems"]["beta"]["per_doc"][d.doc_id]["claims"]["matched"])


# --------------------------------------------------------------------------- HTML report (static checks)

def _tags(html: str) -> list[tuple[str, list[tuple[str, str]]]]:
    """Every start tag and its attributes, as an HTML parser sees them (escaped text is not a tag)."""
    from html.parser import HTMLParser

    found = []

    class Collect(HTMLParser):
        def handle_starttag(self, tag, attrs):
            found.append((tag, [(k, v or "") for k, v in attrs]))

    Collect().feed(html)
    return found


def test_html_report_is_self_contained_and_escaped(run):
    html = (run["out"] / "report.html").read_text(encoding="utf-8")
    assert "http://" not in html and "https://" not in html
    tags = _tags(html)
    sources = [value for _, attrs in tags for name, value in attrs if name in ("src", "href")]
    assert sources and all(s.startswith(("data:", "#")) for s in sources), sources
    assert not [t for t, _ in tags if t in ("script", "iframe", "object", "embed", "link", "base", "form")]
    assert not [(t, name) for t, attrs in tags for name, _ in attrs if name.startswith("on")]
    assert SCRIPT not in html and IMG not in html
    assert "&lt;script&gt;document.title=&#x27;PWNED&#x27;&lt;/script&gt;" in html
    assert "evil&lt;b&gt;bold&lt;/b&gt;" in html and "evil<b>" not in html
    assert html.count('src="data:image/svg+xml;base64,') == 3


def test_html_report_explains_matches_and_misses(run):
    html = (run["out"] / "report.html").read_text(encoding="utf-8")
    corpus = run["corpus"]
    for d in corpus.documents:
        assert f'id="doc-{d.doc_id}"' in html
        gone = set(dropped_ids(d, DROP))
        for c in d.claims:
            if c.id in gone:
                assert f'<tr><td>{c.id}</td><td class="missed">missed</td>' in html
    assert html.count(f"{JUNK_CLAIM}</td><td class=\"why\">below threshold: best similarity") == len(corpus.documents)
    leader = html.split('<section id="leaderboard">')[1].split("</section>")[0]
    beta = run["results"]["systems"]["beta"]["claims"]
    assert f"{beta['precision']:.3f}" in leader and f"{beta['f1']:.3f} [{beta['f1_ci95'][0]:.3f}" in leader


def test_html_report_pairs_the_best_competitor_with_each_other(run):
    """alpha gives every gold claim, beta drops DROP per document: McNemar over the 5 x DROP claims only alpha
    matched is p = 2 * 0.5^15; the document-level sign-flip test cannot go below 2 / 2^5."""
    html = (run["out"] / "report.html").read_text(encoding="utf-8")
    section = html.split('<section id="pairwise">')[1].split("</section>")[0]
    rows = [re.findall(r"<td[^>]*>(.*?)</td>", row) for row in re.findall(r"<tr>(.*?)</tr>", section)]
    f1 = next(r for r in rows if r[:3] == ["claims.f1", "alpha", "beta"])
    beta = run["results"]["systems"]["beta"]["claims"]["f1"]
    assert f1[3:6] == ["1.000", f"{beta:.3f}", f"{1 - beta:.3f}"]
    assert f1[6:8] == ["0.062", "0.062"]  # every document favours alpha: p is its floor, 2 / 2^5
    assert f1[8:10] == [f"{2 * 0.5 ** (5 * DROP):.2g}"] * 2
    assert "<dt>McNemar floor</dt>" in section and "no document-level test can reach p &lt; 0.05" in section


def test_every_table_column_and_mark_has_a_legend_entry(run):
    from harness.report import legend
    from harness.results.metrics import METRICS
    from harness.report.run_tables import NESTED_CI, SENSITIVITY_COLUMNS

    labels = [m.label for m in METRICS] + [NESTED_CI, "fail", "missing", "tp", "fp", "fn", "[lo, hi]", "n/a",
                                           "(ceiling)", "p (docs)", "p floor", "p < alpha", "tolerance", "delta"]
    assert [label for label in labels if label not in legend.NOTES] == []
    assert {"tp", "fp", "fn"} <= set(SENSITIVITY_COLUMNS)
    html = (run["out"] / "report.html").read_text(encoding="utf-8")
    for section in ("leaderboard", "per-doc", "sensitivity", "pairwise"):
        assert '<dl class="legend">' in html.split(f'<section id="{section}">')[1].split("</section>")[0], section
    for name in ("leaderboard.md", "per_doc.md", "sensitivity.md"):
        assert "`tp` true positives" in (run["out"] / name).read_text(encoding="utf-8") or name == "leaderboard.md"
    assert "  w.R " in (run["out"] / "leaderboard.txt").read_text(encoding="utf-8")


# --------------------------------------------------------------------------- direct use and errors

def test_write_outputs_keeps_the_manifest(run, tmp_path):
    from harness.evaluate import evaluate
    from harness.predictions import read_predictions
    from harness.report.write import write_outputs
    from harness.scoring.scorer import ScoreSettings

    corpus = run["corpus"]
    predictions = [p for p in read_predictions(run["predictions"], corpus) if p.system == "beta"]
    evaluation = evaluate(corpus, predictions, ScoreSettings(bootstrap=0))
    manifest = {"harness_version": "test", "seeds": {"bootstrap": 1}}
    results = evaluation.final_results(manifest)
    path = write_outputs(tmp_path / "run", results, evaluation, corpus, predictions)
    assert path == tmp_path / "run" / "results.json"
    written = json.loads(path.read_text(encoding="utf-8"))
    assert written["manifest"] == manifest
    assert written["systems"]["beta"]["claims"]["f1_ci95"] is None
    board = (tmp_path / "run" / "leaderboard.md").read_text(encoding="utf-8")
    assert f"| beta | {written['systems']['beta']['claims']['precision']:.3f} |" in board
    assert "Run manifest" in (tmp_path / "run" / "report.html").read_text(encoding="utf-8")


def test_score_out_rejects_bad_predictions_with_one_line(run, tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"doc_id": "nope", "system": "x", "summary": "s"}\n', encoding="utf-8")
    proc = harness("score", "--predictions", bad, "--gold", run["gold"], "--out", tmp_path / "out", cwd=tmp_path)
    assert proc.returncode == 2
    assert len(proc.stderr.strip().splitlines()) == 1 and "bad.jsonl:1" in proc.stderr
    assert not (tmp_path / "out").exists()


@pytest.mark.slow
def test_sensitivity_rescores_with_the_runs_matcher(run, tmp_path):
    """A run scored with the hybrid matcher is rescored with it too, and its own threshold gets a row."""
    import importlib.util

    if importlib.util.find_spec("sentence_transformers") is None:
        pytest.skip("the embed extra is not installed")
    from harness.text import split_sentences

    rows = [{"doc_id": d.doc_id, "system": "sentences", "claims": split_sentences(d.story_text())[:12]}
            for d in run["corpus"].documents]
    predictions = write_jsonl(tmp_path / "sentences.jsonl", rows)
    results = score(predictions, tmp_path / "out", run["gold"], "--matcher", "hybrid")
    assert "|matcher:hybrid(" in results["signature"]
    sens = results["sensitivity"]
    assert 0.3 in sens["thresholds"] and 0.7 in sens["thresholds"] and sens["run_threshold"] in sens["thresholds"]
    at_run = next(r for r in sens["systems"]["sentences"] if r["threshold"] == sens["run_threshold"])
    claims = results["systems"]["sentences"]["claims"]
    assert (at_run["tp"], at_run["fp"], at_run["fn"]) == (claims["tp"], claims["fp"], claims["fn"])
