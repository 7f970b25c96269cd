"""Release history storage: every scored run kept in a local SQLite database (schema, migrations, writes).

The results JSON files stay the source of truth. The database is an index over them that
`harness history import` rebuilds at any time; runs are keyed by a hash of their content, so
importing the same results twice changes nothing. Each run is written in one transaction, in WAL
mode, so runs finishing at the same moment cannot corrupt it. Reading it back is `queries`' job.
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
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from harness.errors import UserError
from harness.io import dumps_canonical, write_error
from harness.results.reader import check_results, read_results

DEFAULT_DB = Path("results") / "history.sqlite"
BUSY_TIMEOUT_MS = 30_000
SYSTEM_LEVEL = ""  # doc_id of a system's aggregate values
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
    version = manifest.get("harness_version") or _harness_version(results["signature"])
    return RunInfo(
        content_sha256=content_sha256(results),
        run_time=_run_time(manifest, path),
        tag=tag or _str(results.get("tag")) or _str(manifest.get("tag")),
        git_commit=_str(commit), harness_version=_str(version),
        gold_sha256=results["gold_sha256"], signature=results["signature"], config_hash=_str(config_hash),
    )


def _str(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _harness_version(signature: str) -> str | None:
    """The harness version a signature names (None for a signature not in harness's format)."""
    from harness.results.signature import Signature

    try:
        return Signature.parse(signature).harness
    except ValueError:
        return None


def config_name(results: dict) -> str:
    """The run config's name from a results' manifest (`default`); "" for runs without one (harness score)."""
    manifest = results.get("manifest") if isinstance(results.get("manifest"), dict) else {}
    config = manifest.get("config") if isinstance(manifest.get("config"), dict) else {}
    return _str(config.get("name")) or ""


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
