"""Hostile sizes and silently wrong input: YAML alias bombs, oversized lines and claim lists, repeated JSON keys,
NaN, gold that `gold validate` refuses, and runs in which a system produced nothing. Each is one line and exit 2
(or exit 3 for no usable output), fast; the library is tested in-process, the paths users run through the CLI."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from harness.cli import main

ROOT = Path(__file__).resolve().parent.parent
FAKE_MODEL = ROOT / "tests" / "tools" / "fake_model.py"
DOC0, DOC1 = "000_15d33b86afb41c0d", "001_52e54b49f32cf5ad"
BASELINE = ROOT / "results" / "baseline" / "results.json"


def one_line_error(capsys, argv: list[str]) -> str:
    assert main(argv) == 2
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("harness: error: ") and "Traceback" not in err, err
    return lines[0][len("harness: error: "):]


# --------------------------------------------------------------------------- YAML aliases


def alias_bomb(levels: int, width: int = 9) -> str:
    """`k: [&a0 [x, ...], &a1 [*a0, *a0, ...], ...]`: each level repeats the one below `width` times."""
    parts = ["&a0 [" + ", ".join(["x"] * width) + "]"]
    parts += [f"&a{i} [" + ", ".join([f"*a{i - 1}"] * width) + "]" for i in range(1, levels)]
    return "systems:\n  - name: lead-3\n    adapter: lead\n    options:\n      k: [" + ", ".join(parts) + "]\n"


@pytest.mark.parametrize("levels", [7, 9])
def test_a_yaml_alias_bomb_is_refused_at_once(tmp_path, monkeypatch, capsys, levels):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "bomb.yaml").write_text(alias_bomb(levels), encoding="utf-8")
    assert len((tmp_path / "bomb.yaml").read_bytes()) < 600
    started = time.monotonic()
    line = one_line_error(capsys, ["run", "--config", "bomb.yaml"])
    assert time.monotonic() - started < 5  # 7 levels printed 80 MB; 9 levels ran out of memory
    assert line == ("bomb.yaml:1: malformed YAML: aliases expand this document by more than 10,000 values (nested "
                    "aliases); write the values out instead")


def test_an_alias_inside_its_own_node_is_refused(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "loop.yaml").write_text("systems:\n  - &me {name: a, adapter: lead, options: {k: *me}}\n")
    assert one_line_error(capsys, ["run", "--config", "loop.yaml"]) == \
        "loop.yaml:1: malformed YAML: an alias refers to the node that contains it"


def test_a_large_value_in_an_error_message_is_cut_short(tmp_path, monkeypatch, capsys):
    """Under the alias budget (4 levels: 6,561 values), the wrong-type message still must not print them all."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "big.yaml").write_text(alias_bomb(4), encoding="utf-8")
    line = one_line_error(capsys, ["run", "--config", "big.yaml"])
    assert line.startswith("big.yaml:2: k: system lead-3: adapter lead: expected int, got list [['x', 'x', 'x', 'x', "
                           "...], [['x', ")
    assert len(line) < 200, line


def test_merge_keys_and_a_few_aliases_are_still_read(tmp_path):
    from harness.io import read_yaml

    path = tmp_path / "ok.yaml"
    path.write_text("base: &b {adapter: lead, options: {k: 3}}\nsystems:\n  - {<<: *b, name: a}\n  - {<<: *b, name: b}\n")
    systems = read_yaml(path)["systems"]
    assert [(s["name"], s["options"]["k"]) for s in systems] == [("a", 3), ("b", 3)]


# --------------------------------------------------------------------------- strict JSON


PREDICTION = {"doc_id": DOC0, "system": "s", "summary": "Russia's losses top 1 million."}


@pytest.mark.parametrize("line, expected", [
    ('{"doc_id": "%s", "system": "s", "summary": "a", "summary": "b"}' % DOC0,
     "p.jsonl:1: not valid JSON (duplicate key 'summary' (the last value would silently win))"),
    ('{"doc_id": "%s", "system": "s", "claims": [{"text": "a", "text": "b"}]}' % DOC0,
     "p.jsonl:1: not valid JSON (duplicate key 'text' (the last value would silently win))"),
    ('{"doc_id": "%s", "system": "s", "claims": [{"text": "a", "span": [NaN, 3]}]}' % DOC0,
     "p.jsonl:1: not valid JSON (NaN is not a JSON number)"),
], ids=["repeated summary", "repeated key in a claim", "NaN"])
def test_repeated_keys_and_nan_in_predictions_are_refused(tmp_path, monkeypatch, capsys, line, expected):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "p.jsonl").write_text(line + "\n", encoding="utf-8")
    assert one_line_error(capsys, ["score", "--predictions", "p.jsonl", "--bootstrap", "0"]) == expected


