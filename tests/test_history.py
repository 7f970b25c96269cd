"""Release history: recording, import round trip, series kept apart, regressions at the right run, migrations.

Results files come from the real scorer on a small two-document gold whose claim scores can be
worked out by hand: predicting k gold claims verbatim and nothing else gives P = 1, R = k / 4 per
document, so F1 = 2k / (4 + k); over both documents (8 claims) F1 = 2k / (8 + k).
"""

from __future__ import annotations

import json
import os
import re
import sqlite3

import pytest
from rouge_score import rouge_scorer

from harness import gold, history
from harness.errors import UserError
from harness.evaluate import evaluate
from harness.io import write_json
from harness.records import PredictedClaim, Prediction
from harness.results.reader import read_results
from harness.scoring.scorer import Scorer, ScoreSettings
from tests.conftest import run_cli

DOCS = {
    "doc_a": (
        ["The city council approved a budget of 12 million euros on Monday.",
         "Mayor Anna Berg said the money will repair 40 bridges.",
         "Opposition leader Tom Lind called the plan too expensive.",
         "Work on the first bridge starts in March."],
        "The council approved a 12 million euro budget to repair 40 bridges, which the opposition called too "
        "expensive."),
    "doc_b": (
        ["Heavy rain flooded 300 homes in the northern valley overnight.",
         "Rescue teams evacuated 1,200 residents by boat.",
         "The weather service expects more rain until Friday.",
         "Two schools will stay closed this week."],
        "Rain flooded 300 homes and rescue teams evacuated 1,200 residents; more rain is expected until Friday."),
}
DAMAGED_B = "Rain flooded 300 homes."
T0 = 1_750_000_000  # file times one minute apart give the runs their order


def f1_of(k: int, total: int) -> float:
    return 2 * k / (total + k)


def write_gold(path, variant: str = "") -> None:
    lines = []
    for doc_id, (claims, summary) in DOCS.items():
        text = " ".join(claims)
        if variant and doc_id == "doc_b":
            claims = claims[:3] + [claims[3] + variant]
            text = " ".join(claims)
        lines.append(json.dumps({
            "doc_id": doc_id, "text": text, "regions": [{"start": 0, "end": len(text), "label": "body"}],
            "claims": [{"id": f"c{i}", "text": t, "spans": [[0, 10]]} for i, t in enumerate(claims, 1)],
            "summaries": [{"id": "short", "length": "headline", "text": summary}]}))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


@pytest.fixture(scope="module")
def golds(tmp_path_factory):
    """Two corpora that differ in one claim's wording, so their hashes differ."""
    root = tmp_path_factory.mktemp("gold")
    write_gold(root / "a.jsonl")
    write_gold(root / "b.jsonl", variant=" Parents were told on Sunday.")
    corpora = {name: gold.load(root / f"{name}.jsonl")[0] for name in ("a", "b")}
    assert corpora["a"].sha256 != corpora["b"].sha256
    return {name: (c, Scorer(c, ScoreSettings(bootstrap=20))) for name, c in corpora.items()}


def predictions(corpus, keep: dict[str, int], system: str = "model", damage_b: bool = False) -> list[Prediction]:
    """The first keep[doc] gold claims verbatim, and the gold summary (doc_b's cut short when damaged)."""
    out = []
    for doc in corpus.documents:
        summary = DAMAGED_B if damage_b and doc.doc_id == "doc_b" else doc.summaries[0].text
        claims = tuple(PredictedClaim(c.text) for c in doc.claims[:keep[doc.doc_id]])
        out.append(Prediction(doc.doc_id, system, summary, claims))
    return out


def write_results(path, golds, keep: dict[str, int], *, tag: str | None = None, minute: int = 0,
                  gold_name: str = "a", damage_b: bool = False) -> dict:
    """Score for real and write results.json as `score --out` does (tag inside), dated T0 + minute."""
    corpus, scorer = golds[gold_name]
    results = evaluate(corpus, predictions(corpus, keep, damage_b=damage_b), scorer.settings, scorer).results
    if tag:
        results["tag"] = tag
    write_json(path, results)
    os.utime(path, (T0 + 60 * minute, T0 + 60 * minute))
    return results


def all_claims(n_a: int = 4, n_b: int = 4) -> dict[str, int]:
    return {"doc_a": n_a, "doc_b": n_b}


