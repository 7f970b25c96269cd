"""Release history: every scored run kept in a local SQLite database, so a metric can be followed across releases.

The results JSON files stay the source of truth. The database is an index over them that
`harness history import` rebuilds at any time; runs are keyed by a hash of their content, so
importing the same results twice changes nothing. Each run is written in one transaction, in WAL
mode, so runs finishing at the same moment cannot corrupt it.
"""

from __future__ import annotations

import glob
import hashlib
import json
import math
import sqlite3
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from pathlib import Path

from harness.errors import UserError
from harness.io import JSONProblem, dumps_canonical, loads_strict, read_text, write_error

DEFAULT_DB = Path("results") / "history.sqlite"
DEFAULT_METRIC = "claims.f1"
DEFAULT_TOLERANCE = 0.01
BUSY_TIMEOUT_MS = 30_000
SYSTEM_LEVEL = ""  # doc_id of a system's aggregate values

# Which way is better, by the last part of a metric name; the rest are higher-is-better.
LOWER_IS_BETTER = frozenset({"fp", "fn", "duplicate_rate", "duplicates", "excluded_content", "failures", "missing"})
NO_DIRECTION = frozenset({"predictions", "numbers_stated", "n_documents", "lo", "hi"})
COUNTS = frozenset({"tp", "fp", "fn", "predictions", "numbers_stated", "n_documents", "excluded_content",
                    "duplicates", "failures", "missing"})
_TIME_KEYS = ("started_at", "start_time", "started", "created_at", "timestamp", "time", "finished_at")


# --------------------------------------------------------------------------- schema

def _v1_tables(conn: sqlite3.Connection) -> None:
    """Runs (with their full results JSON) and every flattened metric value."""
    conn.execute("""
        CREATE TABLE runs (
            id INTEGER PRIMARY KEY,
            content_sha256 TEXT NOT NULL UNIQUE,
            run_time TEXT NOT NULL,
            recorded_at TEXT NOT NULL,
            tag TEXT,
            git_commit TEXT,
            harness_version TEXT,
            gold_sha256 TEXT NOT NULL,
            signature TEXT NOT NULL,
            config_hash TEXT,
            source TEXT,
            results_json TEXT NOT NULL
        ) STRICT""")
    conn.execute("""
        CREATE TABLE metric_values (
            run_id INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
            system TEXT NOT NULL,
            doc_id TEXT NOT NULL,
            metric TEXT NOT NULL,
            value REAL NOT NULL,
            PRIMARY KEY (run_id, system, doc_id, metric)
        ) WITHOUT ROWID, STRICT""")


def _v2_lookup_indexes(conn: sqlite3.Connection) -> None:
    """Indexes for the two questions history asks: one metric across runs, one series' runs in order."""
    conn.execute("CREATE INDEX metric_values_by_metric ON metric_values (metric, doc_id, system)")
    conn.execute("CREATE INDEX runs_by_series ON runs (gold_sha256, signature, run_time)")


def _v3_interval_names(conn: sqlite3.Connection) -> None:
    """Interval bounds named like every other interval: claims.f1_ci95.lo became claims.f1.ci95.lo (and
    claims.f1_ci95_docs_then_claims.lo claims.f1.ci95_docs_then_claims.lo), as summary.rougeL.ci95.lo is."""
    conn.execute("UPDATE OR REPLACE metric_values SET metric = replace(metric, '_ci95', '.ci95')"
                 " WHERE metric GLOB '*[a-z0-9]_ci95*'")


# Append-only: a released migration is never edited; a schema change is a new function at the end.
MIGRATIONS: tuple[Callable[[sqlite3.Connection], None], ...] = (_v1_tables, _v2_lookup_indexes, _v3_interval_names)
SCHEMA_VERSION = len(MIGRATIONS)


