"""A cache of model outputs: one small JSON file per (adapter, version, options+prompt hash, document, task).

A rerun calls no model, an interrupted run resumes where it stopped, and saved outputs can be
rescored. Each entry is written atomically (temporary file + rename), so concurrent runs sharing a
cache directory never see half a file: the worst case is the same entry written twice.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from harness.io import WriteError, dumps_canonical, safe_name, temporary_glob, write_json
from harness.records import Document, Source

DEFAULT_DIR = Path(".cache") / "harness"
FORMAT = 1
# A temporary entry this old was left by a writer that was killed (SIGKILL, power loss): no live writer
# takes an hour to write a few kilobytes, so removing it cannot race with one.
STALE_TEMPORARY_SECONDS = 3600.0


def document_sha256(doc: Source) -> str:
    """What an adapter can see of a document (its Source: text, regions, headline, date, outlet); not its id."""
    record = {"text": doc.text, "regions": [[r.start, r.end, r.label] for r in doc.regions],
              "headline": doc.headline, "date": doc.date, "outlet": doc.outlet}
    return hashlib.sha256(dumps_canonical(record).encode("utf-8")).hexdigest()


def input_sha256(doc: Document, reads_gold: bool) -> str:
    """The document part of a cache key: the source, and for an adapter that reads the gold the gold too,
    so a corrected gold claim or reference summary invalidates that adapter's outputs (and only its)."""
    source = document_sha256(doc.source())
    if not reads_gold:
        return source
    from harness.gold import document_record

    record = document_record(doc)
    gold = {"claims": record["claims"], "summaries": record["summaries"]}
    return hashlib.sha256(f"{source}|gold:{dumps_canonical(gold)}".encode("utf-8")).hexdigest()


def entry_key(adapter: str, version: str, options_hash: str, doc_sha256: str, task: str) -> str:
    material = {"format": FORMAT, "adapter": adapter, "version": version, "options": options_hash,
                "doc": doc_sha256, "task": task}
    return hashlib.sha256(dumps_canonical(material).encode("utf-8")).hexdigest()


@dataclass
class Cache:
    """Counts hits and misses for the run manifest; a missing or corrupt entry is a miss.

    A cache that cannot be written (disk full, permissions) is switched off for the rest of the run, with one
    warning: the run goes on and its outputs still reach predictions.jsonl; only resuming is lost.
    """

    root: Path
    hits: int = 0
    misses: int = 0
    writes: int = 0
    corrupt: list[str] = field(default_factory=list)
    warn: Callable[[str], None] | None = field(default=None, repr=False, compare=False)
    disabled: str | None = None  # why writing stopped
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def _count(self, name: str) -> None:
        with self._lock:
            setattr(self, name, getattr(self, name) + 1)

    def path(self, adapter: str, key: str) -> Path:
        if not re.fullmatch(r"[0-9a-f]{64}", key):
            raise ValueError("a cache key is a sha256 hex digest")
        return self.root / safe_name(adapter) / key[:2] / f"{key}.json"

    def get(self, adapter: str, key: str) -> dict | None:
        path = self.path(adapter, key)
        try:
            entry = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            self._count("misses")
            return None
        except (OSError, ValueError):
            entry = None
        if not isinstance(entry, dict) or entry.get("key") != key or not isinstance(entry.get("output"), dict):
            self.corrupt.append(str(path))
            self._count("misses")
            return None
        self._count("hits")
        return entry

    def put(self, adapter: str, key: str, entry: dict) -> None:
        if self.disabled:
            return
        try:
            write_json(self.path(adapter, key), {**entry, "key": key, "format": FORMAT})
        except WriteError as err:
            with self._lock:
                first, self.disabled = self.disabled is None, self.disabled or str(err)
            if first and self.warn:
                self.warn(f"warning: cache: {err}; going on without the cache (outputs still reach "
                          "predictions.jsonl, but an interrupted run cannot resume from them)")
            return
        self._count("writes")

    def sweep_stale_temporaries(self, older_than: float = STALE_TEMPORARY_SECONDS) -> int:
        """Remove half-written entries that killed runs left behind; returns how many were removed."""
        cutoff, removed = time.time() - older_than, 0
        for tmp in self.root.glob(f"*/*/{temporary_glob('*.json')}"):
            try:
                if tmp.stat().st_mtime < cutoff:
                    tmp.unlink()
                    removed += 1
            except FileNotFoundError:  # another run swept it first
                continue
        return removed

    def stats(self) -> dict:
        stats = {"dir": str(self.root), "hits": self.hits, "misses": self.misses, "writes": self.writes,
                 "corrupt": len(self.corrupt)}
        return {**stats, "disabled": self.disabled} if self.disabled else stats