def cli(capsys, *args: str) -> tuple[int, str, str]:
    """The real command line, in this process (faster than a subprocess for the many small calls)."""
    from harness.cli import main

    capsys.readouterr()
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def rows(db, sql, params=()):
    conn = sqlite3.connect(db)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


# --------------------------------------------------------------------------- recording

def test_record_run_stores_every_value_in_one_run(tmp_path, golds):
    db = tmp_path / "h.sqlite"
    path = tmp_path / "r1" / "results.json"
    results = write_results(path, golds, all_claims(4, 2), damage_b=True)
    run_id = history.record_run(db, path, tag="model-1.0")

    (tag, gold_sha, signature, stored_json, version), = rows(
        db, "SELECT tag, gold_sha256, signature, results_json, harness_version FROM runs WHERE id = ?", (run_id,))
    assert tag == "model-1.0"
    assert gold_sha == results["gold_sha256"] and signature == results["signature"]
    assert json.loads(stored_json) == json.loads(path.read_text())
    assert version == results["signature"].split("|")[0].split(":")[1]

    def value(metric, doc=""):
        (v,), = rows(db, "SELECT value FROM metric_values WHERE run_id = ? AND system = 'model' AND metric = ?"
                         " AND doc_id = ?", (run_id, metric, doc))
        return v

    # By hand: 6 of 8 claims predicted verbatim, no false positives.
    assert value("claims.f1") == pytest.approx(f1_of(6, 8))
    assert value("claims.precision") == pytest.approx(1.0)
    assert value("claims.recall") == pytest.approx(6 / 8)
    assert value("claims.tp") == 6 and value("claims.fn") == 2
    assert value("claims.f1", "doc_a") == pytest.approx(1.0)
    assert value("claims.f1", "doc_b") == pytest.approx(f1_of(2, 4))
    # ROUGE-L per document from rouge-score itself; the system value is their mean.
    rouge = rouge_scorer.RougeScorer(["rougeL"], use_stemmer=True)
    want_b = rouge.score(DOCS["doc_b"][1], DAMAGED_B)["rougeL"]
    assert value("summary.rougeL", "doc_a") == pytest.approx(1.0)
    assert value("summary.rougeL", "doc_b") == pytest.approx(want_b.fmeasure)
    assert value("summary.rougeL.recall", "doc_b") == pytest.approx(want_b.recall)
    assert value("summary.rougeL") == pytest.approx((1.0 + want_b.fmeasure) / 2)
    lo, hi = value("claims.f1.ci95.lo"), value("claims.f1.ci95.hi")
    assert lo <= hi
    assert value("missing") == 0 and value("failures") == 0

    # The same content again is the same run: nothing duplicated.
    before = rows(db, "SELECT COUNT(*) FROM metric_values")
    assert history.record_run(db, path) == run_id
    assert rows(db, "SELECT COUNT(*) FROM runs") == [(1,)]
    assert rows(db, "SELECT COUNT(*) FROM metric_values") == before


def test_flatten_names_follow_the_json():
    results = {"signature": "s", "gold_sha256": "g", "n_documents": 1, "systems": {"m": {
        "summary": {"rougeL": {"precision": 0.5, "recall": 0.25, "fmeasure": 1 / 3, "ci95": [0.1, 0.6]},
                    "claim_coverage": 0.75, "numeric_faithfulness": None},
        "claims": None, "failures": 1, "missing": ["d2"],
        "per_doc": {"d1": {"claims": {"f1": 0.5, "matched": ["c1"]}, "failure": "timeout"}}}}}
    flat = {(s, d, m): v for s, d, m, v in history.flatten(results)}
    assert flat == {
        ("m", "", "summary.rougeL"): 1 / 3, ("m", "", "summary.rougeL.precision"): 0.5,
        ("m", "", "summary.rougeL.recall"): 0.25, ("m", "", "summary.rougeL.fmeasure"): 1 / 3,
        ("m", "", "summary.rougeL.ci95.lo"): 0.1, ("m", "", "summary.rougeL.ci95.hi"): 0.6,
        ("m", "", "summary.claim_coverage"): 0.75, ("m", "", "failures"): 1.0, ("m", "", "missing"): 1.0,
        ("m", "d1", "claims.f1"): 0.5,
    }