@contextmanager
def _immediate(conn: sqlite3.Connection) -> Iterator[None]:
    """One write transaction that takes the write lock up front, so concurrent writers queue, never deadlock."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def _user_version(conn: sqlite3.Connection) -> int:
    return int(conn.execute("PRAGMA user_version").fetchone()[0])


def migrate(conn: sqlite3.Connection, target: int = SCHEMA_VERSION) -> None:
    """Bring the schema to `target` by running the missing migrations in order, in one transaction."""
    if _user_version(conn) > SCHEMA_VERSION:
        raise UserError(f"history database schema v{_user_version(conn)} is newer than this harness "
                        f"understands (v{SCHEMA_VERSION}); upgrade harness")
    if _user_version(conn) >= target:
        return
    with _immediate(conn):
        current = _user_version(conn)  # re-read under the lock: another process may have migrated meanwhile
        if current < target:
            for version in range(current + 1, target + 1):
                MIGRATIONS[version - 1](conn)
            conn.execute(f"PRAGMA user_version = {int(target)}")


def _prepare(conn: sqlite3.Connection, target: int) -> None:
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA foreign_keys = ON")
    migrate(conn, target)


def _retry_while_locked(step) -> None:
    """SQLite answers "locked" at once, without waiting, when two processes switch a new file to WAL or
    migrate it at the same moment (waiting could deadlock); so retry for up to the busy timeout."""
    deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            return step()
        except sqlite3.OperationalError as err:
            if not ("locked" in str(err) or "busy" in str(err)) or time.monotonic() > deadline:
                raise
            time.sleep(0.02)


def check_database_path(db_path: Path) -> None:
    """Refuse, before a run calls any model, a database path that could never be opened for writing."""
    db_path = Path(db_path)
    if db_path.is_dir():
        raise UserError("is a folder; --db names the history database file (e.g. results/history.sqlite)", db_path)
    parent = next((p for p in db_path.absolute().parents if p.exists()), None)
    if parent is not None and not parent.is_dir():
        raise UserError(f"cannot create the database: {parent} is a file, not a folder", db_path)


def connect(db_path: Path, *, create: bool = True, target: int = SCHEMA_VERSION) -> sqlite3.Connection:
    """Open (creating if allowed) and migrate the database; autocommit mode, transactions are explicit."""
    db_path = Path(db_path)
    if not db_path.exists():
        if not create:
            raise UserError("no history database (runs are recorded by `harness run` and `harness score --out`; "
                            "`harness history import` builds one from results.json files)", db_path)
        check_database_path(db_path)
        try:
            db_path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            raise write_error(err, db_path.parent) from None
    elif db_path.is_dir():
        check_database_path(db_path)
    try:
        conn = sqlite3.connect(db_path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
    except sqlite3.Error as err:
        raise UserError(f"cannot open the history database ({err})", db_path) from None
    try:
        with database_errors(db_path):
            conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            _retry_while_locked(lambda: _prepare(conn, target))
    except BaseException:
        conn.close()
        raise
    return conn


@contextmanager
def database_errors(db_path: Path) -> Iterator[None]:
    """SQLite failures as one-line user errors: a lock held too long, or a file that is not this database."""
    try:
        yield
    except sqlite3.OperationalError as err:
        if "locked" in str(err) or "busy" in str(err):
            raise UserError(f"history database stayed locked by another writer for {BUSY_TIMEOUT_MS // 1000} s; "
                            "try again", db_path) from None
        if "full" in str(err):
            raise UserError(f"cannot write the history database ({err})", db_path) from None
        raise UserError(f"not a usable history database ({err})", db_path) from None
    except sqlite3.DatabaseError as err:
        raise UserError(f"not a usable history database ({err})", db_path) from None


# --------------------------------------------------------------------------- reading results

def content_sha256(results: dict) -> str:
    """A run's identity: the hash of its results in canonical JSON (formatting does not matter)."""
    return hashlib.sha256(dumps_canonical(results).encode("utf-8")).hexdigest()


