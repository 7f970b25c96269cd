"""Release history queries: a metric followed across recorded runs, the runs listed, a baseline looked up,
and the trend tables `harness history` prints.
"""

from __future__ import annotations

import hashlib
import json
import math
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from harness.errors import UserError
from harness.history.storage import SYSTEM_LEVEL, config_name, connect, content_sha256, flatten, run_info
from harness.results.metrics import COUNTS, direction
from harness.results.reader import check_results
from harness.results.regression import DEFAULT_TOLERANCE, is_regression

DEFAULT_METRIC = "claims.f1"
REPORT_TREND_RUNS = 20  # the report's chart shows this many runs of each series


# --------------------------------------------------------------------------- reading back

@dataclass(frozen=True)
class Point:
    run_id: int | None  # None: the current run, not recorded yet
    run_time: str
    tag: str | None
    git_commit: str | None
    value: float
    change: float | None = None
    regression: bool = False


@dataclass(frozen=True)
class Series:
    """One system's metric over runs of one configuration that share gold and scoring signature (only such runs
    are comparable: a `lead-3` in another run config is another system that happens to share the name)."""

    system: str
    metric: str
    doc_id: str
    gold_sha256: str
    signature: str
    points: tuple[Point, ...]
    config: str = ""  # the run config's name (`default` for configs/default.yaml); "" for `harness score` runs
    reads_gold: bool = False  # the system was given the gold answers: a ceiling, not a competitor

    @property
    def signature_id(self) -> str:
        return hashlib.sha256(self.signature.encode("utf-8")).hexdigest()[:8]

    @property
    def label(self) -> str:
        return (f"config {self.config or '(none: harness score)'} · gold {self.gold_sha256[:12]} · "
                f"signature {self.signature_id}")


def trend(conn: sqlite3.Connection, metric: str = DEFAULT_METRIC, systems: Sequence[str] | None = None,
          doc_id: str = SYSTEM_LEVEL, last: int | None = None, tolerance: float = DEFAULT_TOLERANCE,
          current: dict | None = None, tag: str | None = None) -> list[Series]:
    """The metric per system and series, oldest first, with each run's change from the previous run.

    `current` adds a results object not recorded yet as the newest point (for a report written
    before its run is recorded). `last` keeps the last N points of each series; changes are
    computed before cutting, so the first kept point still compares with its predecessor.
    `tag` keeps only the runs with that tag (each point's change is then from the previous such run).
    """
    sql = ("SELECT r.id, r.run_time, r.tag, r.git_commit, r.gold_sha256, r.signature, m.system, m.value"
           " FROM metric_values m JOIN runs r ON r.id = m.run_id WHERE m.metric = ? AND m.doc_id = ?")
    params: list = [metric, doc_id]
    if systems:
        sql += f" AND m.system IN ({', '.join('?' * len(systems))})"
        params += list(systems)
    if tag:
        sql += " AND r.tag = ?"
        params.append(tag)
    rows = conn.execute(sql + " ORDER BY r.run_time, r.id", params).fetchall()
    configs = config_names(conn, {row[0] for row in rows})
    gold_readers = ceilings(conn, {row[0] for row in rows})
    rows = [(*row, configs.get(row[0], "")) for row in rows]
    if current is not None:
        gold_readers |= {(None, name) for name, entry in current.get("systems", {}).items()
                         if isinstance(entry, dict) and entry.get("reads_gold")}
    if current is not None and (not tag or run_info(current, None).tag == tag):
        rows += _current_rows(conn, current, metric, systems, doc_id)
    grouped: dict[tuple[str, str, str, str], list[Point]] = {}
    for run_id, run_time, run_tag, commit, gold, signature, system, value, config in rows:
        grouped.setdefault((system, config, gold, signature), []).append(Point(run_id, run_time, run_tag, commit, value))
    out = []
    for (system, config, gold, signature), points in grouped.items():
        marked = [points[0]] + [
            replace(p, change=p.value - prev.value,
                    regression=is_regression(prev.value, p.value, direction(metric), tolerance))
            for prev, p in zip(points, points[1:])]
        if last is not None:
            marked = marked[-last:] if last > 0 else []
        reads = any((p.run_id, system) in gold_readers for p in points)
        out.append(Series(system, metric, doc_id, gold, signature, tuple(marked), config, reads))
    return sorted(out, key=lambda s: (s.system, s.config, s.points[0].run_time if s.points else "", s.gold_sha256))