# --------------------------------------------------------------------------- import

def test_import_rebuilds_the_database_and_is_idempotent(tmp_path, golds, capsys):
    recorded = tmp_path / "recorded.sqlite"
    for i, (k, tag) in enumerate([(8, "v1"), (6, "v2"), (7, "v3")]):
        path = tmp_path / "results" / f"run{i}" / "results.json"
        write_results(path, golds, all_claims(4, k - 4), tag=tag, minute=i)
        history.record_run(recorded, path, tag)

    rebuilt = tmp_path / "rebuilt.sqlite"
    first = run_cli("history", "import", "--db", str(rebuilt), str(tmp_path / "results" / "**" / "results.json"))
    assert first.returncode == 0, first.stderr
    assert "3 new run(s), 0 already recorded" in first.stdout
    code, out, err = cli(capsys, "history", "import", "--db", str(rebuilt), str(tmp_path / "results"))
    assert code == 0, err
    assert "0 new run(s), 3 already recorded" in out

    runs_sql = ("SELECT content_sha256, run_time, tag, git_commit, harness_version, gold_sha256, signature,"
                " config_hash, results_json FROM runs ORDER BY run_time, id")
    values_sql = ("SELECT r.content_sha256, m.system, m.doc_id, m.metric, m.value FROM metric_values m"
                  " JOIN runs r ON r.id = m.run_id ORDER BY 1, 2, 3, 4")
    assert rows(rebuilt, runs_sql) == rows(recorded, runs_sql)
    assert rows(rebuilt, values_sql) == rows(recorded, values_sql)
    assert [r[2] for r in rows(rebuilt, runs_sql)] == ["v1", "v2", "v3"]
    # Importing into the database that recorded them adds nothing either.
    assert all(not item.new for item in history.import_results(recorded, [tmp_path / "results"]))
    assert rows(recorded, "SELECT COUNT(*) FROM runs") == [(3,)]


def test_import_checks_every_file_before_writing(tmp_path, golds, capsys):
    good = tmp_path / "good" / "results.json"
    write_results(good, golds, all_claims())
    bad = tmp_path / "bad" / "results.json"
    bad.parent.mkdir()
    bad.write_text(json.dumps({"signature": "s", "systems": {}}))
    db = tmp_path / "h.sqlite"
    code, _, err = cli(capsys, "history", "import", "--db", str(db), str(good), str(bad))
    assert code == 2
    assert err.strip().splitlines() == [f"harness: error: {bad}: gold_sha256: missing or not a string "
                                                  "(is this a harness results.json?)"]
    assert not db.exists() or rows(db, "SELECT COUNT(*) FROM runs") == [(0,)]


# --------------------------------------------------------------------------- series and regressions

def test_runs_on_other_gold_form_their_own_series(tmp_path, golds, capsys):
    db = tmp_path / "h.sqlite"
    plan = [("v1", "a", 8), ("v2", "a", 6), ("v3", "b", 8), ("v4", "a", 7)]
    for i, (tag, gold_name, k) in enumerate(plan):
        path = tmp_path / tag / "results.json"
        write_results(path, golds, all_claims(4, k - 4), tag=tag, minute=i, gold_name=gold_name)
        history.record_run(db, path)

    series = history.history(db, "claims.f1")
    by_gold = {s.gold_sha256: s for s in series}
    sha_a, sha_b = golds["a"][0].sha256, golds["b"][0].sha256
    assert set(by_gold) == {sha_a, sha_b}
    a, b = by_gold[sha_a], by_gold[sha_b]
    assert [p.tag for p in a.points] == ["v1", "v2", "v4"]
    assert [p.value for p in a.points] == pytest.approx([1.0, f1_of(6, 8), f1_of(7, 8)])
    # v4 is compared with v2 (same gold), never with v3 in between.
    assert a.points[2].change == pytest.approx(f1_of(7, 8) - f1_of(6, 8))
    assert [p.tag for p in b.points] == ["v3"] and b.points[0].change is None

    plot = tmp_path / "trend.svg"
    code, out, err = cli(capsys, "history", "--db", str(db), "--plot", str(plot))
    assert code == 0, err
    assert out.count("claims.f1 · system model") == 2
    svg = plot.read_text()
    assert svg.lstrip().startswith("<?xml") and "</svg>" in svg
    assert f"gold {sha_a[:12]}" in svg and f"gold {sha_b[:12]}" in svg