def read_results(path: Path) -> tuple[str, dict]:
    """The text and parsed object of a results.json, checked for the fields history needs."""
    text = read_text(Path(path))
    try:
        results = loads_strict(text)
    except json.JSONDecodeError as err:
        raise UserError(f"not valid JSON ({err.msg})", path, err.lineno) from None
    except JSONProblem as err:
        raise UserError(f"not valid JSON ({err})", path) from None
    check_results(results, path)
    return text, results


def check_results(results: object, path: Path | str | None = None) -> None:
    if not isinstance(results, dict):
        raise UserError("not a results object (expected a JSON object)", path)
    for name in ("signature", "gold_sha256"):
        if not isinstance(results.get(name), str) or not results[name]:
            raise UserError("missing or not a string (is this a harness results.json?)", path, None, name)
    if not isinstance(results.get("systems"), dict):
        raise UserError("missing or not an object (is this a harness results.json?)", path, None, "systems")


@dataclass(frozen=True)
class RunInfo:
    content_sha256: str
    run_time: str
    tag: str | None
    git_commit: str | None
    harness_version: str | None
    gold_sha256: str
    signature: str
    config_hash: str | None


def run_info(results: dict, path: Path | None, tag: str | None = None) -> RunInfo:
    """What identifies a run, taken from the results (and its manifest, when a run wrote one).

    The time is the manifest's start time, else the file's modification time, so a rebuild from the
    same files orders runs as the original recording did.
    """
    manifest = results.get("manifest") if isinstance(results.get("manifest"), dict) else {}
    git = manifest.get("git")
    commit = manifest.get("git_commit") or (git.get("commit") if isinstance(git, dict) else git)
    config = manifest.get("config")
    config_hash = manifest.get("config_hash") or (config.get("sha256") if isinstance(config, dict) else None)
    if config_hash is None and config is not None:
        config_hash = hashlib.sha256(dumps_canonical(config).encode("utf-8")).hexdigest()
    version = manifest.get("harness_version") or _signature_part(results["signature"], "harness")
    return RunInfo(
        content_sha256=content_sha256(results),
        run_time=_run_time(manifest, path),
        tag=tag or _str(results.get("tag")) or _str(manifest.get("tag")),
        git_commit=_str(commit), harness_version=_str(version),
        gold_sha256=results["gold_sha256"], signature=results["signature"], config_hash=_str(config_hash),
    )


def _str(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _signature_part(signature: str, name: str) -> str | None:
    for part in signature.split("|"):
        if part.startswith(f"{name}:"):
            return part[len(name) + 1:]
    return None


def _utc(moment: datetime) -> str:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).isoformat(timespec="microseconds")


def _run_time(manifest: dict, path: Path | None) -> str:
    for key in _TIME_KEYS:
        value = manifest.get(key)
        if isinstance(value, str):
            try:
                return _utc(datetime.fromisoformat(value))
            except ValueError:
                continue
        if isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0:
            return _utc(datetime.fromtimestamp(value, timezone.utc))
    if path is not None and Path(path).exists():
        return _utc(datetime.fromtimestamp(Path(path).stat().st_mtime, timezone.utc))
    return _utc(datetime.now(timezone.utc))


# --------------------------------------------------------------------------- flattening

