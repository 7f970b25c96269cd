"""Faulty models: every failure on a document is recorded with its reason, the run completes, the counts appear
in the printed table and in results.json, and an API key never reaches a file, a log or an error message.

Real components throughout: `harness run` in a subprocess, a real entry-point plugin, real child processes,
and a real HTTP server on 127.0.0.1 (tests/tools/fault_server.py) that returns the faults."""

from __future__ import annotations

import json
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from harness import gold
from tests.tools import fault_server as fs

ROOT = Path(__file__).resolve().parent.parent
CORPUS, _ = gold.load()
DOC_IDS = [d.doc_id for d in CORPUS.documents]
BY_ID = CORPUS.by_id()
SECRET = "sk-reliability-5f1e0c7a9b3d-do-not-store"


def harness(*args: str, cwd: Path, env: dict | None = None, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "harness.cli", *args], capture_output=True, text=True, cwd=cwd,
                          env=env, timeout=timeout)


def write_config(path: Path, systems: list[dict], tasks=("summary",)) -> Path:
    path.write_text(json.dumps({"tasks": list(tasks), "systems": systems, "scoring": {"bootstrap": 0}}),
                    encoding="utf-8")
    return path


def rows_of(path: Path, system: str) -> dict[str, dict]:
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    return {r["doc_id"]: r for r in rows if r["system"] == system}


def fail_cell(stdout: str, system: str) -> str:
    """The 'fail' cell of the system's row in the first printed table that has one; columns are found from the
    dashed rule under the header, so cells with spaces (intervals) are read whole."""
    lines = stdout.splitlines()
    for i in range(1, len(lines) - 1):
        if not lines[i] or set(lines[i].replace(" ", "")) != {"-"}:
            continue
        spans = [(m.start(), m.end()) for m in re.finditer(r"-+", lines[i])]
        header = [lines[i - 1][a:b].strip() for a, b in spans]
        if "fail" not in header:
            continue
        for row in lines[i + 1:]:
            if not row.strip():
                break
            cells = [row[a:b].strip() for a, b in spans]
            if cells[0] == system:
                return cells[header.index("fail")]
    raise AssertionError(f"no 'fail' cell for {system} in:\n{stdout}")


# --------------------------------------------------------------------------- in-process adapters


def plugin_env(tmp_path: Path) -> dict:
    """A real entry point for tests/tools/faulty_adapter.py: a dist-info folder on PYTHONPATH."""
    site = tmp_path / "site"
    info = site / "faulty_plugin-1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: faulty-plugin\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text("[harness.adapters]\nfaulty = tests.tools.faulty_adapter:FaultyAdapter\n")
    return {"PYTHONPATH": f"{site}:{ROOT}", "PATH": "/usr/bin:/bin"}


def test_in_process_adapter_that_raises_hangs_or_returns_garbage(tmp_path: Path):
    raising, hanging, wrong, surrogate = DOC_IDS[0], DOC_IDS[1], DOC_IDS[2], DOC_IDS[3]
    config = write_config(tmp_path / "faulty.yaml", [{
        "name": "faulty", "adapter": "faulty", "timeout": 1.0,
        "options": {"raise_on": [raising], "hang_on": [hanging], "wrong_type_on": [wrong],
                    "surrogate_on": [surrogate]}}], tasks=("summary", "claims"))
    started = time.monotonic()
    done = harness("run", "--config", str(config), "--no-progress", cwd=tmp_path, env=plugin_env(tmp_path))
    assert done.returncode == 0, done.stderr
    assert time.monotonic() - started < 60  # the hung document cost its timeout, not 60 s per task
    assert "4 failed document(s)" in done.stdout
    rows = rows_of(tmp_path / "results" / "faulty" / "predictions.jsonl", "faulty")
    assert rows[raising]["failure"] == (f"summary: RuntimeError: model crashed on {raising}; "
                                        "claims: RuntimeError: tokenizer choked on ?")
    assert rows[hanging]["failure"] == "summary: timed out after 1 s; claims: timed out after 1 s"
    assert rows[wrong]["failure"] == ("summary: a summary must be a string, got dict; "
                                      "claims: claims must be a list, got str")
    assert rows[surrogate]["failure"] == (
        "summary: the summary is not valid Unicode (a lone surrogate at character 7); "
        "claims: claims[1] is not valid Unicode (a lone surrogate at character 7)")
    good = DOC_IDS[4]
    assert "failure" not in rows[good]
    assert rows[good]["summary"] == " ".join(BY_ID[good].story_text().split()[:20])
    for doc_id in (raising, hanging, wrong, surrogate):  # scored as empty output
        assert rows[doc_id]["summary"] == "" and rows[doc_id]["claims"] == []
    results = json.loads((tmp_path / "results" / "faulty" / "results.json").read_text(encoding="utf-8"))
    system = results["systems"]["faulty"]
    assert system["failures"] == 4 and system["missing"] == []
    assert results["manifest"]["failures"]["count"] == 4
    assert system["per_doc"][raising]["failure"] == rows[raising]["failure"]
    assert fail_cell(done.stdout, "faulty") == "4"
    assert f"  failed: faulty / {raising}: summary: RuntimeError: model crashed on {raising}" in done.stdout


