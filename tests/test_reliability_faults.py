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
from datetime import datetime, timedelta, timezone
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
    assert done.returncode == 3, done.stderr  # no-server has no usable output at all
    assert "no usable output: no-server failed on every document" in done.stdout
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
    assert again.returncode == 3, again.stderr
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
    assert rows[DOC_IDS[0]]["failure"] == "summary: HTTP 401: invalid API key Bearer [secret removed]"
    assert rows[DOC_IDS[1]]["failure"] == "summary: HTTP 503: overloaded for Bearer [secret removed]"
    assert rows[DOC_IDS[2]]["meta"]["raw_output"]["summary"] == "not json, but the key: Bearer [secret removed]"
    assert rows[DOC_IDS[3]]["summary"] == "a summary that repeats Bearer [secret removed]"
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


# --------------------------------------------------------------------------- answers that never end


FLOOD_MODEL = """
import json, sys
request = json.loads(sys.stdin.read())
mode = dict(a.split("=", 1) for a in sys.argv[1:]).get(request["doc_id"], "ok")
if mode == "flood" and request["task"] == "summary":  # 100 MB and counting
    chunk = "x" * 1_000_000
    sys.stdout.write('{"summary": "')
    for _ in range(100):
        sys.stdout.write(chunk)
    sys.exit(0)
if mode == "long" and request["task"] == "summary":
    print(json.dumps({"summary": "word " * 50_000}))
    sys.exit(0)
if mode == "many" and request["task"] == "claims":
    print(json.dumps({"claims": [f"claim number {i}" for i in range(1500)]}))
    sys.exit(0)
if request["task"] == "summary":
    print(json.dumps({"summary": " ".join(request["story_text"].split()[:12])}))
else:
    print(json.dumps({"claims": [request["story_text"].split("\\n")[0]]}))
"""