def flatten(results: dict) -> list[tuple[str, str, str, float]]:
    """Every numeric value as (system, doc_id, metric, value); doc_id "" is the system's aggregate.

    Names follow the JSON path: "claims.f1", "summary.rougeL" (its F-measure; ".precision" and
    ".recall" too); intervals are METRIC.ci95.lo/.hi ("summary.rougeL.ci95.lo", "claims.f1.ci95.hi",
    "claims.f1.ci95_docs_then_claims.lo"); plus "failures" and "missing" (a count) per system.
    """
    rows: list[tuple[str, str, str, float]] = []
    for system, entry in results.get("systems", {}).items():
        if not isinstance(entry, dict):
            continue
        for task in ("summary", "claims"):
            rows += [(system, SYSTEM_LEVEL, m, v) for m, v in _numbers(task, entry.get(task))]
        rows += [(system, SYSTEM_LEVEL, m, v) for m, v in _numbers("failures", entry.get("failures"))]
        if isinstance(entry.get("missing"), list):
            rows.append((system, SYSTEM_LEVEL, "missing", float(len(entry["missing"]))))
        per_doc = entry.get("per_doc") if isinstance(entry.get("per_doc"), dict) else {}
        for doc_id, doc in per_doc.items():
            if isinstance(doc, dict):
                for task in ("summary", "claims"):
                    rows += [(system, str(doc_id), m, v) for m, v in _numbers(task, doc.get(task))]
    return rows


def _numbers(name: str, obj: object) -> Iterator[tuple[str, float]]:
    if isinstance(obj, bool) or obj is None:
        return
    if isinstance(obj, (int, float)):
        if math.isfinite(obj):
            yield name, float(obj)
    elif isinstance(obj, dict):
        if "fmeasure" in obj:
            yield from _numbers(name, obj["fmeasure"])
        for key, value in obj.items():
            yield from _numbers(f"{name}.{_interval_name(str(key))}", value)
    elif isinstance(obj, list) and len(obj) == 2 and all(_is_number(x) for x in obj):
        yield from _numbers(f"{name}.lo", obj[0])
        yield from _numbers(f"{name}.hi", obj[1])


def _interval_name(key: str) -> str:
    """results.json names the claim F1 interval f1_ci95 (a sibling of f1); history names it f1.ci95, the
    pattern of summary.rougeL.ci95, so every interval is METRIC.ci95[_METHOD].lo/.hi."""
    metric, sep, rest = key.partition("_ci95")
    return f"{metric}.ci95{rest}" if sep and metric else key


def _is_number(x: object) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool)


# --------------------------------------------------------------------------- writing

def record_run(db_path: Path, results_path: Path, tag: str | None = None) -> int:
    """Record one results.json; returns its run id (the existing id when the same content is already there)."""
    results_path = Path(results_path)
    text, results = read_results(results_path)
    conn = connect(db_path)
    try:
        with database_errors(db_path):
            return store(conn, results, text, results_path, tag)[0]
    finally:
        conn.close()


def store(conn: sqlite3.Connection, results: dict, text: str | None = None, source: Path | None = None,
          tag: str | None = None) -> tuple[int, bool]:
    """Write one run and all its values in one transaction; returns (run id, newly added)."""
    check_results(results, source)
    info = run_info(results, source, tag)
    values = flatten(results)
    text = text if text is not None else json.dumps(results, ensure_ascii=False)
    with _immediate(conn):
        row = conn.execute("SELECT id, tag FROM runs WHERE content_sha256 = ?", (info.content_sha256,)).fetchone()
        if row is not None:
            if tag and tag != row[1]:
                conn.execute("UPDATE runs SET tag = ? WHERE id = ?", (tag, row[0]))
            return int(row[0]), False
        cursor = conn.execute(
            "INSERT INTO runs (content_sha256, run_time, recorded_at, tag, git_commit, harness_version, gold_sha256,"
            " signature, config_hash, source, results_json) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (info.content_sha256, info.run_time, _utc(datetime.now(timezone.utc)), info.tag, info.git_commit,
             info.harness_version, info.gold_sha256, info.signature, info.config_hash,
             str(source) if source is not None else None, text))
        run_id = int(cursor.lastrowid)
        conn.executemany("INSERT OR REPLACE INTO metric_values (run_id, system, doc_id, metric, value)"
                         " VALUES (?, ?, ?, ?, ?)", [(run_id, *v) for v in values])
    return run_id, True


@dataclass(frozen=True)
class Imported:
    path: Path
    run_id: int
    new: bool