# --------------------------------------------------------------------------- command adapters


MODEL = """
import json, os, signal, subprocess, sys, time
request = json.loads(sys.stdin.read())
doc, mode = request["doc_id"], dict(a.split("=", 1) for a in sys.argv[1:]).get(request["doc_id"], "ok")
if mode == "segfault":
    os.kill(os.getpid(), signal.SIGSEGV)
if mode == "noise":
    print("warming up... loaded 1.2B parameters", file=sys.stderr)
if mode == "crash":
    raise SystemExit("CUDA out of memory")
if mode == "prose":
    print("Sure! Here is a summary: the war goes on.")
    sys.exit(0)
if mode == "helper":  # a helper process that keeps stdout open, then the model hangs
    helper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    with open("helper.pid", "w") as out:
        out.write(str(helper.pid))
    time.sleep(60)
if mode == "surrogate":
    print('{"summary": "bad \\\\ud800 text"}')
    sys.exit(0)
print(json.dumps({"summary": " ".join(request["story_text"].split()[:12])}))
"""


def alive(pid: int) -> bool:
    """A process that exists and is not a zombie waiting to be reaped."""
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def test_command_adapter_crash_signal_prose_stderr_and_a_lingering_helper(tmp_path: Path):
    model = tmp_path / "model.py"
    model.write_text(MODEL, encoding="utf-8")
    plan = {DOC_IDS[0]: "segfault", DOC_IDS[1]: "noise", DOC_IDS[2]: "crash", DOC_IDS[3]: "prose",
            DOC_IDS[4]: "helper"}
    config = write_config(tmp_path / "cmd.yaml", [{
        "name": "cmd", "adapter": "command",
        "options": {"argv": [sys.executable, str(model), *(f"{d}={m}" for d, m in plan.items())],
                    "timeout": 1.5, "tasks": ["summary"]}}])
    started = time.monotonic()
    done = harness("run", "--config", str(config), "--no-progress", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert time.monotonic() - started < 45  # the helper holding the pipe does not keep the run waiting 60 s
    assert "4 failed document(s)" in done.stdout
    rows = rows_of(tmp_path / "results" / "cmd" / "predictions.jsonl", "cmd")
    assert rows[DOC_IDS[0]]["failure"] == "summary: command was killed by signal 11 (SIGSEGV)"
    assert "failure" not in rows[DOC_IDS[1]]  # stderr of a successful call is the program's log, not a failure
    assert rows[DOC_IDS[1]]["summary"] == " ".join(BY_ID[DOC_IDS[1]].story_text().split()[:12])
    assert "warming up" not in done.stdout + done.stderr
    assert rows[DOC_IDS[2]]["failure"] == "summary: command exited with status 1: CUDA out of memory"
    assert rows[DOC_IDS[3]]["failure"] == "summary: command printed invalid JSON (Expecting value)"
    assert rows[DOC_IDS[3]]["meta"]["raw_output"]["summary"] == "Sure! Here is a summary: the war goes on.\n"
    assert rows[DOC_IDS[4]]["failure"] == "summary: command timed out after 1.5 s"
    assert not alive(int((tmp_path / "helper.pid").read_text(encoding="utf-8")))  # the helper went with the model
    results = json.loads((tmp_path / "results" / "cmd" / "results.json").read_text(encoding="utf-8"))
    assert results["systems"]["cmd"]["failures"] == 4
    assert fail_cell(done.stdout, "cmd") == "4"


def test_command_answer_with_a_lone_surrogate_is_a_failure_not_a_crash(tmp_path: Path):
    model = tmp_path / "model.py"
    model.write_text(MODEL, encoding="utf-8")
    config = write_config(tmp_path / "cmd.yaml", [{
        "name": "cmd", "adapter": "command",
        "options": {"argv": [sys.executable, str(model), f"{DOC_IDS[0]}=surrogate"], "tasks": ["summary"]}}])
    done = harness("run", "--config", str(config), "--no-progress", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    rows = rows_of(tmp_path / "results" / "cmd" / "predictions.jsonl", "cmd")
    assert rows[DOC_IDS[0]]["failure"] == ("summary: the summary is not valid Unicode (a lone surrogate at "
                                           "character 4)")
    assert rows[DOC_IDS[0]]["meta"]["raw_output"]["summary"] == "bad \\ud800 text"


# --------------------------------------------------------------------------- OpenAI-compatible server faults


@pytest.fixture
def fault_server():
    servers = []

    def start(behaviour) -> fs.FaultServer:
        server = fs.FaultServer(behaviour)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.close()


def prompt_file(tmp_path: Path) -> Path:
    path = tmp_path / "summary_prompt.txt"
    path.write_text("DOC=$doc_id\nSummarise:\n$text\n", encoding="utf-8")
    return path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_http_faults_are_retried_or_recorded_and_the_run_completes(tmp_path: Path, fault_server):
    d429, d500, dbadjson, dtrunc, dchunk = DOC_IDS

    def behaviour(request: dict, n: int) -> fs.Fault:
        doc = fs.doc_of(request)
        if doc == d429:
            return fs.status(429, "rate limited", **{"Retry-After": "0"}) if n < 2 else fs.ok("after two 429s")
        if doc == d500:
            return fs.status(500, "model crashed")
        if doc == dbadjson:
            return fs.raw(200, '{"choices": [{"message": {"content": "cut')
        if doc == dtrunc:
            return fs.truncated("never complete")
        return fs.truncated_chunked("first try cut") if n == 0 else fs.ok("second try whole")

    server = fault_server(behaviour)
    options = {"base_url": server.url, "model": "m", "retries": 2, "backoff": 0.05, "timeout": 10,
               "summary_prompt": str(prompt_file(tmp_path))}
    refused = {**options, "base_url": f"http://127.0.0.1:{free_port()}/v1", "retries": 1}
    config = write_config(tmp_path / "http.yaml", [
        {"name": "flaky-server", "adapter": "openai-compatible", "options": options},
        {"name": "no-server", "adapter": "openai-compatible", "options": refused}])
    done = harness("run", "--config", str(config), "--no-progress", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    rows = rows_of(tmp_path / "results" / "http" / "predictions.jsonl", "flaky-server")
    # 429 and a truncated stream: retried, then the answer is used.
    assert rows[d429]["summary"] == "after two 429s" and "failure" not in rows[d429]
    assert rows[dchunk]["summary"] == "second try whole" and "failure" not in rows[dchunk]
    assert server.asked_for(d429) == 3 and server.asked_for(dchunk) == 2
    # 5xx: retried (1 + 2 retries), then recorded with the server's message.
    assert rows[d500]["failure"] == "summary: HTTP 500: model crashed"
    assert server.asked_for(d500) == 3
    # A broken body from a 200 is the server's answer: not retried, kept as raw output.
    assert rows[dbadjson]["failure"] == "summary: the server's answer is not a chat completion"
    assert rows[dbadjson]["meta"]["raw_output"]["summary"] == '{"choices": [{"message": {"content": "cut'
    assert server.asked_for(dbadjson) == 1
    # A body cut short is a transport error: retried, then recorded.
    assert rows[dtrunc]["failure"].startswith("summary: connection error: RemoteProtocolError")
    assert server.asked_for(dtrunc) == 3
    # Refused connections: retried once each, every document recorded as failed.
    refused_rows = rows_of(tmp_path / "results" / "http" / "predictions.jsonl", "no-server")
    assert all(r["failure"].startswith("summary: connection error: ConnectError") for r in refused_rows.values())
    results = json.loads((tmp_path / "results" / "http" / "results.json").read_text(encoding="utf-8"))
    assert results["systems"]["flaky-server"]["failures"] == 3
    assert results["systems"]["no-server"]["failures"] == 5
    assert results["manifest"]["failures"]["count"] == 8
    assert "8 failed document(s)" in done.stdout
    assert fail_cell(done.stdout, "flaky-server") == "3" and fail_cell(done.stdout, "no-server") == "5"
    # The cache keeps only the model's answers (good or malformed), never transport failures: a rerun asks the
    # server again for the 500, the truncated body and the refused connections, but not for the rest.
    before = {d: server.asked_for(d) for d in DOC_IDS}
    again = harness("run", "--config", str(config), "--no-progress", cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    asked = {d: server.asked_for(d) - before[d] for d in DOC_IDS}
    assert asked == {d429: 0, d500: 3, dbadjson: 0, dtrunc: 3, dchunk: 0}


def test_api_key_never_reaches_files_logs_or_errors(tmp_path: Path, fault_server):
    """A server that echoes the key back in errors and in an answer; the key must appear nowhere we write."""
    def leaky(request: dict, n: int) -> fs.Fault:
        doc = fs.doc_of(request)
        echoed = server.headers[-1].get("Authorization", "")
        if doc == DOC_IDS[0]:
            return fs.status(401, f"invalid API key {echoed}")
        if doc == DOC_IDS[1]:
            return fs.status(503, f"overloaded for {echoed}")
        if doc == DOC_IDS[2]:
            return fs.raw(200, f"not json, but the key: {echoed}")
        if doc == DOC_IDS[3]:
            return fs.ok(f"a summary that repeats {echoed}")
        return fs.ok("a clean summary")

    server = fault_server(leaky)
    config = write_config(tmp_path / "keyed.yaml", [{
        "name": "keyed", "adapter": "openai-compatible",
        "options": {"base_url": server.url, "model": "m", "api_key_env": "RELIABILITY_TEST_KEY", "retries": 1,
                    "backoff": 0.0, "summary_prompt": str(prompt_file(tmp_path))}}])
    env = {"PATH": "/usr/bin:/bin", "RELIABILITY_TEST_KEY": SECRET}
    done = harness("run", "--config", str(config), "--tag", "v1", cwd=tmp_path, env=env)  # progress bars on: a log
    assert done.returncode == 0, done.stderr
    assert all(h.get("Authorization") == f"Bearer {SECRET}" for h in server.headers)  # it was sent
    rows = rows_of(tmp_path / "results" / "keyed" / "predictions.jsonl", "keyed")
    assert rows[DOC_IDS[0]]["failure"] == "summary: HTTP 401: invalid API key Bearer [api key removed]"
    assert rows[DOC_IDS[1]]["failure"] == "summary: HTTP 503: overloaded for Bearer [api key removed]"
    assert rows[DOC_IDS[2]]["meta"]["raw_output"]["summary"] == "not json, but the key: Bearer [api key removed]"
    assert rows[DOC_IDS[3]]["summary"] == "a summary that repeats Bearer [api key removed]"
    # Without the variable: one line naming the variable, never a value.
    missing = harness("run", "--config", str(config), cwd=tmp_path, env={"PATH": "/usr/bin:/bin"})
    assert missing.returncode == 2 and "RELIABILITY_TEST_KEY is not set" in missing.stderr
    written = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert {p.name for p in written} >= {"results.json", "predictions.jsonl", "report.html", "history.sqlite"}
    assert any(".cache" in p.parts for p in written)
    for path in written:
        data = path.read_bytes()
        assert SECRET.encode() not in data, path
    for text in (done.stdout, done.stderr, missing.stdout, missing.stderr):
        assert SECRET not in text
