"""`harness run` end to end, in real subprocesses: tables, files, cache, resume after SIGKILL, failures."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from rouge_score import rouge_scorer

from harness import gold
from harness.predictions import read_predictions

ROOT = Path(__file__).resolve().parent.parent
FAKE_MODEL = ROOT / "tests" / "tools" / "fake_model.py"
CORPUS, _ = gold.load()
DOC_IDS = [d.doc_id for d in CORPUS.documents]


def harness(*args: str, cwd: Path, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "harness.cli", *args], capture_output=True, text=True, cwd=cwd,
                          timeout=timeout)


def write_config(path: Path, systems: list[dict], tasks=("summary", "claims"), **extra) -> Path:
    config = {"tasks": list(tasks), "systems": systems, "scoring": {"bootstrap": 50}, **extra}
    path.write_text(json.dumps(config), encoding="utf-8")  # JSON is YAML
    return path


def fake(*flags: str, **options) -> dict:
    return {"argv": [sys.executable, str(FAKE_MODEL), *flags], **options}


def counter_lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines() if path.exists() else []


def predictions_by_doc(path: Path, system: str) -> dict[str, dict]:
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    return {r["doc_id"]: r for r in rows if r["system"] == system}


def mean_rouge_l(summaries: dict[str, str]) -> float:
    """ROUGE-L F, best reference per document, mean over documents: computed with rouge-score directly."""
    scorer = rouge_scorer.RougeScorer(["rougeL"], use_stemmer=True)
    values = []
    for doc in CORPUS.documents:
        values.append(max(scorer.score(s.text, summaries[doc.doc_id])["rougeL"].fmeasure for s in doc.summaries))
    return sum(values) / len(values)


# --------------------------------------------------------------------------- the main command


def test_default_config_prints_table_and_writes_results(tmp_path: Path):
    started = time.perf_counter()
    done = harness("run", "--config", str(ROOT / "configs" / "default.yaml"), "--no-progress", cwd=tmp_path)
    elapsed = time.perf_counter() - started
    assert done.returncode == 0, done.stderr
    assert elapsed < 60
    out = tmp_path / "results" / "default"
    for name in ("lead-3", "lead-3-raw", "textrank-3", "sentence-claims", "sentence-claims-raw", "oracle"):
        assert name in done.stdout
    assert "Summaries (ROUGE F" in done.stdout and "Claims (micro" in done.stdout
    assert "no failures" in done.stdout
    results = json.loads((out / "results.json").read_text())
    manifest = results["manifest"]
    assert manifest["gold"]["sha256"] == CORPUS.sha256 == results["gold_sha256"]
    assert manifest["harness_version"] == "0.1.0"
    assert set(manifest["systems"]) == set(results["systems"])
    assert manifest["systems"]["lead-3"]["options"] == {"k": 3, "text": "story"}
    assert manifest["packages"]["rouge-score"] == "0.1.2"
    assert manifest["seeds"]["scoring"] == 12345
    assert manifest["failures"]["count"] == 0
    assert {"total", "scoring", "oracle"} <= set(manifest["timings_seconds"])
    # One line per (document, system), readable by the strict predictions parser.
    predictions = read_predictions(out / "predictions.jsonl", CORPUS)
    assert len(predictions) == 6 * len(DOC_IDS)
    # The oracle returns the gold claims: claim F1 is 1 by construction.
    assert results["systems"]["oracle"]["claims"]["f1"] == 1.0
    # Lead-3 on the story: the first three sentences of the headline+body text, checked by hand on one document.
    lead = predictions_by_doc(out / "predictions.jsonl", "lead-3")["000_15d33b86afb41c0d"]["summary"]
    assert lead.startswith("Russia's military casualties top 1 million in 3-year-old war, Ukraine says KYIV, Ukraine (AP)")
    assert lead.endswith("is in line with Western intelligence estimates.")
    # Its ROUGE-L equals rouge-score's own numbers on the saved summaries.
    leads = {k: v["summary"] for k, v in predictions_by_doc(out / "predictions.jsonl", "lead-3").items()}
    assert results["systems"]["lead-3"]["summary"]["rougeL"]["fmeasure"] == pytest.approx(mean_rouge_l(leads), abs=1e-9)
    # `harness score` rescores the saved predictions to the same numbers.
    rescored = harness("score", "--predictions", str(out / "predictions.jsonl"), "--json", "--bootstrap", "1000",
                       cwd=tmp_path)
    assert rescored.returncode == 0, rescored.stderr
    again = json.loads(rescored.stdout)
    for name, system in results["systems"].items():
        assert again["systems"][name]["summary"] == system["summary"]
        assert again["systems"][name]["claims"] == system["claims"]


# --------------------------------------------------------------------------- cache


def test_second_run_calls_no_model(tmp_path: Path):
    counter = tmp_path / "calls.txt"
    config = write_config(tmp_path / "cmd.yaml", [{"name": "fake", "adapter": "command",
                                                   "options": fake("--counter", str(counter))}])
    first = harness("run", "--config", str(config), "--no-progress", cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert len(counter_lines(counter)) == 2 * len(DOC_IDS)
    assert "cache: 0 hits, 10 misses" in first.stdout
    second = harness("run", "--config", str(config), "--no-progress", cwd=tmp_path)
    assert second.returncode == 0, second.stderr
    assert len(counter_lines(counter)) == 2 * len(DOC_IDS)  # not one more call
    assert "cache: 10 hits, 0 misses" in second.stdout
    out = tmp_path / "results" / "cmd"
    manifest = json.loads((out / "results.json").read_text())["manifest"]
    assert manifest["cache"]["hits"] == 10 and manifest["cache"]["misses"] == 0
    # The cached outputs are the model's: summary = first 30 words of the story.
    rows = predictions_by_doc(out / "predictions.jsonl", "fake")
    for doc in CORPUS.documents:
        assert rows[doc.doc_id]["summary"] == " ".join(doc.story_text().split()[:30])
        first_line = doc.story_text().split("\n")[0].strip()
        start = doc.text.find(first_line)
        assert rows[doc.doc_id]["claims"][0] == {"text": first_line, "span": [start, start + len(first_line)]}
    # Changing an option changes the key: the model is called again.
    write_config(tmp_path / "cmd.yaml", [{"name": "fake", "adapter": "command",
                                          "options": fake("--counter", str(counter), "--words", "20")}])
    third = harness("run", "--config", str(config), "--no-progress", cwd=tmp_path)
    assert third.returncode == 0, third.stderr
    assert len(counter_lines(counter)) == 4 * len(DOC_IDS)
    # --no-cache neither reads nor writes.
    fourth = harness("run", "--config", str(config), "--no-progress", "--no-cache", cwd=tmp_path)
    assert fourth.returncode == 0 and "cache: off" in fourth.stdout
    assert len(counter_lines(counter)) == 6 * len(DOC_IDS)


def test_killed_run_resumes_where_it_stopped(tmp_path: Path):
    counter = tmp_path / "calls.txt"
    cache = tmp_path / "cache"
    config = write_config(tmp_path / "slow.yaml", [{"name": "slow", "adapter": "command",
                                                    "options": fake("--counter", str(counter), "--sleep", "0.6")}],
                          tasks=["summary"])
    process = subprocess.Popen([sys.executable, "-m", "harness.cli", "run", "--config", str(config), "--no-progress",
                                "--cache-dir", str(cache)], cwd=tmp_path, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 120
    while len(list(cache.rglob("*.json"))) < 2:
        assert process.poll() is None, "the run ended before it could be killed"
        assert time.monotonic() < deadline
        time.sleep(0.05)
    os.killpg(process.pid, signal.SIGKILL)  # the run and its model process, mid-document
    process.wait(timeout=30)
    assert process.returncode == -signal.SIGKILL
    cached = len(list(cache.rglob("*.json")))
    assert 2 <= cached < len(DOC_IDS)
    assert not (tmp_path / "results" / "slow" / "results.json").exists()
    calls_before = len(counter_lines(counter))

    done = harness("run", "--config", str(config), "--no-progress", "--cache-dir", str(cache), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert len(counter_lines(counter)) - calls_before == len(DOC_IDS) - cached
    assert f"cache: {cached} hits, {len(DOC_IDS) - cached} misses" in done.stdout
    rows = predictions_by_doc(tmp_path / "results" / "slow" / "predictions.jsonl", "slow")
    assert sorted(rows) == DOC_IDS and not any("failure" in r for r in rows.values())
    assert not list(cache.rglob("*.tmp"))


# --------------------------------------------------------------------------- failures


def test_failures_are_recorded_and_scored_as_empty(tmp_path: Path):
    bad, hung, garbage = DOC_IDS[1], DOC_IDS[2], DOC_IDS[3]
    config = write_config(tmp_path / "flaky.yaml", [{
        "name": "flaky", "adapter": "command",
        "options": fake("--fail", bad, "--hang", hung, "--garbage", garbage, timeout=1.0, tasks=["summary"])}])
    done = harness("run", "--config", str(config), "--no-progress", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "3 failed document(s)" in done.stdout
    out = tmp_path / "results" / "flaky"
    rows = predictions_by_doc(out / "predictions.jsonl", "flaky")
    assert rows[bad]["failure"] == f"summary: command exited with status 1: boom on {bad}"
    assert rows[hung]["failure"] == "summary: command timed out after 1 s"
    assert rows[garbage]["failure"].startswith("summary: command printed invalid JSON")
    assert rows[garbage]["meta"]["raw_output"]["summary"] == "{not json\n"
    for doc_id in (bad, hung, garbage):
        assert rows[doc_id]["summary"] == ""
    results = json.loads((out / "results.json").read_text())
    system = results["systems"]["flaky"]
    assert system["failures"] == 3
    assert system["per_doc"][bad]["failure"] == rows[bad]["failure"]
    assert system["per_doc"][bad]["summary"]["rougeL"]["fmeasure"] == 0.0
    assert system["claims"] is None  # a summary-only system is not scored on claims
    assert results["manifest"]["failures"]["by_system"]["flaky"][hung] == rows[hung]["failure"]
    # Scored as empty output: the mean includes zeros for the three failed documents.
    summaries = {d: r["summary"] for d, r in rows.items()}
    assert system["summary"]["rougeL"]["fmeasure"] == pytest.approx(mean_rouge_l(summaries), abs=1e-9)


def test_fail_fast_stops_with_one_line_and_keeps_outputs(tmp_path: Path):
    counter = tmp_path / "calls.txt"
    bad = DOC_IDS[2]
    config = write_config(tmp_path / "ff.yaml", [{"name": "ff", "adapter": "command",
                                                  "options": fake("--counter", str(counter), "--fail", bad,
                                                                  tasks=["summary"])}])
    done = harness("run", "--config", str(config), "--no-progress", "--fail-fast", cwd=tmp_path)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith(f"harness: error: system ff failed on document {bad}: summary: command exited")
    assert "--fail-fast" in lines[0]
    assert len(counter_lines(counter)) == 3  # stopped at the first failure
    rows = predictions_by_doc(tmp_path / "results" / "ff" / "predictions.jsonl", "ff")
    assert sorted(rows) == DOC_IDS[:3]
    assert "failure" in rows[bad] and "failure" not in rows[DOC_IDS[0]]
    # What was computed is kept: a rerun without --fail-fast calls the model only for the rest.
    again = harness("run", "--config", str(config), "--no-progress", cwd=tmp_path)
    assert again.returncode == 0
    assert len(counter_lines(counter)) == 3 + (len(DOC_IDS) - 2)  # the failed one is retried, the two good ones not


def test_system_timeout_for_in_process_adapter(tmp_path: Path):
    """The per-system `timeout` bounds any adapter, even one that never returns."""
    from harness.adapters.base import Adapter, AdapterTimeout, call_with_timeout
    from harness.records import Document

    class Sleepy(Adapter):
        name = "sleepy"
        tasks = ("summary",)

        def summarize(self, doc):
            time.sleep(5)
            return ""

    started = time.perf_counter()
    with pytest.raises(AdapterTimeout, match="timed out after 0.2 s"):
        call_with_timeout(Sleepy(), Document("d", "text"), "summary", 0.2)
    assert time.perf_counter() - started < 2


# --------------------------------------------------------------------------- config errors


@pytest.mark.parametrize("systems, extra, expected", [
    ([{"adapter": "lead", "options": {"kk": 3}}], {},
     "unknown option for adapter lead 'kk'; did you mean 'k'?"),
    ([{"adapter": "leed"}], {}, "unknown adapter 'leed'; did you mean 'lead'?"),
    ([{"adapter": "lead", "options": {"k": "three"}}], {}, "expected int, got str 'three'"),
    ([{"adapter": "lead", "options": {"text": "stroy"}}], {}, "'stroy' is not one of story, raw; did you mean 'story'?"),
    ([{"adapter": "lead", "taks": ["summary"]}], {}, "unknown key in systems[0] 'taks'; did you mean 'tasks'?"),
    ([{"adapter": "lead"}], {"scoring": {"bootstrapp": 10}}, "unknown option for scoring 'bootstrapp'; "
                                                               "did you mean 'bootstrap'?"),
    ([{"adapter": "sentence-claims", "tasks": ["summary"]}], {}, "does not do 'summary'"),
    ([{"adapter": "command", "options": {"argv": ["/no/such/program"]}}], {}, "program not found: /no/such/program"),
    ([{"adapter": "replay", "options": {}}], {}, "missing required option"),
    ([{"adapter": "lead"}], {"corpus": {"kind": "gold", "pth": "gold"}},
     "unknown corpus key 'pth'; did you mean 'path'?"),
    ([{"adapter": "lead"}], {"corpus": {"kind": "datset"}}, "'datset' is not one of gold, dataset; did you mean"),
])
def test_config_errors_are_one_line_with_a_suggestion(tmp_path: Path, monkeypatch, capsys, systems, extra,
                                                      expected):
    from harness.cli import main

    monkeypatch.chdir(tmp_path)
    config = write_config(tmp_path / "bad.yaml", systems, **extra)
    assert main(["run", "--config", str(config), "--no-progress"]) == 2
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1, captured.err
    assert lines[0].startswith(f"harness: error: {config}")
    assert expected in lines[0]
    assert not (tmp_path / "results").exists()


def test_bundled_configs_load_and_build():
    from harness.config import load_run_config
    from harness.runner import build_systems

    for name, systems in (("default", ["lead-3", "lead-3-raw", "textrank-3", "sentence-claims",
                                       "sentence-claims-raw", "oracle"]),
                          ("local-llm", ["smollm2-135m", "lead-3"])):
        config = load_run_config(ROOT / "configs" / f"{name}.yaml")
        built = build_systems(config, config.tasks)  # no model is called while building
        assert [s.name for s in built] == systems
    llm = built[0].adapter
    assert llm.settings["base_url"] == "http://127.0.0.1:8080/v1" and llm.settings["api_key_env"] is None


def test_unknown_top_level_key_names_line(tmp_path: Path, monkeypatch, capsys):
    from harness.cli import main

    monkeypatch.chdir(tmp_path)
    config = tmp_path / "typo.yaml"
    config.write_text("tasks: [summary]\nsytems:\n  - adapter: lead\n", encoding="utf-8")
    assert main(["run", "--config", str(config)]) == 2
    assert capsys.readouterr().err.strip() == (f"harness: error: {config}:2: sytems: unknown config key 'sytems'; did you mean "
                                   "'systems'? (valid: corpus, description, scoring, systems, tasks)")


# --------------------------------------------------------------------------- other corpora


def test_dataset_corpus_from_csv(tmp_path: Path):
    import csv

    rows = [
        {"id": "a", "article": "The river flooded the town on Monday. Ten homes were damaged. Rain continues.",
         "highlights": "A river flood damaged ten homes on Monday."},
        {"id": "b", "article": "The council approved a new budget. Taxes will rise by two percent. Schools gain.",
         "highlights": "The council passed a budget raising taxes two percent."},
        {"id": "c", "article": "A new bridge opened on Friday. It cost 40 million dollars. Traffic eased.",
         "highlights": "A 40 million dollar bridge opened Friday."},
    ]
    with (tmp_path / "news.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=["id", "article", "highlights"])
        writer.writeheader()
        writer.writerows(rows)
    config = write_config(tmp_path / "csv.yaml", [{"name": "lead-1", "adapter": "lead", "options": {"k": 1}}],
                          corpus={"kind": "dataset", "format": "csv", "files": ["news.csv"],
                                  "columns": {"id": "id", "text": "article", "reference": "highlights"}})
    done = harness("run", "--config", str(config), "--no-progress", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "no gold claims" in done.stderr
    results = json.loads((tmp_path / "results" / "csv" / "results.json").read_text())
    assert results["n_documents"] == 3
    assert results["systems"]["lead-1"]["claims"] is None
    scorer = rouge_scorer.RougeScorer(["rouge1", "rougeL"], use_stemmer=True)
    firsts = [r["article"].split(". ")[0] + "." for r in rows]
    expected = [scorer.score(r["highlights"], f) for r, f in zip(rows, firsts)]
    got = results["systems"]["lead-1"]["summary"]
    assert got["rouge1"]["fmeasure"] == pytest.approx(sum(e["rouge1"].fmeasure for e in expected) / 3, abs=1e-9)
    assert got["rougeL"]["fmeasure"] == pytest.approx(sum(e["rougeL"].fmeasure for e in expected) / 3, abs=1e-9)
    # A column that does not exist is named, with the nearest real one.
    write_config(tmp_path / "csv.yaml", [{"adapter": "lead"}],
                 corpus={"kind": "dataset", "format": "csv", "files": ["news.csv"],
                         "columns": {"text": "artikle", "reference": "highlights"}})
    bad = harness("run", "--config", str(config), "--no-progress", cwd=tmp_path)
    assert bad.returncode == 2
    assert "unknown text column 'artikle'; did you mean 'article'?" in bad.stderr


def test_replay_serves_saved_predictions(tmp_path: Path):
    lines = []
    for doc in CORPUS.documents:
        lines.append({"doc_id": doc.doc_id, "system": "elsewhere", "summary": doc.summaries[0].text})
    (tmp_path / "made_elsewhere.jsonl").write_text("".join(json.dumps(x) + "\n" for x in lines[:-1]))
    config = write_config(tmp_path / "replay.yaml", [{"name": "replayed", "adapter": "replay", "tasks": ["summary"],
                                                      "options": {"path": "made_elsewhere.jsonl"}}])
    done = harness("run", "--config", str(config), "--no-progress", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    results = json.loads((tmp_path / "results" / "replay" / "results.json").read_text())
    per_doc = results["systems"]["replayed"]["per_doc"]
    # A reference summary scored against the references it belongs to: ROUGE-1 F of 1 for the documents given.
    for doc in CORPUS.documents[:-1]:
        assert per_doc[doc.doc_id]["summary"]["rouge1"]["fmeasure"] == pytest.approx(1.0)
    missing = CORPUS.documents[-1].doc_id
    assert per_doc[missing]["failure"] == f"summary: no prediction for document {missing} in made_elsewhere.jsonl"
    assert "1 failed document(s)" in done.stdout


def test_the_manifest_names_no_folder_of_the_machine(tmp_path, monkeypatch, corpus):
    """The bundled gold is recorded as "bundled", a gold file under the working directory by its relative path."""
    from dataclasses import replace

    from harness.provenance import build_manifest
    from harness.scoring.settings import ScoreSettings

    assert build_manifest(corpus, ScoreSettings())["gold"]["source"] == "bundled"
    monkeypatch.chdir(tmp_path)
    (tmp_path / "data").mkdir()
    mine = replace(corpus, source=str(tmp_path / "data" / "gold.jsonl"))
    assert build_manifest(mine, ScoreSettings())["gold"]["source"] == "data/gold.jsonl"
    elsewhere = replace(corpus, source="/somewhere/else/gold.jsonl")
    assert build_manifest(elsewhere, ScoreSettings())["gold"]["source"] == "/somewhere/else/gold.jsonl"