def ceilings(conn: sqlite3.Connection, run_ids: set[int]) -> set[tuple[int | None, str]]:
    """(run id, system) for each system that was given the gold in those runs (results' reads_gold)."""
    if not run_ids:
        return set()
    ids = sorted(run_ids)
    rows = conn.execute(f"SELECT runs.id, s.key FROM runs, json_each(runs.results_json, '$.systems') AS s"
                        f" WHERE runs.id IN ({', '.join('?' * len(ids))}) AND json_extract(s.value, '$.reads_gold') = 1",
                        ids).fetchall()
    return {(run_id, system) for run_id, system in rows}


def config_names(conn: sqlite3.Connection, run_ids: set[int]) -> dict[int, str]:
    """run id → its run config's name, read from the stored results (once per run)."""
    if not run_ids:
        return {}
    ids = sorted(run_ids)
    rows = conn.execute(f"SELECT id, json_extract(results_json, '$.manifest.config.name') FROM runs"
                        f" WHERE id IN ({', '.join('?' * len(ids))})", ids).fetchall()
    return {run_id: name if isinstance(name, str) else "" for run_id, name in rows}


def _current_rows(conn: sqlite3.Connection, results: dict, metric: str, systems: Sequence[str] | None,
                  doc_id: str) -> list[tuple]:
    check_results(results)
    info = run_info(results, None)
    if conn.execute("SELECT 1 FROM runs WHERE content_sha256 = ?", (info.content_sha256,)).fetchone():
        return []
    return [(None, info.run_time, info.tag, info.git_commit, info.gold_sha256, info.signature, system, value,
             config_name(results))
            for system, doc, name, value in flatten(results)
            if name == metric and doc == doc_id and (not systems or system in systems)]


def recorded_metrics(conn: sqlite3.Connection, per_doc: bool = False) -> list[str]:
    where = "doc_id != ''" if per_doc else "doc_id = ''"
    return [r[0] for r in conn.execute(f"SELECT DISTINCT metric FROM metric_values WHERE {where} ORDER BY metric")]


def recorded_documents(conn: sqlite3.Connection) -> list[str]:
    return [r[0] for r in conn.execute("SELECT DISTINCT doc_id FROM metric_values WHERE doc_id != '' ORDER BY doc_id")]


def systems_with(conn: sqlite3.Connection, metric: str, doc_id: str = SYSTEM_LEVEL) -> list[str]:
    return [r[0] for r in conn.execute("SELECT DISTINCT system FROM metric_values WHERE metric = ? AND doc_id = ?"
                                       " ORDER BY system", (metric, doc_id))]


def without_points(db_path: Path, metric: str, series: Sequence[Series], systems: Sequence[str] | None = None,
                   doc_id: str = SYSTEM_LEVEL) -> list[str]:
    """The systems asked for (or, none asked, every recorded one) that have no point of `metric`."""
    conn = connect(db_path, create=False)
    try:
        wanted = list(systems) if systems else recorded_systems(conn)
    finally:
        conn.close()
    shown = {s.system for s in series}
    return [name for name in wanted if name not in shown]


def recorded_systems(conn: sqlite3.Connection) -> list[str]:
    return [r[0] for r in conn.execute("SELECT DISTINCT system FROM metric_values ORDER BY system")]


