"""File systems: unreadable inputs, output folders that are files or not writable, full disks, two runs into
one folder, names that would write outside their folder, file permissions. Each ends in one line and exit 2
(or, for a full cache, a warning and a complete run), and no model answer computed is lost.

Real processes and real file systems: a root test process drops its capabilities (setpriv) for the permission
cases, and a full disk is a 16-64 kB tmpfs mounted for the test (skipped where mounting is not allowed)."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from harness import gold

ROOT = Path(__file__).resolve().parent.parent
FAKE_MODEL = ROOT / "tests" / "tools" / "fake_model.py"
DOC_IDS = [d.doc_id for d in gold.load()[0].documents]
ROOT_USER = hasattr(os, "geteuid") and os.geteuid() == 0


def harness(*args: str, cwd: Path, unprivileged: bool = False, timeout: float = 300) -> subprocess.CompletedProcess:
    """The real command line. `unprivileged`: without root's power to read and write any file, so that file
    permissions apply to it as they do to every user."""
    prefix = []
    if unprivileged and ROOT_USER:
        if shutil.which("setpriv") is None:
            pytest.skip("running as root without setpriv: file permissions cannot be made to apply")
        prefix = ["setpriv", "--inh-caps=-all", "--bounding-set=-all"]
    return subprocess.run([*prefix, sys.executable, "-m", "harness.cli", *args], capture_output=True, text=True,
                          cwd=cwd, timeout=timeout)


def one_line(done: subprocess.CompletedProcess) -> str:
    assert done.returncode == 2, (done.returncode, done.stdout, done.stderr)
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("harness: error: "), done.stderr
    assert "Traceback" not in done.stderr
    return lines[0][len("harness: error: "):]


def model_config(path: Path, counter: Path, *flags: str) -> Path:
    config = {"tasks": ["summary", "claims"], "scoring": {"bootstrap": 0}, "systems": [
        {"name": "fake", "adapter": "command",
         "options": {"argv": [sys.executable, str(FAKE_MODEL), "--counter", str(counter), *flags]}}]}
    path.write_text(json.dumps(config), encoding="utf-8")
    return path


def calls(counter: Path) -> int:
    return len(counter.read_text(encoding="utf-8").splitlines()) if counter.exists() else 0


# --------------------------------------------------------------------------- unreadable inputs


def _unreadable_predictions(tmp: Path) -> tuple[list[str], str]:
    path = tmp / "p.jsonl"
    path.write_text(json.dumps({"doc_id": DOC_IDS[0], "system": "s", "summary": "x"}) + "\n", encoding="utf-8")
    path.chmod(0)
    return ["score", "--predictions", "p.jsonl"], "p.jsonl: permission denied: cannot read this file"


def _unreadable_config(tmp: Path) -> tuple[list[str], str]:
    path = tmp / "c.yaml"
    path.write_text("systems:\n  - {name: lead-3, adapter: lead}\n", encoding="utf-8")
    path.chmod(0)
    return ["run", "--config", "c.yaml"], "c.yaml: permission denied: cannot read this file"


def _unreadable_annotation(tmp: Path) -> tuple[list[str], str]:
    shutil.copytree(ROOT / "gold", tmp / "g", ignore=shutil.ignore_patterns("second_reading", "agreement", "matching"))
    (tmp / "g" / "annotations" / f"{DOC_IDS[1]}.yaml").chmod(0)
    return (["score", "--predictions", str(ROOT / "results" / "baseline" / "predictions.jsonl"), "--gold", "g"],
            f"g/annotations/{DOC_IDS[1]}.yaml: permission denied: cannot read this file")


@pytest.mark.parametrize("case", [_unreadable_predictions, _unreadable_config, _unreadable_annotation],
                         ids=["predictions", "run config", "gold annotation"])
def test_an_unreadable_input_file_is_one_line(tmp_path: Path, case):
    args, expected = case(tmp_path)
    assert one_line(harness(*args, cwd=tmp_path, unprivileged=True)) == expected


# --------------------------------------------------------------------------- where results go, checked first


def test_out_that_is_a_file_is_refused_before_any_model_is_called(tmp_path: Path):
    counter = tmp_path / "calls.txt"
    model_config(tmp_path / "c.yaml", counter)
    (tmp_path / "taken").write_text("someone's file\n", encoding="utf-8")
    line = one_line(harness("run", "--config", "c.yaml", "--out", "taken", "--no-cache", "--no-progress",
                            cwd=tmp_path))
    assert line == "taken: is a file; the output folder must be a folder (choose another --out)"
    assert calls(counter) == 0  # no answer was computed only to be lost
    assert (tmp_path / "taken").read_text(encoding="utf-8") == "someone's file\n"


def test_unwritable_out_is_refused_before_any_model_is_called(tmp_path: Path):
    counter = tmp_path / "calls.txt"
    model_config(tmp_path / "c.yaml", counter)
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    line = one_line(harness("run", "--config", "c.yaml", "--out", "locked/run", "--no-cache", "--no-progress",
                            cwd=tmp_path, unprivileged=True))
    assert line == "locked/run: permission denied: cannot write here"
    assert calls(counter) == 0


def test_db_that_is_a_folder_is_refused_before_any_model_is_called(tmp_path: Path):
    counter = tmp_path / "calls.txt"
    model_config(tmp_path / "c.yaml", counter)
    (tmp_path / "dbdir").mkdir()
    line = one_line(harness("run", "--config", "c.yaml", "--db", "dbdir", "--no-progress", cwd=tmp_path))
    assert line == "dbdir: is a folder; --db names the history database file (e.g. results/history.sqlite)"
    assert calls(counter) == 0 and not (tmp_path / "results").exists()


@pytest.mark.parametrize("flag, target, expected", [
    ("--junit", "a_folder", "a_folder: is a folder; expected a file name"),
    ("--markdown", "/proc/compare.md", "/proc/compare.md: cannot write (No such file or directory)"),
], ids=["junit into a folder", "markdown under proc"])
def test_compare_output_that_cannot_be_written_is_one_line(tmp_path: Path, flag, target, expected):
    (tmp_path / "a_folder").mkdir()
    baseline = str(ROOT / "results" / "baseline" / "results.json")
    done = harness("compare", baseline, baseline, flag, target, cwd=tmp_path)
    assert one_line(done) == expected
    assert done.stdout == ""  # the file is written before the table is printed: one line is the whole story


def test_a_config_named_dot_dot_writes_inside_results(tmp_path: Path):
    """The default folder is results/<config stem>; "...yaml" has the stem "..", which named the working folder."""
    shutil.copy(ROOT / "configs" / "default.yaml", tmp_path / "...yaml")
    (tmp_path / "results.json").write_text("mine\n", encoding="utf-8")
    done = harness("run", "--config", "...yaml", "--no-cache", "--no-progress", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "results" / "_" / "results.json").is_file()
    assert (tmp_path / "results.json").read_text(encoding="utf-8") == "mine\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["...yaml", "results", "results.json"]


# --------------------------------------------------------------------------- two writers, one folder


def test_a_second_run_into_a_busy_folder_is_refused_and_the_first_stays_whole(tmp_path: Path):
    counter = tmp_path / "calls.txt"
    model_config(tmp_path / "slow.yaml", counter, "--sleep", "0.3")
    model_config(tmp_path / "fast.yaml", tmp_path / "fast-calls.txt", "--words", "5")
    first = subprocess.Popen([sys.executable, "-m", "harness.cli", "run", "--config", "slow.yaml", "--out", "shared",
                              "--cache-dir", "cache", "--no-progress"], cwd=tmp_path, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while calls(counter) < 1:  # the first run holds the folder and is calling its model
        assert first.poll() is None and time.monotonic() < deadline
        time.sleep(0.02)
    second = harness("run", "--config", "fast.yaml", "--out", "shared", "--cache-dir", "cache", "--no-progress",
                     cwd=tmp_path)
    assert one_line(second) == ("shared: another harness run is writing to this folder; wait for it to finish or "
                                "choose another --out")
    assert calls(tmp_path / "fast-calls.txt") == 0
    score = harness("score", "--predictions", str(ROOT / "results" / "baseline" / "predictions.jsonl"), "--out",
                    "shared", cwd=tmp_path)
    assert "another harness run is writing to this folder" in one_line(score)
    _, err = first.communicate(timeout=300)
    assert first.returncode == 0, err
    out = tmp_path / "shared"
    results = json.loads((out / "results.json").read_text(encoding="utf-8"))
    rows = [json.loads(line) for line in (out / "predictions.jsonl").read_text(encoding="utf-8").splitlines()]
    assert {r["system"] for r in rows} == set(results["systems"]) == {"fake"}  # one run's files, all of them
    words = {len(r["summary"].split()) for r in rows}
    assert words == {30}  # the slow run's summaries (the fast run's would have 5 words)
    assert results["manifest"]["config"]["name"] == "slow"
    again = harness("run", "--config", "fast.yaml", "--out", "shared", "--cache-dir", "cache", "--no-progress",
                    cwd=tmp_path)
    assert again.returncode == 0, again.stderr  # the lock went with the first run


# --------------------------------------------------------------------------- full disks


@pytest.fixture
def tiny_disk(tmp_path: Path):
    """A tmpfs of the given size mounted for the test (needs root and a kernel that allows it)."""
    mounted: list[Path] = []

    def mount(name: str, size: str) -> Path:
        where = tmp_path / name
        where.mkdir()
        done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)],
                              capture_output=True, text=True)
        if done.returncode != 0:
            pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
        mounted.append(where)
        return where

    yield mount
    for where in mounted:
        subprocess.run(["umount", str(where)], check=False)


def fill(folder: Path) -> None:
    with open(folder / "filler", "wb", buffering=0) as out:  # noqa: PTH123 - the test fills a disk on purpose
        try:
            while True:
                out.write(b"\0" * 4096)
        except OSError:
            pass


def test_a_full_disk_under_out_keeps_the_answers_in_the_cache(tmp_path: Path, tiny_disk):
    counter = tmp_path / "calls.txt"
    model_config(tmp_path / "c.yaml", counter)
    disk = tiny_disk("disk", "1m")
    fill(disk)
    line = one_line(harness("run", "--config", "c.yaml", "--out", str(disk / "run"), "--cache-dir", "cache",
                            "--no-progress", cwd=tmp_path))
    assert line == (f"{disk / 'run' / 'predictions.jsonl'}: cannot write (No space left on device); the models' "
                    "answers are in the cache: free some space and run again (no model is asked twice)")
    asked = calls(counter)
    assert asked == 2 * len(DOC_IDS)
    again = harness("run", "--config", "c.yaml", "--out", "elsewhere", "--cache-dir", "cache", "--no-progress",
                    cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert calls(counter) == asked and f"cache: {asked} hits, 0 misses" in again.stdout


def test_a_full_disk_under_out_without_a_cache_keeps_the_answers_in_a_spare_file(tmp_path: Path, tiny_disk):
    counter = tmp_path / "calls.txt"
    model_config(tmp_path / "c.yaml", counter)
    disk = tiny_disk("disk", "1m")
    fill(disk)
    spare = tmp_path / "spare"
    spare.mkdir()
    done = subprocess.run([sys.executable, "-m", "harness.cli", "run", "--config", "c.yaml", "--out", str(disk / "run"),
                           "--no-cache", "--no-progress"], capture_output=True, text=True, cwd=tmp_path, timeout=300,
                          env={**os.environ, "TMPDIR": str(spare)})
    line = one_line(done)
    (saved,) = spare.glob("harness-predictions-*.jsonl")
    assert line == (f"{disk / 'run' / 'predictions.jsonl'}: cannot write (No space left on device); the models' "
                    f"answers were saved to {saved} (score them with `harness score --predictions {saved}`)")
    assert calls(counter) == 2 * len(DOC_IDS)
    scored = harness("score", "--predictions", str(saved), "--bootstrap", "0", "--json", cwd=tmp_path)
    assert scored.returncode == 0, scored.stderr
    assert set(json.loads(scored.stdout)["systems"]["fake"]["per_doc"]) == set(DOC_IDS)  # nothing was lost


def test_a_full_cache_disk_is_a_warning_and_the_run_completes(tmp_path: Path, tiny_disk):
    counter = tmp_path / "calls.txt"
    model_config(tmp_path / "c.yaml", counter, "--words", "400")
    disk = tiny_disk("cache", "16k")
    done = harness("run", "--config", "c.yaml", "--out", "out", "--cache-dir", str(disk), "--no-progress",
                   cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    warnings = [line for line in done.stderr.splitlines() if line.startswith("warning: cache:")]
    assert len(warnings) == 1 and "No space left on device" in warnings[0], done.stderr
    assert "going on without the cache" in warnings[0] and "Traceback" not in done.stderr
    rows = [json.loads(line) for line in (tmp_path / "out" / "predictions.jsonl").read_text().splitlines()]
    assert len(rows) == len(DOC_IDS) and not any("failure" in r for r in rows)
    assert all(len(r["summary"].split()) > 100 for r in rows)
    results = json.loads((tmp_path / "out" / "results.json").read_text(encoding="utf-8"))
    assert "No space left on device" in results["manifest"]["cache"]["disabled"]
    assert calls(counter) == 2 * len(DOC_IDS)


def test_a_cache_that_cannot_be_created_is_a_warning_in_process(tmp_path: Path):
    """The same carry-on rule without root: a cache folder that cannot exist (a file is in its place)."""
    from harness.cache import Cache

    (tmp_path / "blocker").write_text("a file where the cache's folder would be\n", encoding="utf-8")
    warned: list[str] = []
    cache = Cache(tmp_path / "blocker" / "cache", warn=warned.append)
    key = "0" * 64
    cache.put("lead", key, {"output": {"summary": "s"}})
    cache.put("lead", "1" * 64, {"output": {"summary": "t"}})
    assert len(warned) == 1 and warned[0].startswith(f"warning: cache: {tmp_path / 'blocker' / 'cache'}")
    assert "going on without the cache" in warned[0]
    assert cache.stats()["disabled"] and cache.writes == 0


# --------------------------------------------------------------------------- permissions


@pytest.mark.parametrize("umask, mode", [(0o022, 0o644), (0o027, 0o640), (0o077, 0o600)], ids=["022", "027", "077"])
def test_written_files_follow_the_umask(tmp_path: Path, umask, mode):
    from harness.io import atomic_write

    previous = os.umask(umask)
    try:
        atomic_write(tmp_path / "results.json", "{}\n")
    finally:
        os.umask(previous)
    assert stat.S_IMODE((tmp_path / "results.json").stat().st_mode) == mode


def test_a_run_writes_files_readable_by_the_group_under_umask_022(tmp_path: Path):
    done = subprocess.run(["sh", "-c", f"umask 022 && exec {sys.executable} -m harness.cli run --config "
                           f"{ROOT / 'configs' / 'default.yaml'} --out out --no-cache --no-progress"],
                          capture_output=True, text=True, cwd=tmp_path, timeout=300)
    assert done.returncode == 0, done.stderr
    modes = {p.relative_to(tmp_path).as_posix(): stat.S_IMODE(p.stat().st_mode)
             for p in (tmp_path / "out").rglob("*") if p.is_file() and not p.name.startswith(".")}
    assert modes and set(modes.values()) == {0o644}, modes