def test_regression_is_marked_at_the_run_that_dropped(tmp_path, golds, capsys):
    db = tmp_path / "h.sqlite"
    for i, (tag, k) in enumerate([("v1", 8), ("v2", 8), ("v3", 6), ("v4", 7)]):
        path = tmp_path / tag / "results.json"
        write_results(path, golds, all_claims(4, k - 4), tag=tag, minute=i)  # v1, v2 differ only in tag
        history.record_run(db, path, tag)

    code, out, err = cli(capsys, "history", "--db", str(db), "--metric", "claims.f1", "--system", "model")
    assert code == 0, err
    lines = {line.split()[3]: line for line in out.splitlines() if " v" in line and line[:4].strip().isdigit()}
    assert "REGRESSION" in lines["v3"]
    assert all("REGRESSION" not in lines[t] for t in ("v1", "v2", "v4"))
    assert f"{f1_of(6, 8) - 1.0:+.4f}" in lines["v3"]

    (s,) = json.loads(cli(capsys, "history", "--db", str(db), "--json")[1])
    assert [p["regression"] for p in s["points"]] == [False, False, True, False]
    assert [p["change"] for p in s["points"]][1:] == pytest.approx([0.0, f1_of(6, 8) - 1.0, f1_of(7, 8) - f1_of(6, 8)])

    # A looser tolerance flags nothing; --last keeps the change from the run before the window.
    (loose,) = history.history(db, tolerance=0.2)
    assert not any(p.regression for p in loose.points)
    (last,) = history.history(db, last=2)
    assert [p.tag for p in last.points] == ["v3", "v4"] and last.points[0].regression

    # One document's series: doc_b had 4, 4, 2, 3 of its 4 claims; doc_a never changed.
    (doc_b,) = history.history(db, "claims.f1", doc_id="doc_b")
    assert [p.value for p in doc_b.points] == pytest.approx([1.0, 1.0, f1_of(2, 4), f1_of(3, 4)])
    assert [p.regression for p in doc_b.points] == [False, False, True, False]
    (doc_a,) = history.history(db, "claims.f1", doc_id="doc_a")
    assert not any(p.regression for p in doc_a.points)
    code, _, err = cli(capsys, "history", "--db", str(db), "--doc", "doc_z")
    assert code == 2 and "--doc: no document 'doc_z' recorded (recorded: doc_a, doc_b)" in err


def _minimal(f1: float, duplicate_rate: float, predictions: int, minute: int) -> dict:
    return {"signature": "sig", "gold_sha256": "g" * 64, "n_documents": 1,
            "manifest": {"started_at": f"2025-01-01T00:{minute:02d}:00+00:00"},
            "systems": {"m": {"summary": None, "per_doc": {}, "failures": 0, "missing": [],
                              "claims": {"f1": f1, "duplicate_rate": duplicate_rate, "predictions": predictions}}}}


def test_tolerance_boundary_and_which_way_is_worse(tmp_path):
    conn = history.connect(tmp_path / "h.sqlite")
    try:
        for minute, (f1, dup, n) in enumerate([(0.80, 0.100, 10), (0.79, 0.125, 20), (0.775, 0.105, 5)]):
            history.store(conn, _minimal(f1, dup, n, minute))
        flags = {m: [p.regression for p in history.trend(conn, m)[0].points]
                 for m in ("claims.f1", "claims.duplicate_rate", "claims.predictions")}
    finally:
        conn.close()
    # f1: a drop of exactly 0.01 is within tolerance; 0.015 is not.
    assert flags["claims.f1"] == [False, False, True]
    # duplicate rate: lower is better, so the rise of 0.025 is the regression.
    assert flags["claims.duplicate_rate"] == [False, True, False]
    assert flags["claims.predictions"] == [False, False, False]


# --------------------------------------------------------------------------- concurrency

@pytest.fixture
def many_results(tmp_path, golds):
    """24 distinct results files (one real scoring, told apart by their tag)."""
    corpus, scorer = golds["a"]
    base = evaluate(corpus, predictions(corpus, all_claims(4, 3)), scorer.settings, scorer).results
    paths = []
    for i in range(24):
        path = tmp_path / "runs" / f"{i:02d}" / "results.json"
        write_json(path, {**base, "tag": f"t{i:02d}"})
        paths.append(path)
    return base, paths