def history(db_path: Path, metric: str = DEFAULT_METRIC, systems: Sequence[str] | None = None,
            doc_id: str = SYSTEM_LEVEL, last: int | None = None, tolerance: float = DEFAULT_TOLERANCE,
            tag: str | None = None) -> list[Series]:
    """The trend from a database on disk; unknown metric, system, document or tag is a UserError naming what exists,
    and so is a metric that has no point for any system asked for."""
    if last is not None and last < 1:
        raise UserError("must be at least 1", None, None, "--last")
    if not math.isfinite(tolerance) or tolerance < 0:
        raise UserError(f"must be a finite number >= 0, got {tolerance}", None, None, "--tolerance")
    conn = connect(db_path, create=False)
    try:
        if not conn.execute("SELECT 1 FROM runs LIMIT 1").fetchone():
            raise UserError("no runs recorded yet", db_path)
        unknown = sorted(set(systems or ()) - set(recorded_systems(conn)))
        if unknown:
            raise UserError(f"no system {unknown[0]!r} recorded (recorded: {', '.join(recorded_systems(conn))})",
                            db_path, None, "--system")
        if doc_id and doc_id not in recorded_documents(conn):
            raise UserError(f"no document {doc_id!r} recorded (recorded: {', '.join(recorded_documents(conn))})",
                            db_path, None, "--doc")
        if tag and not conn.execute("SELECT 1 FROM runs WHERE tag = ?", (tag,)).fetchone():
            tags = [r[0] for r in conn.execute("SELECT DISTINCT tag FROM runs WHERE tag IS NOT NULL ORDER BY tag")]
            raise UserError(f"no run tagged {tag!r} (tags: {', '.join(tags) or 'none'})", db_path, None, "--tag")
        metrics = recorded_metrics(conn, per_doc=bool(doc_id))
        if metric not in metrics:
            raise UserError(f"no metric {metric!r} recorded (recorded: {', '.join(metrics)})", db_path, None, "--metric")
        series = trend(conn, metric, systems, doc_id, last, tolerance, tag=tag)
        if not series:
            who = f"system {', '.join(systems)}" if systems else "any system"
            where = f" on document {doc_id!r}" if doc_id else ""
            runs = f" tagged {tag!r}" if tag else ""
            raise UserError(f"{metric} has no points for {who}{where} in the runs{runs} recorded: it was not measured "
                            f"there (no such task, or no gold to measure it on, e.g. claims on a corpus without gold "
                            f"claims); systems with points: {', '.join(systems_with(conn, metric, doc_id)) or 'none'}",
                            db_path, None, "--metric")
        return series
    finally:
        conn.close()


def report_trend(db_path: Path | None, results: dict, metric: str = DEFAULT_METRIC) -> list[Series]:
    """What a run's report charts: `metric` over the last REPORT_TREND_RUNS runs of each series, with `results`
    (the run being reported, not recorded yet) as the newest point; nothing when there is no database."""
    if db_path is None or not Path(db_path).exists():
        return []
    conn = connect(db_path, create=False)
    try:
        return trend(conn, metric, None, SYSTEM_LEVEL, REPORT_TREND_RUNS, DEFAULT_TOLERANCE, current=results)
    finally:
        conn.close()


# --------------------------------------------------------------------------- listing and deleting runs

def list_runs(db_path: Path, tag: str | None = None) -> list[dict]:
    """Every recorded run (or those with `tag`), oldest first: what `harness history list` shows."""
    conn = connect(db_path, create=False)
    try:
        sql = ("SELECT id, run_time, tag, git_commit, gold_sha256, signature, source,"
               " json_extract(results_json, '$.manifest.config.name') FROM runs")
        rows = conn.execute(sql + (" WHERE tag = ?" if tag else "") + " ORDER BY run_time, id",
                            (tag,) if tag else ()).fetchall()
        systems: dict[int, list[str]] = {}
        for run_id, system in conn.execute("SELECT DISTINCT run_id, system FROM metric_values ORDER BY system"):
            systems.setdefault(run_id, []).append(system)
    finally:
        conn.close()
    return [{"run": run_id, "time": run_time, "tag": run_tag, "commit": commit, "config": config or "",
             "gold": gold, "signature": signature,
             "signature_id": hashlib.sha256(signature.encode("utf-8")).hexdigest()[:8],
             "systems": systems.get(run_id, []), "source": source}
            for run_id, run_time, run_tag, commit, gold, signature, source, config in rows]


# --------------------------------------------------------------------------- comparing against history

@dataclass(frozen=True)
class Baseline:
    run_id: int
    tag: str | None
    run_time: str
    results: dict

    @property
    def label(self) -> str:
        return f"history run {self.run_id}" + (f" ({self.tag})" if self.tag else "") + f", {self.run_time[:16]}"


def baseline_for(db_path: Path, candidate_results: dict, tag: str | None = None, previous: bool = False) -> dict:
    """The stored results of the run to compare against: the latest run with `tag`, or the run before this one."""
    return find_baseline(db_path, candidate_results, tag, previous).results


