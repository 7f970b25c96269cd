"""Interruptions, concurrency, determinism and file safety of `harness run`, with real processes and signals.

A run killed at any moment (SIGINT, SIGTERM, SIGKILL) leaves only readable files; the rerun resumes from the
cache and writes the same results.json as an uninterrupted run, apart from the manifest's volatile keys
(manifest["volatile_keys"]: started_at, finished_at, timings_seconds, cache)."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from harness import gold

ROOT = Path(__file__).resolve().parent.parent
FAKE_MODEL = ROOT / "tests" / "tools" / "fake_model.py"
CORPUS, _ = gold.load()
DOC_IDS = [d.doc_id for d in CORPUS.documents]
VOLATILE = ("started_at", "finished_at", "timings_seconds", "cache")  # as documented in the README


def harness(*args: str, cwd: Path, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "harness.cli", *args], capture_output=True, text=True, cwd=cwd,
                          timeout=timeout)


def stable_bytes(path: Path) -> bytes:
    """results.json without the documented volatile manifest keys, in the form results.json is written."""
    results = json.loads(path.read_text(encoding="utf-8"))
    assert results["manifest"]["volatile_keys"] == list(VOLATILE)
    for key in VOLATILE:
        del results["manifest"][key]
    return (json.dumps(results, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode("utf-8")


def model_config(path: Path, *flags: str, name: str = "slow", bootstrap: int = 300) -> Path:
    config = {"tasks": ["summary", "claims"], "scoring": {"bootstrap": bootstrap, "seed": 7}, "systems": [
        {"name": name, "adapter": "command", "options": {"argv": [sys.executable, str(FAKE_MODEL), *flags]}}]}
    path.write_text(json.dumps(config), encoding="utf-8")
    return path


def calls(counter: Path) -> int:
    return len(counter.read_text(encoding="utf-8").splitlines()) if counter.exists() else 0


def cache_entries(cache: Path) -> list[Path]:
    return [p for p in cache.rglob("*.json") if not p.name.endswith(".tmp")]


def assert_readable(out: Path, cache: Path) -> None:
    """Whatever a killed run left behind parses: cache entries, predictions, results."""
    for entry in cache_entries(cache):
        assert isinstance(json.loads(entry.read_text(encoding="utf-8"))["output"], dict), entry
    if (out / "predictions.jsonl").exists():
        for line in (out / "predictions.jsonl").read_text(encoding="utf-8").splitlines():
            json.loads(line)
    if (out / "results.json").exists():  # written last: present means complete
        assert "manifest" in json.loads((out / "results.json").read_text(encoding="utf-8"))


def complete_results(out: Path, reference: bytes) -> bool:
    """This run's results.json, complete (not the earlier run's file, which has no volatile_keys)."""
    path = out / "results.json"
    if not path.exists() or "volatile_keys" not in json.loads(path.read_text(encoding="utf-8"))["manifest"]:
        return False
    return stable_bytes(path) == reference


SLOW = ("--sleep", "0.1", "--counter", "calls.txt")  # relative paths: every folder's config is the same bytes


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> tuple[Path, bytes]:
    """One uninterrupted run: the results every interrupted-and-resumed run must reproduce."""
    folder = tmp_path_factory.mktemp("reference")
    model_config(folder / "slow.yaml", *SLOW)
    done = harness("run", "--config", "slow.yaml", "--out", "out", "--cache-dir", "cache", "--no-progress",
                   cwd=folder)
    assert done.returncode == 0, done.stderr
    return stable_bytes(folder / "out" / "results.json")


# Moments: after the first model output is cached; half-way through the documents; while scoring and writing.
MOMENTS = {"early": lambda out, cache: len(cache_entries(cache)) >= 1,
           "midway": lambda out, cache: len(cache_entries(cache)) >= 5,
           "writing": lambda out, cache: (out / "predictions.jsonl").exists()}
CASES = [(signal.SIGINT, "early"), (signal.SIGTERM, "midway"), (signal.SIGKILL, "midway"),
         (signal.SIGINT, "writing"), (signal.SIGTERM, "writing"), (signal.SIGKILL, "writing")]


@pytest.mark.parametrize("sig, moment", CASES, ids=[f"{s.name}-{m}" for s, m in CASES])
def test_killed_at_any_moment_resumes_to_the_same_results(tmp_path: Path, reference, sig, moment):
    counter, out, cache = tmp_path / "calls.txt", tmp_path / "out", tmp_path / "cache"
    model_config(tmp_path / "slow.yaml", *SLOW)
    out.mkdir()
    earlier = {"signature": "an earlier run", "gold_sha256": "x", "systems": {}, "manifest": {}}
    (out / "results.json").write_text(json.dumps(earlier), encoding="utf-8")
    process = subprocess.Popen([sys.executable, "-m", "harness.cli", "run", "--config", "slow.yaml", "--out", "out",
                                "--cache-dir", "cache", "--no-progress"], cwd=tmp_path, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, start_new_session=True)
    deadline = time.monotonic() + 120
    while not MOMENTS[moment](out, cache):
        assert process.poll() is None, f"the run ended before the {moment} moment: {process.stderr.read()}"
        assert time.monotonic() < deadline
        time.sleep(0.005)
    if sig == signal.SIGKILL:
        os.killpg(process.pid, signal.SIGKILL)  # the run and its model process, without warning
    else:
        process.send_signal(sig)  # the harness alone, as `kill PID` or a CI runner's cancel does
    _, stderr = process.communicate(timeout=120)
    # A signal that landed after the last write: the run exits 0, or, if the interpreter was already shutting
    # down (Python's own handlers gone), dies of the signal; either way its results.json is complete.
    finished = process.returncode == 0 or (process.returncode == -sig and complete_results(out, reference))
    expected_code = {signal.SIGINT: 130, signal.SIGTERM: 143, signal.SIGKILL: -signal.SIGKILL}[sig]
    assert finished or process.returncode == expected_code, (process.returncode, stderr)
    if not finished and sig != signal.SIGKILL:
        assert stderr.strip().splitlines()[-1] == {signal.SIGINT: "harness: interrupted",
                                                   signal.SIGTERM: "harness: terminated"}[sig], stderr
        assert "Traceback" not in stderr
    assert_readable(out, cache)
    if not finished and moment == "writing":  # this run's files have begun to replace the earlier run's:
        assert not (out / "results.json").exists()  # the earlier results.json is gone, so none can pass for this run
    elif not finished:
        assert json.loads((out / "results.json").read_text(encoding="utf-8")) == earlier  # untouched
    cached, called = len(cache_entries(cache)), calls(counter)
    assert cached <= called <= 2 * len(DOC_IDS)

    done = harness("run", "--config", "slow.yaml", "--out", "out", "--cache-dir", "cache", "--no-progress",
                   cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert calls(counter) - called == 2 * len(DOC_IDS) - cached  # only what was not cached is asked again
    assert f"cache: {cached} hits, {2 * len(DOC_IDS) - cached} misses" in done.stdout
    assert stable_bytes(out / "results.json") == reference


WRAPPED = """
import os, signal, sys, time
from harness import cli

