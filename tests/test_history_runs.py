"""The history's housekeeping: runs filtered by tag, listed and deleted; series keyed by system and run config;
a ceiling marked; a metric with no points for a system said plainly."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from harness import history
from harness.cli import main
from harness.errors import UserError


def results(f1: float | None, minute: int, *, config: str = "default", tag: str | None = None,
            coverage: float | None = 0.5, oracle: bool = False) -> dict:
    """A minimal results object: system `m` (claims F1 and summary coverage), optionally an oracle."""
    systems = {"m": {"summary": {"claim_coverage": coverage}, "per_doc": {}, "failures": 0, "missing": [],
                     "claims": {"f1": f1} if f1 is not None else None, "reads_gold": False}}
    if oracle:
        systems["oracle"] = {"summary": None, "per_doc": {}, "failures": 0, "missing": [], "claims": {"f1": 1.0},
                             "reads_gold": True}
    manifest = {"started_at": f"2025-01-01T00:{minute:02d}:00+00:00", "config": {"name": config, "sha256": config}}
    if tag:
        manifest["tag"] = tag
    return {"signature": "sig", "gold_sha256": "g" * 64, "n_documents": 1, "manifest": manifest, "systems": systems}


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "h.sqlite"
    conn = history.connect(path)
    try:
        for minute, (f1, config, tag) in enumerate([(0.80, "default", "v1"), (0.60, "local-llm", None),
                                                    (0.70, "default", None), (0.75, "default", "v2"),
                                                    (0.55, "local-llm", "v2")]):
            history.store(conn, results(f1, minute, config=config, tag=tag, oracle=minute == 0))
    finally:
        conn.close()
    return path


def run(capsys, *args) -> tuple[int, str, str]:
    capsys.readouterr()
    try:
        code = main([str(a) for a in args])
    except SystemExit as stop:
        code = stop.code
    out = capsys.readouterr()
    return code, out.out, out.err


def test_series_are_keyed_by_system_and_run_config(db):
    series = history.history(db, "claims.f1", ["m"])
    by_config = {s.config: [p.value for p in s.points] for s in series}
    assert by_config == {"default": [0.80, 0.70, 0.75], "local-llm": [0.60, 0.55]}
    # the change is from the previous run of the same config: 0.70 - 0.80, not 0.70 - 0.60
    default = next(s for s in series if s.config == "default")
    assert [p.change for p in default.points][1] == pytest.approx(-0.10)
    assert [p.regression for p in default.points] == [False, True, False]


def test_tag_filter_keeps_only_those_runs(db, capsys):
    (default,) = [s for s in history.history(db, "claims.f1", ["m"], tag="v2") if s.config == "default"]
    assert [(p.value, p.tag) for p in default.points] == [(0.75, "v2")]
    code, out, err = run(capsys, "history", "--db", db, "--system", "m", "--tag", "v2")
    assert code == 0, err
    assert "claims.f1 · system m · config default" in out and "claims.f1 · system m · config local-llm" in out
    assert " v1 " not in out
    code, _, err = run(capsys, "history", "--db", db, "--tag", "v9")
    assert code == 2 and err.strip() == f"harness: error: {db}: --tag: no run tagged 'v9' (tags: v1, v2)"


def test_list_and_delete_runs(db, capsys):
    code, out, err = run(capsys, "history", "list", "--db", db)
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0].split() == ["run", "time", "tag", "commit", "config", "gold", "signature_id", "systems"]
    assert lines[2].split()[:4] == ["1", "2025-01-01", "00:00:00", "v1"] and lines[2].endswith("m, oracle")
    assert lines[-1] == f"5 run(s) in {db}; `harness history delete RUN` removes one"
    listed = json.loads(run(capsys, "history", "list", "--db", db, "--tag", "v2", "--json")[1])
    assert [(r["run"], r["config"]) for r in listed] == [(4, "default"), (5, "local-llm")]

    code, out, _ = run(capsys, "history", "delete", "--db", db, "2", "4")
    assert code == 0
    assert out.splitlines() == [f"deleted run 2 (2025-01-01 00:01:00) from {db}",
                                f"deleted run 4 (2025-01-01 00:03:00, tag v2) from {db}"]
    with sqlite3.connect(db) as conn:
        assert [r[0] for r in conn.execute("SELECT id FROM runs ORDER BY id")] == [1, 3, 5]
        assert not conn.execute("SELECT 1 FROM metric_values WHERE run_id IN (2, 4)").fetchone()
    code, _, err = run(capsys, "history", "delete", "--db", db, "3", "42")
    assert code == 2 and "no run 42 recorded (runs: 1, 3, 5); nothing deleted" in err
    assert [r["run"] for r in history.list_runs(db)] == [1, 3, 5]


def test_a_ceiling_is_marked_in_the_history(db, capsys):
    code, out, _ = run(capsys, "history", "--db", db, "--system", "oracle")
    assert code == 0
    assert out.startswith("claims.f1 · system oracle (ceiling: reads the gold answers) · config default")


def test_a_metric_without_points_for_a_system_is_said_plainly(tmp_path, capsys):
    path = tmp_path / "h.sqlite"
    conn = history.connect(path)
    try:  # a summary-only corpus: no claims and coverage not measured (null)
        history.store(conn, results(None, 0, coverage=None))
        history.store(conn, {**results(0.5, 1), "systems": {**results(0.5, 1)["systems"], "lead": {
            "summary": {"claim_coverage": None}, "claims": None, "per_doc": {}, "failures": 0, "missing": []}}})
    finally:
        conn.close()
    with pytest.raises(UserError, match=r"claims.f1 has no points for system lead in the runs recorded: it was not "
                                        r"measured there .*; systems with points: m"):
        history.history(path, "claims.f1", ["lead"])
    code, out, err = run(capsys, "history", "--db", path, "--metric", "summary.claim_coverage")
    assert code == 0
    assert "system m" in out and "system lead" not in out
    assert err.strip() == ("note: summary.claim_coverage has no points for lead (not measured in the recorded runs: "
                           "no such task, or no gold to measure it on)")
    # not measured is never recorded as 0
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT COUNT(*) FROM metric_values WHERE metric = 'summary.claim_coverage'"
                            " AND value = 0").fetchone() == (0,)
