"""Run configs (YAML): every unknown name is an error that suggests the nearest valid one.

A run config names the corpus, the tasks and the systems (an adapter plus its options):

    tasks: [summary, claims]
    corpus: {kind: gold}
    systems:
      - {name: lead-3, adapter: lead, options: {k: 3}}

Adapter options are declared with harness.options.Option (also importable from here, as plugins long have).
"""

from __future__ import annotations

import hashlib
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.errors import UserError, unknown_name_error
from harness.io import line_of, read_text, read_yaml
from harness.options import Option, check_options
from harness.records import TASKS
from harness.scoring.settings import MATCHERS, MAX_BOOTSTRAP

__all__ = ["CorpusConfig", "Option", "RunConfig", "SystemConfig", "load_run_config"]


# --------------------------------------------------------------------------- run configs


@dataclass(frozen=True)
class SystemConfig:
    name: str
    adapter: str
    options: dict = field(default_factory=dict, hash=False)
    tasks: tuple[str, ...] | None = None
    timeout: float | None = None
    line: int | None = None


@dataclass(frozen=True)
class CorpusConfig:
    """`kind: gold` (a gold folder or exported JSONL) or `kind: dataset` (local json/csv/parquet via datasets)."""

    kind: str = "gold"
    path: str | None = None
    format: str | None = None
    files: tuple[str, ...] = ()
    split: str = "train"
    id_column: str | None = None
    text_column: str = "text"
    reference_columns: tuple[str, ...] = ("summary",)
    limit: int | None = None


@dataclass(frozen=True)
class RunConfig:
    path: Path
    name: str
    systems: tuple[SystemConfig, ...]
    tasks: tuple[str, ...] = TASKS
    corpus: CorpusConfig = CorpusConfig()
    scoring: dict = field(default_factory=dict, hash=False)
    description: str = ""
    sha256: str = ""

    def score_settings(self):
        from harness.scoring.scorer import ScoreSettings

        return ScoreSettings(**self.scoring)


TOP_KEYS = ("description", "tasks", "corpus", "systems", "scoring")
SYSTEM_KEYS = ("name", "adapter", "options", "tasks", "timeout")
CORPUS_OPTIONS = (
    Option("kind", str, "gold", "gold or dataset", choices=("gold", "dataset")),
    Option("path", str, None, "gold folder or exported JSONL (kind: gold)"),
    Option("format", str, None, "json, csv or parquet (kind: dataset)", choices=("json", "csv", "parquet")),
    Option("files", "strings", (), "data files (kind: dataset)"),
    Option("split", str, "train", "split name given to datasets"),
    Option("limit", int, None, "use the first N rows", minimum=1),
)
CORPUS_KEYS = tuple(o.name for o in CORPUS_OPTIONS) + ("columns",)  # columns: {id, text, reference}
COLUMN_KEYS = ("id", "text", "reference")
SCORING_OPTIONS = (
    Option("matcher", str, None, "claim similarity", choices=MATCHERS),
    Option("judge_url", str, None, "matcher judge: OpenAI-compatible endpoint root, e.g. http://127.0.0.1:8080/v1"),
    Option("judge_model", str, None, "matcher judge: model name the endpoint expects"),
    Option("judge_api_key_env", str, None, "matcher judge: name of the environment variable holding the API key"),
    Option("threshold", float, None, "claim match threshold (default: the matcher's calibrated one)", minimum=0),
    Option("coverage_threshold", float, None, "coverage containment threshold", minimum=0),
    Option("use_stemmer", bool, None, "Porter stemming in ROUGE"),
    Option("multi_ref", str, None, "several references: max or mean", choices=("max", "mean")),
    Option("bootstrap", int, None, "bootstrap resamples", minimum=0, maximum=MAX_BOOTSTRAP),
    Option("seed", int, None, "bootstrap seed", minimum=0),
)


def load_run_config(path: Path) -> RunConfig:
    """Parse and check a run config; adapter options are checked later, against the adapter's own schema."""
    path = Path(path)
    raw = read_yaml(path)
    if not isinstance(raw, dict):
        raise UserError("a run config is a mapping with 'systems'", path, 1)
    for key in raw:
        if key not in TOP_KEYS:
            raise unknown_name_error("config key", key, TOP_KEYS, path, _key_line(path, key) or line_of(raw))
    tasks = _tasks(raw.get("tasks", list(TASKS)), path, line_of(raw), "tasks")
    systems_raw = raw.get("systems")
    if not isinstance(systems_raw, list) or not systems_raw:
        raise UserError("needs a non-empty list of systems", path, line_of(raw), "systems")
    systems = []
    seen: set[str] = set()
    for i, item in enumerate(systems_raw):
        system = _system(item, path, line_of(item) or line_of(raw), i)
        if system.name in seen:
            raise UserError(f"two systems are named {system.name!r}", path, system.line, "name")
        seen.add(system.name)
        systems.append(system)
    corpus = _corpus(raw.get("corpus") or {}, path, line_of(raw))
    scoring_raw = raw.get("scoring") or {}
    scoring_line = line_of(scoring_raw) or line_of(raw)
    scoring = {k: v for k, v in check_options(SCORING_OPTIONS, scoring_raw, "scoring", path,
                                              scoring_line).items() if v is not None}
    _check_scoring(scoring, path, scoring_line)
    description = raw.get("description") or ""
    if not isinstance(description, str):
        raise UserError("expected a string", path, line_of(raw), "description")
    digest = hashlib.sha256(read_text(path).encode("utf-8")).hexdigest()
    return RunConfig(path, path.stem, tuple(systems), tasks, corpus, scoring, description, digest)