def test_repeated_keys_in_gold_jsonl_are_refused(corpus, tmp_path, monkeypatch, capsys):
    from harness import gold

    monkeypatch.chdir(tmp_path)
    lines = [json.dumps(gold.document_record(d)) for d in corpus.documents]
    lines[1] = lines[1][:-1] + ', "outlet": "Elsewhere"}'
    (tmp_path / "g.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert one_line_error(capsys, ["gold", "validate", "--gold", "g.jsonl"]) == \
        "g.jsonl:2: not valid JSON (duplicate key 'outlet' (the last value would silently win))"


@pytest.mark.parametrize("command", [["compare", "CANDIDATE", str(BASELINE)], ["history", "import", "CANDIDATE"]],
                         ids=["compare", "history import"])
def test_repeated_keys_in_a_results_file_are_refused(tmp_path, monkeypatch, capsys, command):
    monkeypatch.chdir(tmp_path)
    text = BASELINE.read_text(encoding="utf-8")
    doubled = text.replace('"n_documents": 5,', '"n_documents": 5,\n  "n_documents": 6,', 1)
    assert doubled != text
    (tmp_path / "r.json").write_text(doubled, encoding="utf-8")
    argv = [part.replace("CANDIDATE", "r.json") for part in command] + (["--db", "h.sqlite"]
                                                                         if command[0] == "history" else [])
    assert one_line_error(capsys, argv) == \
        "r.json: not valid JSON (duplicate key 'n_documents' (the last value would silently win))"
    assert not (tmp_path / "h.sqlite").exists()


@pytest.mark.parametrize("value", ["nan", "inf", "-0.5"])
def test_history_tolerance_must_be_a_finite_number(tmp_path, monkeypatch, capsys, value):
    monkeypatch.chdir(tmp_path)
    assert main(["history", "import", str(BASELINE), "--db", "h.sqlite"]) == 0
    capsys.readouterr()
    line = one_line_error(capsys, ["history", "--db", "h.sqlite", "--tolerance", value])
    assert line == f"--tolerance: must be a finite number >= 0, got {float(value)}"


# --------------------------------------------------------------------------- sizes


def test_a_prediction_with_too_many_claims_is_refused(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "p.jsonl").write_text(json.dumps({**PREDICTION, "claims": ["a claim"] * 1001}) + "\n")
    assert one_line_error(capsys, ["score", "--predictions", "p.jsonl"]) == \
        "p.jsonl:1: claims: 1,001 claims; the limit is 1,000 per document"


def test_a_line_too_long_to_be_a_prediction_is_refused_before_it_is_parsed(tmp_path, monkeypatch, capsys):
    """1.2 million claims on one 55 MB line took 5.4 GB; a line over 16 MB is refused as it is read."""
    monkeypatch.chdir(tmp_path)
    line = json.dumps({**PREDICTION, "claims": ["x" * 12] * 1_200_000})
    assert len(line) > 16_000_000
    (tmp_path / "p.jsonl").write_text(json.dumps(PREDICTION) + "\n" + line + "\n")
    assert one_line_error(capsys, ["score", "--predictions", "p.jsonl"]) == \
        "p.jsonl:2: line longer than 16,000,000 bytes (the limit for one line)"


def test_a_summary_at_the_size_limit_is_scored_in_seconds(corpus):
    """200,000 characters on one line took 145 s (the sentence splitter's time grows faster than the square of
    a line's length); long lines are now split in pieces, so the time grows with the length."""
    from harness.records import Prediction
    from harness.scoring.scorer import Scorer, ScoreSettings

    doc = corpus.documents[0]
    story = doc.story_text().replace("\n", " ")
    summary = (story * (200_000 // len(story) + 1))[:200_000]
    scorer = Scorer(corpus, ScoreSettings(bootstrap=0))
    started = time.monotonic()
    score = scorer.score(Prediction(doc.doc_id, "long", summary, None))
    assert time.monotonic() - started < 40  # measured 9 s on a busy 2-core machine
    assert score.summary.rouge["rouge1"].recall > 0.9  # it contains the whole story many times over


def test_text_up_to_ten_thousand_characters_is_split_as_pysbd_splits_it():
    import pysbd

    from harness.text import LONG_TEXT_CHARS, split_sentences

    sentences = ["Gov. Gladkov said 3 people died on Feb. 24 in the U.K. strike.", "Officials disagreed!",
                 "Was it 10.5 million?", "\u201cNo,\u201d she said."]
    text = " ".join(sentences * 200)[:LONG_TEXT_CHARS]
    expected = [s.strip() for s in pysbd.Segmenter(language="en", clean=False).segment(text) if s.strip()]
    assert split_sentences(text) == expected
    long = " ".join(sentences * 2000)
    pieces = split_sentences(long)
    assert "".join(pieces).replace(" ", "") == long.replace(" ", "")  # nothing lost or repeated
    assert max(len(p) for p in pieces) < 200


# --------------------------------------------------------------------------- gold refused by validate


def _span_outside(g: Path) -> None:
    _edit(g, "  spans: [[147, 270], [0, 77]]", "  spans: [[147, 270], [0, 99999]]")


def _region_outside(g: Path) -> None:
    _edit(g, "- {start: 7826, end: 7896, label: copyright}", "- {start: 7826, end: 99999, label: copyright}")


def _duplicate_claim_id(g: Path) -> None:
    _edit(g, "- id: c002\n", "- id: c001\n")


def _bad_salience(g: Path) -> None:
    _edit(g, "  salience: core\n", "  salience: crucial\n")


def _nan_number(g: Path) -> None:
    _edit(g, "  - {text: 1 million, value: 1000000, unit: casualty}", "  - {text: 1 million, value: .nan, unit: casualty}")


def _edit(gold_folder: Path, old: str, new: str) -> None:
    path = gold_folder / "annotations" / f"{DOC0}.yaml"
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


BAD_GOLD = [
    ("span outside the text", _span_outside, ":16: 000_15d33b86afb41c0d claim c001: spans: span 1 [0, 99999) "
                                             "outside the text (length 7896) or reversed"),
    ("region outside the text", _region_outside, ":14: 000_15d33b86afb41c0d regions[8]: start: range [7826, 99999) "
                                                 "outside the text (length 7896)"),
    ("duplicate claim id", _duplicate_claim_id, ":28: 000_15d33b86afb41c0d claim c001: id: duplicate claim id"),
    ("unknown salience", _bad_salience, ":16: 000_15d33b86afb41c0d claim c001: salience: must be one of core, major, "
                                        "minor, got 'crucial'"),
    ("NaN number", _nan_number, ":16: 000_15d33b86afb41c0d claim c001: numbers: number '1 million' normalises to "
                                "1e+06, not nan"),
]


@pytest.mark.parametrize("name, damage, expected", BAD_GOLD, ids=[c[0] for c in BAD_GOLD])
def test_score_refuses_gold_that_gold_validate_refuses(gold_copy, tmp_path, monkeypatch, capsys, name, damage,
                                                        expected):
    monkeypatch.chdir(tmp_path)
    damage(gold_copy)
    assert main(["gold", "validate", "--gold", str(gold_copy)]) == 2
    validate_lines = capsys.readouterr().err.splitlines()
    (tmp_path / "p.jsonl").write_text(json.dumps(PREDICTION) + "\n")
    line = one_line_error(capsys, ["score", "--predictions", "p.jsonl", "--gold", str(gold_copy), "--out", "out"])
    annotation = gold_copy / "annotations" / f"{DOC0}.yaml"
    assert line.startswith(f"{annotation}{expected}"), line
    assert line.split("; `harness gold validate", 1)[0].split(" (and ")[0] in validate_lines  # the same rule
    assert not (tmp_path / "out").exists()


def test_run_refuses_gold_that_gold_validate_refuses(gold_copy, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    _duplicate_claim_id(gold_copy)
    (tmp_path / "c.yaml").write_text(json.dumps({"corpus": {"kind": "gold", "path": str(gold_copy)},
                                                 "systems": [{"name": "lead-3", "adapter": "lead"}]}))
    line = one_line_error(capsys, ["run", "--config", "c.yaml", "--no-progress"])
    assert "claim c001: id: duplicate claim id" in line and not (tmp_path / "results").exists()


# --------------------------------------------------------------------------- no usable output: exit 3


def test_a_run_where_every_document_failed_exits_3(corpus, tmp_path: Path):
    every = [f"--fail={d.doc_id}" for d in corpus.documents]
    config = {"tasks": ["summary"], "scoring": {"bootstrap": 0}, "systems": [
        {"name": "broken", "adapter": "command", "options": {"argv": [sys.executable, str(FAKE_MODEL), *every]}},
        {"name": "lead-3", "adapter": "lead"}]}
    (tmp_path / "c.yaml").write_text(json.dumps(config), encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "harness.cli", "run", "--config", "c.yaml", "--no-progress"],
                          capture_output=True, text=True, cwd=tmp_path, timeout=300)
    assert done.returncode == 3, done.stderr
    assert ("no usable output: broken failed on every document, so its scores measure nothing (exit 3)"
            in done.stdout.splitlines())
    results = json.loads((tmp_path / "results" / "c" / "results.json").read_text(encoding="utf-8"))
    assert results["manifest"]["failures"]["no_usable_output"] == ["broken"]  # the outputs are written all the same


def test_partial_failures_and_a_partial_system_exit_0(tmp_path: Path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    rows = [{"doc_id": DOC0, "system": "half", "summary": "", "failure": "summary: timed out"},
            {"doc_id": DOC1, "system": "half", "summary": "Russia's losses top 1 million."}]
    (tmp_path / "p.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    assert main(["score", "--predictions", "p.jsonl", "--bootstrap", "0"]) == 0
    rows[1] = {"doc_id": DOC1, "system": "half", "summary": "", "failure": "summary: HTTP 500"}
    (tmp_path / "p.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    capsys.readouterr()
    assert main(["score", "--predictions", "p.jsonl", "--bootstrap", "0", "--json"]) == 3
    captured = capsys.readouterr()
    assert json.loads(captured.out)["systems"]["half"]["failures"] == 2  # stdout stays the JSON
    assert "no usable output: half failed on every document" in captured.err


# --------------------------------------------------------------------------- the report at scale


def test_a_large_corpus_gets_a_small_report_and_pages(corpus, tmp_path, monkeypatch, capsys):
    from harness import gold
    from harness.report.html import PAGE_DOCUMENTS

    monkeypatch.chdir(tmp_path)
    n = 2 * PAGE_DOCUMENTS + 7
    records = [{**gold.document_record(corpus.documents[i % 5]), "doc_id": f"d{i:04d}"} for i in range(n)]
    (tmp_path / "g.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    rows = [{"doc_id": r["doc_id"], "system": "sys<b>1</b>", "summary": r["summaries"][1]["text"],
             **({"failure": "summary: <img src=x> timed out"} if i % 40 == 0 else {})} for i, r in enumerate(records)]
    (tmp_path / "p.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    assert main(["score", "--predictions", "p.jsonl", "--gold", "g.jsonl", "--bootstrap", "0", "--out", "out",
                 "--db", "h.sqlite"]) == 0
    out = tmp_path / "out"
    report = (out / "report.html").read_text(encoding="utf-8")
    pages = sorted((out / "report").glob("documents-*.html"))
    assert [p.name for p in pages] == ["documents-0001.html", "documents-0002.html", "documents-0003.html"]
    assert len(report) < 150_000 and 'id="leaderboard"' in report and "3 pages of up to" in report
    assert "sys&lt;b&gt;1&lt;/b&gt;: 3 of 107 documents" in report  # the failures, first
    for page in pages:
        assert f'href="report/{page.name}"' in report
    seen = []
    for number, page in enumerate(pages, start=1):
        html = page.read_text(encoding="utf-8")
        assert 'href="../report.html"' in html and "<script" not in html and "<img src=x>" not in html
        ids = [part.split('"', 1)[0] for part in html.split('id="doc-')[1:]]
        assert len(ids) == (PAGE_DOCUMENTS if number < 3 else 7)
        seen += ids
    assert seen == [r["doc_id"] for r in records]  # every document on exactly one page, in order
    first = out / "report" / "documents-0001.html"
    assert f'href="report/documents-0001.html#doc-d0000"' in report and 'id="doc-d0000"' in first.read_text()
    # A rerun on a corpus small enough for one file removes the earlier run's pages.
    shutil.copy(ROOT / "results" / "baseline" / "predictions.jsonl", tmp_path / "small.jsonl")
    assert main(["score", "--predictions", "small.jsonl", "--bootstrap", "0", "--out", "out",
                 "--db", "h.sqlite"]) == 0
    assert not list((out / "report").glob("*.html")) and 'id="doc-' in (out / "report.html").read_text()