WRITER = """
import sys, time
from pathlib import Path
from harness.history import record_run

db, ready, go, *paths = sys.argv[1:]
Path(ready).touch()
while not Path(go).exists():
    time.sleep(0.005)
for path in paths:
    record_run(Path(db), Path(path))
"""


def test_two_processes_recording_at_once(tmp_path, many_results):
    import subprocess
    import sys
    import time

    base, paths = many_results
    db = tmp_path / "fresh" / "h.sqlite"  # both processes also race to create and migrate it
    go = tmp_path / "go"
    ready = [tmp_path / "ready0", tmp_path / "ready1"]
    procs = [subprocess.Popen([sys.executable, "-c", WRITER, str(db), str(flag), str(go), *map(str, half)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for flag, half in zip(ready, (paths[:12], paths[12:]))]
    deadline = time.monotonic() + 60
    while not all(f.exists() for f in ready) and time.monotonic() < deadline:
        time.sleep(0.01)
    go.touch()  # both start writing at the same moment
    outs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outs
    assert rows(db, "PRAGMA integrity_check") == [("ok",)]
    assert rows(db, "PRAGMA journal_mode") == [("wal",)]
    assert sorted(r[0] for r in rows(db, "SELECT tag FROM runs")) == [f"t{i:02d}" for i in range(24)]
    per_run = rows(db, "SELECT COUNT(*) FROM metric_values GROUP BY run_id")
    assert per_run == [(len(history.flatten(base)),)] * 24


def test_two_threads_writing_the_same_runs_at_once_do_not_duplicate(tmp_path, many_results):
    import threading

    _, paths = many_results
    db = tmp_path / "h.sqlite"
    history.connect(db).close()
    start = threading.Barrier(2)
    errors: list[BaseException] = []

    def writer(order):
        conn = history.connect(db)  # each thread its own connection
        try:
            start.wait()
            for path in order:
                text, results = read_results(path)
                history.store(conn, results, text, path)
        except BaseException as err:  # noqa: BLE001 - reported by the assertion below
            errors.append(err)
        finally:
            conn.close()

    threads = [threading.Thread(target=writer, args=(order,)) for order in (paths, paths[::-1])]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors
    assert rows(db, "SELECT COUNT(*), COUNT(DISTINCT content_sha256) FROM runs") == [(24, 24)]
    assert rows(db, "PRAGMA integrity_check") == [("ok",)]


# --------------------------------------------------------------------------- schema versions

def test_a_version_0_database_is_migrated(tmp_path):
    db = tmp_path / "h.sqlite"
    conn = sqlite3.connect(db)
    conn.execute("CREATE TABLE notes (text TEXT)")
    conn.execute("INSERT INTO notes VALUES ('kept')")
    conn.commit()
    conn.close()
    history.connect(db).close()
    assert rows(db, "PRAGMA user_version") == [(history.SCHEMA_VERSION,)]
    assert rows(db, "SELECT text FROM notes") == [("kept",)]
    assert {"runs", "metric_values"} <= {r[0] for r in rows(db, "SELECT name FROM sqlite_master")}


def test_a_version_1_database_keeps_its_runs_when_migrated(tmp_path):
    db = tmp_path / "h.sqlite"
    conn = history.connect(db, target=1)
    run_id, _ = history.store(conn, _minimal(0.5, 0.0, 3, 0))
    # the interval names a version 1 or 2 database holds
    conn.execute("INSERT INTO metric_values VALUES (?, 'model', '', 'claims.f1_ci95.lo', 0.25),"
                 " (?, 'model', '', 'claims.f1_ci95_docs_then_claims.hi', 0.75)", (run_id, run_id))
    conn.close()
    assert rows(db, "PRAGMA user_version") == [(1,)]
    assert not rows(db, "SELECT name FROM sqlite_master WHERE type = 'index' AND name = 'metric_values_by_metric'")

    (s,) = history.history(db, "claims.f1")  # opening migrates
    assert [p.value for p in s.points] == [0.5]
    assert rows(db, "PRAGMA user_version") == [(history.SCHEMA_VERSION,)] == [(3,)]
    assert rows(db, "SELECT name FROM sqlite_master WHERE type = 'index' AND name = 'metric_values_by_metric'")
    assert rows(db, "SELECT metric, value FROM metric_values WHERE metric LIKE '%ci95%' ORDER BY metric") == [
        ("claims.f1.ci95.lo", 0.25), ("claims.f1.ci95_docs_then_claims.hi", 0.75)]


def test_a_newer_or_foreign_database_is_one_line_error(tmp_path, capsys):
    newer = tmp_path / "newer.sqlite"
    conn = sqlite3.connect(newer)
    conn.execute("PRAGMA user_version = 99")
    conn.close()
    code, _, err = cli(capsys, "history", "--db", str(newer))
    assert code == 2
    assert err.strip() == (f"harness: error: history database schema v99 is newer than this harness "
                                     f"understands (v{history.SCHEMA_VERSION}); upgrade harness")

    garbage = tmp_path / "garbage.sqlite"
    garbage.write_bytes(b"this is not a database at all, not even close" * 100)
    code, _, err = cli(capsys, "history", "--db", str(garbage))
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert "not a usable history database" in err

    code, _, err = cli(capsys, "history", "--db", str(tmp_path / "absent.sqlite"))
    assert code == 2 and "no history database" in err
    assert not (tmp_path / "absent.sqlite").exists()


def test_unknown_metric_or_plot_format_is_a_user_error(tmp_path, capsys):
    db = tmp_path / "h.sqlite"
    conn = history.connect(db)
    history.store(conn, _minimal(0.5, 0.0, 3, 0))
    conn.close()
    code, _, err = cli(capsys, "history", "--db", str(db), "--metric", "claims.f2")
    assert code == 2
    assert "--metric: no metric 'claims.f2' recorded (recorded: claims.duplicate_rate, claims.f1" in err
    code, _, err = cli(capsys, "history", "--db", str(db), "--plot", str(tmp_path / "trend.pdf"))
    assert code == 2 and "--plot: the chart is written as .png or .svg" in err


# --------------------------------------------------------------------------- baselines for compare

def test_baseline_for_tag_and_previous(tmp_path, golds):
    db = tmp_path / "h.sqlite"
    stored = {}
    plan = [("v1", "a", 8), ("v2", "a", 6), ("cand", "a", 7), ("v5", "a", 5), ("other", "b", 8)]
    for i, (tag, gold_name, k) in enumerate(plan):
        path = tmp_path / tag / "results.json"
        stored[tag] = write_results(path, golds, all_claims(4, k - 4), tag=tag, minute=i, gold_name=gold_name)
        if tag != "cand":
            history.record_run(db, path)
    candidate = stored["cand"]

    assert history.baseline_for(db, candidate, tag="v1") == stored["v1"]
    # Not recorded yet: the latest comparable run is the baseline.
    assert history.baseline_for(db, candidate, previous=True) == stored["v5"]
    # Recorded: the run just before it, not one recorded later.
    history.record_run(db, tmp_path / "cand" / "results.json")
    assert history.baseline_for(db, candidate, previous=True) == stored["v2"]

    with pytest.raises(UserError, match="other gold or another scoring signature"):
        history.baseline_for(db, candidate, tag="other")
    with pytest.raises(UserError, match="no run tagged 'v9'"):
        history.baseline_for(db, candidate, tag="v9")
    with pytest.raises(UserError, match="exactly one"):
        history.baseline_for(db, candidate, tag="v1", previous=True)
    with pytest.raises(UserError, match="no earlier run"):
        history.baseline_for(db, stored["v1"], previous=True)


# --------------------------------------------------------------------------- chart for the report

def test_trend_svg_for_the_report(tmp_path, golds):
    from harness.history_plot import trend_svg

    db = tmp_path / "h.sqlite"
    path = tmp_path / "v1" / "results.json"
    first = write_results(path, golds, all_claims(), tag="v1")
    assert history.report_trend(db, first) == [] and not db.exists()
    assert trend_svg([]) is None
    history.record_run(db, path)
    assert trend_svg(history.report_trend(db, first)) is None  # one run, already recorded, is no trend

    current = write_results(tmp_path / "v2" / "results.json", golds, all_claims(4, 1), tag="v2", minute=1)
    svg = trend_svg(history.report_trend(db, current, "claims.f1"))
    assert svg.startswith("<svg") and svg.rstrip().endswith("</svg>")
    texts = re.findall(r"<text[^>]*>([^<]*)</text>", svg)
    assert ["v1", "v2"] == texts[:2]  # the recorded run, then the current one, on the x axis
    assert "model: claims.f1" in texts
    assert "regression (&gt; 0.01)" in texts  # 1.0 -> F1(5 of 8) is a drop, so the legend has the marker
    assert trend_svg(history.report_trend(db, current)) == svg  # deterministic: the same bytes each time
    assert rows(db, "SELECT COUNT(*) FROM runs") == [(1,)]  # the current run is shown, not recorded


def test_compare_against_tag_and_previous(tmp_path, golds, capsys):
    db = tmp_path / "h.sqlite"
    for i, (tag, k) in enumerate([("v1", 8), ("v2", 6)]):
        path = tmp_path / tag / "results.json"
        write_results(path, golds, all_claims(4, k - 4), tag=tag, minute=i)
        history.record_run(db, path)
    candidate = tmp_path / "v3" / "results.json"
    write_results(candidate, golds, all_claims(4, 3), tag="v3", minute=2)  # 7 of 8 claims, not recorded

    def f1_row(out):
        comparison = json.loads(out)
        row = next(r for r in comparison["systems"]["model"]["metrics"] if r["metric"] == "claims.f1")
        return comparison["baseline"]["label"], row

    code, out, err = cli(capsys, "compare", "--against-tag", "v1", str(candidate), "--db", str(db), "--json",
                         "--fail-on-regression")
    label, row = f1_row(out)
    assert code == 1, err  # 1.0 -> F1(7 of 8) is a drop of 1/15, far beyond 0.01
    assert "(v1)" in label
    assert (row["baseline"], row["candidate"]) == pytest.approx((1.0, f1_of(7, 8)))
    assert row["regression"]

    code, out, err = cli(capsys, "compare", "--against-previous", str(candidate), "--db", str(db), "--json",
                         "--fail-on-regression")
    label, row = f1_row(out)
    assert code == 0, err  # against v2 (6 of 8) every claim metric rises and the summaries are the same
    assert "(v2)" in label
    assert (row["baseline"], row["candidate"]) == pytest.approx((f1_of(6, 8), f1_of(7, 8)))

    code, _, err = cli(capsys, "compare", str(candidate), "--db", str(db))
    assert code == 2 and "give BASELINE and CANDIDATE" in err
    code, _, err = cli(capsys, "compare", str(candidate), str(candidate), "--against-previous", "--db", str(db))
    assert code == 2 and "give only CANDIDATE" in err


def test_score_out_records_the_run_with_its_tag(tmp_path, capsys):
    gold_path = tmp_path / "gold.jsonl"
    write_gold(gold_path)
    preds = tmp_path / "preds.jsonl"
    preds.write_text("".join(json.dumps({"doc_id": doc_id, "system": "model", "summary": summary,
                                         "claims": claims[:2]}) + "\n"
                             for doc_id, (claims, summary) in DOCS.items()))
    db = tmp_path / "h.sqlite"
    args = ["score", "--predictions", str(preds), "--gold", str(gold_path), "--bootstrap", "0", "--db", str(db)]
    code, _, err = cli(capsys, *args, "--out", str(tmp_path / "out"), "--tag", "model-1.0")
    assert code == 0, err
    assert "recorded as run 1" in err
    written = json.loads((tmp_path / "out" / "results.json").read_text())
    assert written["manifest"]["tag"] == "model-1.0"
    assert written["manifest"]["git"] is None or len(written["manifest"]["git"]["commit"]) == 40
    (tag, f1), = rows(db, "SELECT r.tag, m.value FROM runs r JOIN metric_values m ON m.run_id = r.id"
                          " WHERE m.metric = 'claims.f1' AND m.doc_id = ''")
    assert tag == "model-1.0" and f1 == pytest.approx(f1_of(4, 8))  # 2 + 2 of 8 claims
    # Without --out nothing is recorded.
    code, _, err = cli(capsys, *args)
    assert code == 0 and rows(db, "SELECT COUNT(*) FROM runs") == [(1,)]