def _check_scoring(scoring: dict, path: Path, line: int | None) -> None:
    """The settings' own checks (a judge needs a URL and a model), reported at the config's scoring line."""
    from harness.scoring.settings import ScoreSettings

    try:
        ScoreSettings(**scoring)
    except UserError as err:
        raise UserError(f"scoring: {err.message}", path, line, err.field) from None


def _key_line(path: Path, key: str) -> int | None:
    """The line of a top-level key (YAML mappings only remember where they start)."""
    pattern = re.compile(rf"^['\"]?{re.escape(str(key))}['\"]?\s*:")
    for number, text in enumerate(read_text(path).splitlines(), start=1):
        if pattern.match(text):
            return number
    return None


def _tasks(raw: Any, path: Path, line: int | None, where: str) -> tuple[str, ...]:
    if isinstance(raw, str):
        raw = [raw]
    if not isinstance(raw, list) or not raw:
        raise UserError(f"expected a non-empty list of tasks ({', '.join(TASKS)})", path, line, where)
    for task in raw:
        if task not in TASKS:
            raise unknown_name_error("task", task, TASKS, path, line, where)
    return tuple(t for t in TASKS if t in raw)


def _system(raw: Any, path: Path, line: int | None, index: int) -> SystemConfig:
    if not isinstance(raw, dict):
        raise UserError(f"systems[{index}]: expected a mapping with 'adapter'", path, line)
    for key in raw:
        if key not in SYSTEM_KEYS:
            raise unknown_name_error(f"key in systems[{index}]", key, SYSTEM_KEYS, path, line)
    adapter = raw.get("adapter")
    if not isinstance(adapter, str) or not adapter:
        raise UserError(f"systems[{index}]: missing or not a string", path, line, "adapter")
    name = raw.get("name", adapter)
    if not isinstance(name, str) or not name.strip() or "\n" in name:
        raise UserError(f"systems[{index}]: a name is a one-line string", path, line, "name")
    options = raw.get("options") or {}
    if not isinstance(options, dict):
        raise UserError(f"system {name}: options must be a mapping", path, line, "options")
    tasks = _tasks(raw["tasks"], path, line, "tasks") if "tasks" in raw else None
    timeout = raw.get("timeout")
    if timeout is not None and (isinstance(timeout, bool) or not isinstance(timeout, (int, float))
                                or not math.isfinite(timeout) or timeout <= 0):
        raise UserError(f"system {name}: timeout is seconds per document, a positive number", path, line, "timeout")
    return SystemConfig(name, adapter, options, tasks, float(timeout) if timeout else None, line)


def _corpus(raw: Any, path: Path, line: int | None) -> CorpusConfig:
    if not isinstance(raw, dict):
        raise UserError("corpus: expected a mapping (kind: gold | dataset)", path, line, "corpus")
    line = line_of(raw) or line
    for key in raw:
        if key not in CORPUS_KEYS:
            raise unknown_name_error("corpus key", key, CORPUS_KEYS, path, line)
    columns = raw.get("columns")
    checked = check_options(CORPUS_OPTIONS, {k: v for k, v in raw.items() if k != "columns"}, "corpus", path, line)
    kind = checked["kind"]
    base = path.parent
    if kind == "gold":
        for key in ("format", "files", "columns", "limit"):
            if key in raw:
                raise UserError("corpus: only for kind: dataset", path, line, key)
        return CorpusConfig("gold", checked["path"])
    if not checked["format"]:
        raise UserError("corpus: kind: dataset needs format (json, csv or parquet)", path, line, "format")
    files = checked["files"] or ((checked["path"],) if checked["path"] else ())
    if not files:
        raise UserError("corpus: kind: dataset needs files", path, line, "files")
    resolved = []
    for f in files:
        p = Path(f)
        if not p.is_absolute() and not p.exists() and (base / p).exists():
            p = base / p
        if not p.exists():
            raise UserError(f"corpus: data file not found: {f}", path, line, "files")
        resolved.append(str(p))
    columns = columns or {}
    if not isinstance(columns, dict):
        raise UserError("corpus: columns must map id/text/reference to column names", path, line, "columns")
    for key in columns:
        if key not in COLUMN_KEYS:
            raise unknown_name_error("column role", key, COLUMN_KEYS, path, line, "columns")
    refs = columns.get("reference", "summary")
    refs = (refs,) if isinstance(refs, str) else refs
    if not isinstance(refs, (list, tuple)) or not refs or not all(isinstance(r, str) for r in refs):
        raise UserError("corpus: columns.reference is a column name or a list of them", path, line, "columns")
    for key in ("id", "text"):
        if key in columns and not isinstance(columns[key], str):
            raise UserError(f"corpus: columns.{key} must be a column name", path, line, "columns")
    return CorpusConfig("dataset", None, checked["format"], tuple(resolved), checked["split"], columns.get("id"),
                        columns.get("text", "text"), tuple(refs), checked["limit"])
