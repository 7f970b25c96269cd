"""Models never see the answers: a plugin adapter is handed a Source from which no gold is reachable; only an
adapter that declares reads_gold (the oracle) gets the Document, and every table reports it as a ceiling."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import yaml

from harness import gold
from harness.records import Source
from tests.tools.gold_probe import ATTEMPTS, reachable

ROOT = Path(__file__).resolve().parent.parent
CORPUS, _ = gold.load()


def gold_texts() -> set[str]:
    """Every gold answer as text: claim wordings and reference summaries."""
    return {c.text for d in CORPUS.documents for c in d.claims} | {s.text for d in CORPUS.documents for s in d.summaries}


def test_nothing_reachable_from_a_source_is_gold():
    doc = CORPUS.documents[0]
    found = reachable(doc.source())
    assert doc.text in found  # the walk reaches the data it should
    assert not [o for o in found if type(o).__name__ in ("Document", "Corpus", "Claim", "Summary")]
    assert not gold_texts() & {o for o in found if isinstance(o, str)}
    assert not hasattr(doc.source(), "__dict__")


def probe_env(tmp_path: Path) -> dict:
    """A real entry point for tests/tools/gold_probe.py: a dist-info folder on PYTHONPATH."""
    info = tmp_path / "site" / "gold_probe-1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: gold-probe\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text("[harness.adapters]\ngold-probe = tests.tools.gold_probe:GoldProbe\n")
    return {"PYTHONPATH": f"{info.parent}:{ROOT}", "PATH": "/usr/bin:/bin"}


def test_a_plugin_cannot_read_the_gold_and_the_oracle_is_labelled_a_ceiling(tmp_path: Path):
    dumps = {"same thread": tmp_path / "same", "worker thread": tmp_path / "worker"}
    for folder in dumps.values():
        folder.mkdir()
    config = tmp_path / "probe.yaml"
    config.write_text(yaml.safe_dump({"systems": [
        {"name": "probe", "adapter": "gold-probe", "options": {"dump_dir": str(dumps["same thread"])}},
        {"name": "probe-timed", "adapter": "gold-probe", "timeout": 60,  # called in a worker thread
         "options": {"dump_dir": str(dumps["worker thread"])}},
        {"name": "oracle", "adapter": "oracle"}]}))
    done = subprocess.run([sys.executable, "-m", "harness.cli", "run", "--config", str(config), "--out", "out",
                           "--no-progress", "--db", "h.sqlite"], capture_output=True, text=True, cwd=tmp_path,
                          env=probe_env(tmp_path), timeout=600)
    assert done.returncode == 0, done.stderr
    answers = gold_texts()
    for where, folder in dumps.items():
        records = {p.name: json.loads(p.read_text(encoding="utf-8")) for p in folder.glob("*.json")}
        assert len(records) == 2 * len(CORPUS.documents), where  # every document, both tasks
        for name, record in records.items():
            doc = CORPUS.by_id()[name.split(".")[0]]
            assert record["given"] == "Source", (where, name)
            assert record["attempts"] == {a: "AttributeError" for a in ATTEMPTS}, (where, name)
            assert record["gold_objects"] == [], (where, name)
            assert doc.text in record["strings"] and doc.headline in record["strings"]  # it did see the source
            assert not answers & set(record["strings"]), (where, name)
    results = json.loads((tmp_path / "out" / "results.json").read_text(encoding="utf-8"))
    oracle = results["systems"]["oracle"]
    assert oracle["reads_gold"] is True and results["systems"]["probe"]["reads_gold"] is False
    assert oracle["claims"]["f1"] == 1.0  # it still got the gold claims: each matches itself
    assert results["manifest"]["systems"]["oracle"]["reads_gold"] is True
    out = tmp_path / "out"
    for table in ("leaderboard.txt", "leaderboard.md", "per_doc.md", "report.html"):
        text = (out / table).read_text(encoding="utf-8")
        assert "oracle (ceiling)" in text, table
        assert "reads the gold answers: an upper bound, not a competitor" in text, table
    assert "oracle (ceiling)" in done.stdout
    # ranked after the competitors although it scores highest
    claims_table = done.stdout.split("Claims (")[1]
    assert claims_table.index("probe ") < claims_table.index("oracle (ceiling)")
    csv_rows = (out / "leaderboard.csv").read_text(encoding="utf-8").splitlines()
    header = csv_rows[0].split(",")
    flags = {row.split(",")[0]: row.split(",")[header.index("reads_gold")] for row in csv_rows[1:]}
    assert flags == {"probe": "False", "probe-timed": "False", "oracle": "True"}