def find_baseline(db_path: Path, candidate_results: dict, tag: str | None = None, previous: bool = False) -> Baseline:
    """Only runs on the same gold and scoring signature qualify (others measure something else), and never
    the candidate itself; "previous" is the run recorded before the candidate, or the latest if it is not recorded."""
    if bool(tag) == bool(previous):
        raise UserError("give exactly one of --against-tag TAG and --against-previous")
    check_results(candidate_results)
    conn = connect(db_path, create=False)
    try:
        sha = content_sha256(candidate_results)
        same = "gold_sha256 = ? AND signature = ? AND content_sha256 != ?"
        params: list = [candidate_results["gold_sha256"], candidate_results["signature"], sha]
        columns = "SELECT id, tag, run_time, results_json FROM runs"
        if tag:
            row = conn.execute(f"{columns} WHERE {same} AND tag = ? ORDER BY run_time DESC, id DESC LIMIT 1",
                               [*params, tag]).fetchone()
            if row is None:
                elsewhere = conn.execute("SELECT COUNT(*) FROM runs WHERE tag = ? AND content_sha256 != ?",
                                         (tag, sha)).fetchone()[0]
                why = (f"{elsewhere} run(s) tagged {tag!r} were scored on other gold or another scoring signature"
                       if elsewhere else f"no run tagged {tag!r}")
                raise UserError(f"{why}; nothing comparable to compare against", db_path, None, "--against-tag")
        else:
            where, extra = same, []
            own = conn.execute("SELECT run_time, id FROM runs WHERE content_sha256 = ?", (sha,)).fetchone()
            if own is not None:
                where += " AND (run_time < ? OR (run_time = ? AND id < ?))"
                extra = [own[0], own[0], own[1]]
            row = conn.execute(f"{columns} WHERE {where} ORDER BY run_time DESC, id DESC LIMIT 1",
                               [*params, *extra]).fetchone()
            if row is None:
                raise UserError(f"no earlier run on gold {candidate_results['gold_sha256'][:12]} with the same "
                                "scoring signature", db_path, None, "--against-previous")
        return Baseline(int(row[0]), row[1], row[2], json.loads(row[3]))
    finally:
        conn.close()


# --------------------------------------------------------------------------- text output

TABLE_COLUMNS = ["run", "time", "tag", "commit", "value", "change", "flag"]


def format_history(series: Sequence[Series], tolerance: float = DEFAULT_TOLERANCE) -> str:
    """One table per system and series, then the full signature behind each short id."""
    from harness.report.tables import text_table

    blocks = []
    for s in series:
        where = f" · document {s.doc_id}" if s.doc_id else ""
        values = _right([_value(p.value, s.metric) for p in s.points])
        changes = _right(["–" if p.change is None else _value(p.change, s.metric, signed=True) for p in s.points])
        rows = [{"run": p.run_id if p.run_id is not None else "now", "time": p.run_time[:19].replace("T", " "),
                 "tag": p.tag or "", "commit": (p.git_commit or "")[:10], "value": value, "change": change,
                 "flag": "REGRESSION" if p.regression else ""} for p, value, change in zip(s.points, values, changes)]
        name = s.system + (" (ceiling: reads the gold answers)" if s.reads_gold else "")
        blocks.append(text_table(rows, TABLE_COLUMNS, title=f"{s.metric} · system {name}{where} · {s.label}"))
    signatures = {s.signature_id: s.signature for s in series}
    legend = [f"  {k}: {v}" for k, v in signatures.items()]
    worse = {1: "a drop", -1: "a rise", 0: None}[direction(series[0].metric)] if series else None
    rule = (f"REGRESSION: {worse} of more than {tolerance:g} from the previous run of the same series."
            if worse else "This metric has no better direction; no run is flagged.")
    return "\n\n".join(blocks) + "\n\n" + rule + "\nRuns of another config, on other gold or with another signature are separate series.\n" \
        + "signatures:\n" + "\n".join(legend)


def _right(cells: list[str]) -> list[str]:
    width = max((len(c) for c in cells), default=0)
    return [c.rjust(width) for c in cells]


def _value(value: float, metric: str, signed: bool = False) -> str:
    sign = "+" if signed else ""
    if metric.rsplit(".", 1)[-1] in COUNTS and float(value).is_integer():
        return f"{int(value):{sign}d}"
    return f"{value:{sign}.4f}"


def series_json(series: Sequence[Series]) -> list[dict]:
    return [{"system": s.system, "metric": s.metric, "doc_id": s.doc_id or None, "gold_sha256": s.gold_sha256,
             "signature": s.signature, "config": s.config or None, "reads_gold": s.reads_gold,
             "points": [{"run_id": p.run_id, "time": p.run_time, "tag": p.tag, "git_commit": p.git_commit,
                         "value": p.value, "change": p.change, "regression": p.regression} for p in s.points]}
            for s in series]