def test_a_model_answer_over_the_limits_is_a_failure_that_keeps_its_first_bytes(tmp_path: Path):
    """A 100 MB answer left a 488 MB cache and predictions file; a 250,000-character summary was accepted though a
    predictions file may hold at most 200,000; 1,500 claims were too."""
    model = tmp_path / "model.py"
    model.write_text(FLOOD_MODEL, encoding="utf-8")
    plan = {DOC_IDS[0]: "flood", DOC_IDS[1]: "long", DOC_IDS[2]: "many"}
    config = write_config(tmp_path / "big.yaml", [{
        "name": "big", "adapter": "command",
        "options": {"argv": [sys.executable, str(model), *(f"{d}={m}" for d, m in plan.items())],
                    "max_output_bytes": 1_000_000}}], tasks=("summary", "claims"))
    started = time.monotonic()
    done = harness("run", "--config", str(config), "--no-progress", "--cache-dir", "cache", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert time.monotonic() - started < 120
    rows = rows_of(tmp_path / "results" / "big" / "predictions.jsonl", "big")
    flood, long, many = (rows[d] for d in DOC_IDS[:3])
    assert flood["failure"] == ("summary: command printed more than 1,000,000 bytes (max_output_bytes); it was "
                                "stopped")
    assert flood["meta"]["raw_output"]["summary"] == '{"summary": "' + "x" * 1987  # the first 2,000 characters
    assert long["failure"] == "summary: the summary has 250,000 characters; the limit is 200,000"
    assert long["meta"]["raw_output"]["summary"] == ("word " * 400)
    assert many["failure"] == "claims: 1,500 claims; the limit is 1,000 per document"
    assert many["meta"]["raw_output"]["claims"].startswith("claim number 0\nclaim number 1\n")
    assert many["summary"] and flood["claims"]  # the other task of the same document still counts
    assert "failure" not in rows[DOC_IDS[3]]
    sizes = [p.stat().st_size for p in (tmp_path / "cache").rglob("*.json")]
    assert len(sizes) == 2 * len(DOC_IDS) and max(sizes) < 10_000  # the flood was not cached whole
    assert (tmp_path / "results" / "big" / "predictions.jsonl").stat().st_size < 100_000


def test_slow_and_endless_http_answers_end_at_the_deadline_and_free_their_connection(tmp_path: Path, fault_server):
    """A server that drips one byte every 0.5 s defeated the per-read timeout; when a system timeout gave up on
    such a request, it kept the only pooled connection and every later document failed."""
    def dripping_first(request: dict, n: int) -> fs.Fault:
        doc = fs.doc_of(request)
        return fs.drip("a slow answer", interval=0.5) if doc == DOC_IDS[0] else fs.ok(f"summary of {doc}")

    def flooding_first(request: dict, n: int) -> fs.Fault:
        doc = fs.doc_of(request)
        return fs.flood(100_000_000) if doc == DOC_IDS[0] else fs.ok(f"summary of {doc}")

    deadline, abandoned, flooded = fault_server(dripping_first), fault_server(dripping_first), \
        fault_server(flooding_first)
    prompt = str(prompt_file(tmp_path))
    common = {"model": "m", "retries": 0, "summary_prompt": prompt, "concurrency": 1}
    config = write_config(tmp_path / "slow.yaml", [
        {"name": "deadline", "adapter": "openai-compatible", "options": {**common, "base_url": deadline.url,
                                                                         "timeout": 1.0}},
        {"name": "abandoned", "adapter": "openai-compatible", "timeout": 1.0,
         "options": {**common, "base_url": abandoned.url, "timeout": 4.0}},
        {"name": "flooded", "adapter": "openai-compatible", "options": {**common, "base_url": flooded.url,
                                                                        "max_output_bytes": 1_000_000}}])
    started = time.monotonic()
    done = harness("run", "--config", str(config), "--no-progress", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert time.monotonic() - started < 90
    out = tmp_path / "results" / "slow" / "predictions.jsonl"
    first = {name: rows_of(out, name)[DOC_IDS[0]]["failure"] for name in ("deadline", "abandoned", "flooded")}
    assert first == {
        "deadline": "summary: no complete answer within 1 s (it was still arriving); the connection was closed",
        "abandoned": "summary: timed out after 1 s",
        "flooded": "summary: the server's answer is larger than 1,000,000 bytes (max_output_bytes); it was cut off"}
    for name in ("deadline", "abandoned", "flooded"):  # the later documents were not held up by the first
        later = rows_of(out, name)
        assert [later[d]["summary"] for d in DOC_IDS[1:]] == [f"summary of {d}" for d in DOC_IDS[1:]], name
    # Both dripping requests were cut off by the client, not left open: at the deadline, or (the abandoned one) when
    # its system finished and closed its connections, whichever came first.
    wait_until = time.monotonic() + 10
    while len(abandoned.dropped) < 1 and time.monotonic() < wait_until:
        time.sleep(0.1)
    (_, cut_at, sent), = deadline.dropped
    assert 0.9 <= cut_at <= 3.0 and sent < 10
    (_, abandoned_at, _), = abandoned.dropped
    assert abandoned_at <= 6.0
    (_, _, flood_sent), = flooded.dropped
    assert flood_sent < 20_000_000


def claims_config(tmp_path: Path, name: str, url: str, **options) -> dict:
    prompt = tmp_path / "claims_prompt.txt"
    prompt.write_text("DOC=$doc_id\nList the claims:\n$text\n", encoding="utf-8")
    return {"name": name, "adapter": "openai-compatible",
            "options": {"base_url": url, "model": "m", "backoff": 0.05, "retries": 3,
                        "summary_prompt": str(prompt_file(tmp_path)), "claims_prompt": str(prompt), **options}}


def test_claims_requests_retry_429_and_5xx_and_only_a_refusal_of_the_schema_changes_the_format(tmp_path: Path,
                                                                                               fault_server):
    """429 on a claims request was never retried under json_mode auto, and a 500 on the first request was read as
    "json_schema unsupported", switching the format for the whole run."""
    claims_asked: dict[str, int] = {}
    later = (datetime.now(timezone.utc) + timedelta(seconds=1)).strftime("%a, %d %b %Y %H:%M:%S GMT")

    def flaky(request: dict, n: int) -> fs.Fault:
        doc, form = fs.doc_of(request), (request.get("response_format") or {}).get("type")
        if form is None:
            return fs.ok(f"summary of {doc}")
        asked = claims_asked[doc] = claims_asked.get(doc, 0) + 1
        if doc == DOC_IDS[0] and asked == 1:
            return fs.status(500, "CUDA error: an illegal memory access was encountered")
        if doc == DOC_IDS[1] and asked <= 2:
            return fs.status(429, "rate limited", **{"Retry-After": "0"})
        if doc == DOC_IDS[2] and asked == 1:
            return fs.status(503, "busy", **{"Retry-After": later})  # an HTTP date, not seconds
        return fs.ok(json.dumps({"claims": [f"{doc} claim one", f"{doc} claim two"]}))

    def strict(request: dict, n: int) -> fs.Fault:
        doc, form = fs.doc_of(request), (request.get("response_format") or {}).get("type")
        if form == "json_schema":
            return fs.status(400, "response_format.type 'json_schema' is not supported; use 'json_object'")
        if form == "json_object":
            return fs.ok(json.dumps({"claims": [f"{doc} claim"]}))
        return fs.ok(f"summary of {doc}")

    flaky_server, strict_server = fault_server(flaky), fault_server(strict)
    config = write_config(tmp_path / "claims.yaml", [claims_config(tmp_path, "flaky", flaky_server.url),
                                                     claims_config(tmp_path, "strict", strict_server.url)],
                          tasks=("summary", "claims"))
    done = harness("run", "--config", str(config), "--no-progress", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    out = tmp_path / "results" / "claims"
    for name in ("flaky", "strict"):
        rows = rows_of(out / "predictions.jsonl", name)
        assert not [r["failure"] for r in rows.values() if "failure" in r], name
    assert rows_of(out / "predictions.jsonl", "flaky")[DOC_IDS[1]]["claims"] == [f"{DOC_IDS[1]} claim one",
                                                                                f"{DOC_IDS[1]} claim two"]
    assert claims_asked == {DOC_IDS[0]: 2, DOC_IDS[1]: 3, DOC_IDS[2]: 2, DOC_IDS[3]: 1, DOC_IDS[4]: 1}
    forms = [r["response_format"]["type"] for r in flaky_server.requests if r.get("response_format")]
    assert set(forms) == {"json_schema"}  # a 500, a 429 and a 503 said nothing about the format
    strict_forms = [r["response_format"]["type"] for r in strict_server.requests if r.get("response_format")]
    assert strict_forms == ["json_schema"] + ["json_object"] * len(DOC_IDS)  # refused once, then remembered
    manifest = json.loads((out / "results.json").read_text(encoding="utf-8"))["manifest"]
    assert manifest["systems"]["flaky"]["runtime"] == {"response_format": "json_schema"}
    assert manifest["systems"]["strict"]["runtime"] == {"response_format": "json_object"}


def test_retry_after_is_read_in_seconds_or_as_an_http_date():
    from email.utils import formatdate

    from harness.adapters.openai_compatible import _retry_after

    assert _retry_after("7") == 7.0 and _retry_after("-3") == 0.0
    assert 8.0 < _retry_after(formatdate(time.time() + 10, usegmt=True)) <= 10.0
    assert _retry_after(formatdate(time.time() - 60, usegmt=True)) == 0.0  # a date in the past: no wait
    assert _retry_after("soon") is None and _retry_after(None) is None
