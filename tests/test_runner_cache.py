"""The output cache: keys, safe paths, atomic entries, concurrent writers, corrupt files."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from harness.cache import Cache, document_sha256, entry_key, input_sha256, safe_name
from harness.records import Claim, Document, Region, Summary


def test_key_changes_with_each_part():
    base = ("lead", "1", "abc", "d" * 64, "summary")
    keys = {entry_key(*base)}
    for i, other in enumerate(("textrank", "2", "abd", "e" * 64, "claims")):
        changed = list(base)
        changed[i] = other
        keys.add(entry_key(*changed))
    assert len(keys) == 6
    assert entry_key(*base) == entry_key(*base)


def test_document_hash_covers_what_an_adapter_reads():
    doc = Document("x", "Headline\nBody text.", outlet="AP", date="2025-06-13",
                   regions=(Region(0, 8, "headline"), Region(9, 19, "body")))
    record = {"date": "2025-06-13", "headline": "", "outlet": "AP", "regions": [[0, 8, "headline"], [9, 19, "body"]],
              "text": "Headline\nBody text."}
    expected = hashlib.sha256(json.dumps(record, sort_keys=True, separators=(",", ":")).encode()).hexdigest()
    assert document_sha256(doc.source()) == expected
    assert document_sha256(Document("y", doc.text, outlet="AP", date="2025-06-13", regions=doc.regions).source()) \
        == expected  # the id is not content
    assert document_sha256(Document("x", doc.text).source()) != expected


def test_only_a_gold_reader_s_key_covers_the_gold():
    doc = Document("x", "Body text.", claims=(Claim("c1", "Body text."),), summaries=(Summary("s", "short", "Body."),))
    corrected = Document("x", "Body text.", claims=(Claim("c1", "A body text."),), summaries=doc.summaries)
    resummarised = Document("x", "Body text.", claims=doc.claims, summaries=(Summary("s", "short", "Text."),))
    assert input_sha256(doc, reads_gold=False) == input_sha256(corrected, reads_gold=False) \
        == document_sha256(doc.source())
    keys = {input_sha256(d, reads_gold=True) for d in (doc, corrected, resummarised)}
    assert len(keys) == 3 and document_sha256(doc.source()) not in keys


@pytest.mark.parametrize("name, expected", [
    ("lead", "lead"), ("../../etc/passwd", "_.._etc_passwd"), ("..", "_"), ("a/b\\c", "a_b_c"),
    ("openai-compatible", "openai-compatible"), ("", "_"), ("/abs", "_abs"),
])
def test_safe_name(name, expected):
    assert safe_name(name) == expected


def test_entries_stay_inside_the_cache_dir(tmp_path: Path):
    cache = Cache(tmp_path / "c")
    key = entry_key("x", "1", "o", "d", "summary")
    cache.put("../../escape", key, {"output": {"summary": "s"}})
    files = list(tmp_path.rglob("*.json"))
    assert len(files) == 1 and files[0].is_relative_to(tmp_path / "c")
    with pytest.raises(ValueError):
        cache.path("lead", "../../x")


def test_hits_misses_and_corrupt_entries(tmp_path: Path):
    cache = Cache(tmp_path)
    key = entry_key("lead", "1", "o", "d", "summary")
    assert cache.get("lead", key) is None
    cache.put("lead", key, {"output": {"summary": "hello"}})
    assert cache.get("lead", key)["output"] == {"summary": "hello"}
    cache.path("lead", key).write_text('{"output": {"summ', encoding="utf-8")  # a torn write from elsewhere
    assert cache.get("lead", key) is None
    assert cache.stats() == {"dir": str(tmp_path), "hits": 1, "misses": 2, "writes": 1, "corrupt": 1}


WRITER = """
import sys
from pathlib import Path
from harness.cache import Cache, entry_key
cache = Cache(Path(sys.argv[1]))
who = sys.argv[2]
for round_ in range(3):
    for i in range(40):
        key = entry_key("shared", "1", "o", str(i), "summary")
        cache.put("shared", key, {"output": {"summary": "x" * 5000 + str(i)}, "writer": who})
        entry = cache.get("shared", key)
        assert entry is not None and entry["output"]["summary"].endswith(str(i)), entry
print(cache.hits, cache.corrupt)
"""


def test_concurrent_processes_never_see_half_an_entry(tmp_path: Path):
    processes = [subprocess.Popen([sys.executable, "-c", WRITER, str(tmp_path), str(n)], stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True) for n in range(4)]
    for p in processes:
        out, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
        assert out.split()[0] == "120" and out.strip().endswith("[]")
    files = list(tmp_path.rglob("*.json"))
    assert len(files) == 40
    for f in files:
        entry = json.loads(f.read_text(encoding="utf-8"))
        assert entry["output"]["summary"].startswith("x" * 5000)
    assert not [p for p in tmp_path.rglob("*") if p.name.endswith(".tmp")]


def test_sweep_removes_only_temporaries_older_than_an_hour(tmp_path: Path):
    cache = Cache(tmp_path)
    key = entry_key("lead", "1", "o", "d", "summary")
    cache.put("lead", key, {"output": {"summary": "kept"}})
    folder = cache.path("lead", key).parent
    stale, fresh = folder / f".{key}.json.abc123.tmp", folder / f".{key}.json.def456.tmp"
    stale.write_text('{"out', encoding="utf-8")  # what a SIGKILL mid-write leaves
    fresh.write_text('{"out', encoding="utf-8")  # a concurrent run's write in progress
    two_hours_ago = time.time() - 7200
    os.utime(stale, (two_hours_ago, two_hours_ago))
    assert cache.sweep_stale_temporaries() == 1
    assert not stale.exists() and fresh.exists()
    assert cache.get("lead", key)["output"] == {"summary": "kept"}