def command(args):  # a signal that arrives while a module is importing can surface as another exception
    try:
        os.kill(os.getpid(), getattr(signal, sys.argv[1]))
        time.sleep(5)
    except BaseException as err:
        raise RuntimeError("Error calling __set_name__") from err

cli.COMMANDS["adapters"] = command
sys.exit(cli.main(["adapters", "list"]))
"""


@pytest.mark.parametrize("name, code, word", [("SIGINT", 130, "interrupted"), ("SIGTERM", 143, "terminated")])
def test_a_signal_that_surfaces_as_another_exception_still_exits_as_that_signal(name, code, word):
    done = subprocess.run([sys.executable, "-c", WRAPPED, name], capture_output=True, text=True, timeout=60)
    assert (done.returncode, done.stderr) == (code, f"harness: {word}\n")


def test_two_runs_sharing_one_cache_both_finish_and_agree(tmp_path: Path):
    counter = tmp_path / "calls.txt"
    model_config(tmp_path / "shared.yaml", "--sleep", "0.1", "--counter", str(counter), bootstrap=100)
    runs = [subprocess.Popen([sys.executable, "-m", "harness.cli", "run", "--config", "shared.yaml", "--out", f"out{i}",
                              "--cache-dir", "cache", "--no-progress"], cwd=tmp_path, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True) for i in (1, 2)]
    for process in runs:
        _, err = process.communicate(timeout=300)
        assert process.returncode == 0, err
    entries = cache_entries(tmp_path / "cache")
    assert len(entries) == 2 * len(DOC_IDS)
    for entry in entries:
        assert json.loads(entry.read_text(encoding="utf-8"))["output"]
    assert not [p for p in (tmp_path / "cache").rglob("*.tmp")]
    assert 2 * len(DOC_IDS) <= calls(counter) <= 4 * len(DOC_IDS)
    assert stable_bytes(tmp_path / "out1" / "results.json") == stable_bytes(tmp_path / "out2" / "results.json")
    # Both runs were recorded in the one history database.
    history = harness("history", "--json", cwd=tmp_path)
    assert history.returncode == 0, history.stderr
    assert {len(series["points"]) for series in json.loads(history.stdout)} == {2}


def test_default_config_is_byte_identical_apart_from_volatile_keys(tmp_path: Path):
    for out in ("a", "b"):
        done = harness("run", "--config", str(ROOT / "configs" / "default.yaml"), "--out", out, "--no-cache",
                       "--no-progress", cwd=tmp_path)
        assert done.returncode == 0, done.stderr
    a, b = (tmp_path / out / "results.json" for out in ("a", "b"))
    assert stable_bytes(a) == stable_bytes(b)
    results = json.loads(a.read_text(encoding="utf-8"))
    assert results["manifest"]["seeds"]["scoring"] == 12345 and results["manifest"]["cache"] is None


def test_run_tag_is_kept_in_the_manifest_and_restored_by_history_import(tmp_path: Path):
    config = model_config(tmp_path / "tagged.yaml", bootstrap=0)
    done = harness("run", "--config", str(config), "--tag", "release-2.1", "--no-progress", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    results = json.loads((tmp_path / "results" / "tagged" / "results.json").read_text(encoding="utf-8"))
    assert results["manifest"]["tag"] == "release-2.1"
    rebuilt = harness("history", "import", "results/tagged/results.json", "--db", "rebuilt.sqlite", cwd=tmp_path)
    assert rebuilt.returncode == 0, rebuilt.stderr
    series = json.loads(harness("history", "--db", "rebuilt.sqlite", "--json", cwd=tmp_path).stdout)
    assert {p["tag"] for s in series for p in s["points"]} == {"release-2.1"}


# --------------------------------------------------------------------------- security


def files_under(folder: Path) -> set[Path]:
    return {p for p in folder.rglob("*") if p.is_file()}


HOSTILE = ["../../etc/x", "..\\x", "/tmp/harness-abs-target", "./.hidden/../../up"]


def test_hostile_system_names_in_predictions_stay_inside_the_results_folder(tmp_path: Path):
    work = tmp_path / "deep" / "work"
    work.mkdir(parents=True)
    lines = [{"doc_id": doc, "system": system, "summary": "Russia's losses top 1 million."}
             for system in HOSTILE for doc in DOC_IDS[:2]]
    (work / "p.jsonl").write_text("".join(json.dumps(x) + "\n" for x in lines), encoding="utf-8")
    before = files_under(tmp_path)
    done = harness("score", "--predictions", "p.jsonl", "--bootstrap", "0", "--out", "out", "--db", "h.sqlite",
                   cwd=work)
    assert done.returncode == 0, done.stderr
    new = files_under(tmp_path) - before
    assert new and all(p.is_relative_to(work / "out") or p.name.startswith("h.sqlite") for p in new), new
    assert not Path("/tmp/harness-abs-target").exists()
    results = json.loads((work / "out" / "results.json").read_text(encoding="utf-8"))
    assert set(results["systems"]) == set(HOSTILE)  # names are data, kept as given


def test_hostile_document_ids_and_system_names_stay_inside_results_and_cache(tmp_path: Path):
    work = tmp_path / "deep" / "work"
    work.mkdir(parents=True)
    doc_ids = [*HOSTILE, str(tmp_path / "abs-doc")]
    records = [{"doc_id": d, "text": f"Document {i}. The river flooded the town. Ten homes were damaged.",
                "summaries": [{"id": "s", "length": "headline", "text": "The river flooded ten homes."}]}
               for i, d in enumerate(doc_ids)]
    (work / "mine.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    systems = [{"name": name, "adapter": "command", "options": {"argv": [sys.executable, str(FAKE_MODEL)],
                                                                "tasks": ["summary"]}} for name in HOSTILE]
    (work / "c.yaml").write_text(json.dumps({"tasks": ["summary"], "corpus": {"kind": "gold", "path": "mine.jsonl"},
                                             "scoring": {"bootstrap": 0}, "systems": systems}), encoding="utf-8")
    before = files_under(tmp_path)
    done = harness("run", "--config", "c.yaml", "--out", "out", "--cache-dir", "cache", "--db", "h.sqlite",
                   "--no-progress", cwd=work)
    assert done.returncode == 0, done.stderr
    new = files_under(tmp_path) - before
    assert all(p.is_relative_to(work / "out") or p.is_relative_to(work / "cache") or p.name.startswith("h.sqlite")
               for p in new), sorted(new)
    assert len(cache_entries(work / "cache")) == len(doc_ids)  # one entry per document; the systems share it
    assert not (tmp_path / "abs-doc").exists() and not Path("/tmp/harness-abs-target").exists()
    rows = [json.loads(line) for line in (work / "out" / "predictions.jsonl").read_text().splitlines()]
    assert {r["doc_id"] for r in rows} == set(doc_ids) and {r["system"] for r in rows} == set(HOSTILE)


ECHO_ARGV = """
import json, sys
json.loads(sys.stdin.read())
print(json.dumps({"summary": json.dumps(sys.argv[1:])}))
"""


def test_command_argv_is_passed_literally_never_through_a_shell(tmp_path: Path):
    (tmp_path / "echo_argv.py").write_text(ECHO_ARGV, encoding="utf-8")
    hostile = ["; touch PWNED1", "$(touch PWNED2)", "| touch PWNED3", "`touch PWNED4`", "&& touch PWNED5",
               "> PWNED6", "*", "$HOME"]
    config = tmp_path / "c.yaml"
    config.write_text(json.dumps({"tasks": ["summary"], "scoring": {"bootstrap": 0}, "systems": [
        {"name": "echo", "adapter": "command",
         "options": {"argv": [sys.executable, "echo_argv.py", *hostile]}}]}), encoding="utf-8")
    done = harness("run", "--config", str(config), "--no-progress", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    rows = [json.loads(line) for line in (tmp_path / "results" / "c" / "predictions.jsonl").read_text().splitlines()]
    assert {r["summary"] for r in rows} == {json.dumps(hostile)}
    assert not list(tmp_path.glob("PWNED*"))


FORBIDDEN = {
    "pickle": r"\bimport (c?pickle|dill|shelve|marshal)\b|\b(c?pickle|dill|shelve|marshal)\.(loads?|dumps?|open)\b",
    "a shell": r"shell\s*=\s*True|\bos\.(system|popen|exec\w*|spawn\w*)\(|\bcommands\.getoutput",
    "unsafe YAML": r"yaml\.(unsafe_load|full_load|load_all)\(|yaml\.(Loader|FullLoader|UnsafeLoader|CLoader)\b",
    "eval": r"(?<![\w.])(eval|exec)\(",
    "a non-atomic write": r"\.write_(text|bytes)\(|(?<!fd)open\([^)]*['\"][wax]b?['\"]",
}


@pytest.mark.parametrize("what", FORBIDDEN)
def test_no_forbidden_call_in_the_package(what):
    pattern = re.compile(FORBIDDEN[what])
    hits = [f"{path.relative_to(ROOT)}:{n}: {line.strip()}" for path in sorted((ROOT / "harness").rglob("*.py"))
            for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
            if pattern.search(line) and not line.lstrip().startswith("#")]
    assert hits == [], f"{what} in harness/: {hits}"


def test_yaml_is_only_loaded_with_the_safe_loader():
    calls_ = [f"{path.relative_to(ROOT)}: {m.group(0)}" for path in (ROOT / "harness").rglob("*.py")
              for m in re.finditer(r"yaml\.load\([^)]*\)", path.read_text(encoding="utf-8"))]
    assert calls_ and all("Loader=_LineLoader" in c for c in calls_), calls_
    from harness.io import _LineLoader
    import yaml

    assert issubclass(_LineLoader, yaml.SafeLoader)