def expand_paths(patterns: Sequence[str | Path]) -> list[Path]:
    """Files named, folders searched for results.json, and glob patterns (with ** ) the shell left unexpanded."""
    found: list[Path] = []
    for pattern in patterns:
        text = str(pattern)
        if glob.has_magic(text):
            matches = [Path(m) for m in sorted(glob.glob(text, recursive=True)) if Path(m).is_file()]
            if not matches:
                raise UserError("no files match", text)
        elif Path(text).is_dir():
            matches = sorted(Path(text).rglob("results.json"))
            if not matches:
                raise UserError("no results.json under this folder", text)
        else:
            matches = [Path(text)]
        found += [m for m in matches if m not in found]
    return found


def import_results(db_path: Path, patterns: Sequence[str | Path], tag: str | None = None) -> list[Imported]:
    """Rebuild or extend the database from results.json files; already-recorded content is skipped.

    Every file is read and checked before anything is written, so a bad file imports nothing.
    """
    loaded = []
    for path in expand_paths(patterns):
        text, results = read_results(path)
        loaded.append((run_info(results, path).run_time, path, text, results))
    loaded.sort(key=lambda item: item[0])
    conn = connect(db_path)
    try:
        with database_errors(db_path):
            return [Imported(path, *store(conn, results, text, path, tag)) for _, path, text, results in loaded]
    finally:
        conn.close()


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


def direction(metric: str) -> int:
    """+1 when higher is better, -1 when lower is better, 0 when neither (counts of output, interval bounds)."""
    leaf = metric.rsplit(".", 1)[-1]
    if leaf in NO_DIRECTION:
        return 0
    return -1 if leaf in LOWER_IS_BETTER else 1


def is_regression(previous: float, value: float, metric: str, tolerance: float = DEFAULT_TOLERANCE) -> bool:
    """A move the wrong way by more than the tolerance (the rule compare applies to one pair of runs)."""
    worse = (previous - value) * direction(metric)
    return worse - tolerance > 1e-9


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
            replace(p, change=p.value - prev.value, regression=is_regression(prev.value, p.value, metric, tolerance))
            for prev, p in zip(points, points[1:])]
        if last is not None:
            marked = marked[-last:] if last > 0 else []
        reads = any((p.run_id, system) in gold_readers for p in points)
        out.append(Series(system, metric, doc_id, gold, signature, tuple(marked), config, reads))
    return sorted(out, key=lambda s: (s.system, s.config, s.points[0].run_time if s.points else "", s.gold_sha256))


def config_name(results: dict) -> str:
    """The run config's name from a results' manifest (`default`); "" for runs without one (harness score)."""
    manifest = results.get("manifest") if isinstance(results.get("manifest"), dict) else {}
    config = manifest.get("config") if isinstance(manifest.get("config"), dict) else {}
    return _str(config.get("name")) or ""


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


def delete_runs(db_path: Path, run_ids: Sequence[int]) -> list[dict]:
    """Delete runs and all their values in one transaction; every id must exist (else nothing is deleted)."""
    conn = connect(db_path, create=False)
    try:
        with database_errors(db_path):
            found = {row[0]: row for row in conn.execute(
                f"SELECT id, run_time, tag FROM runs WHERE id IN ({', '.join('?' * len(run_ids))})", list(run_ids))}
            unknown = [i for i in run_ids if i not in found]
            if unknown:
                known = [r[0] for r in conn.execute("SELECT id FROM runs ORDER BY id")]
                raise UserError(f"no run {unknown[0]} recorded (runs: {', '.join(map(str, known)) or 'none'}); "
                                "nothing deleted", db_path, None, "RUN")
            with _immediate(conn):
                conn.executemany("DELETE FROM runs WHERE id = ?", [(i,) for i in run_ids])
    finally:
        conn.close()
    return [{"run": found[i][0], "time": found[i][1], "tag": found[i][2]} for i in run_ids]


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
