"""The openai-compatible adapter against a small real HTTP server on 127.0.0.1 that can produce the faults
a healthy model server will not on demand: 429s, 5xx, a rejected response_format, broken JSON, slowness.
(The real llama.cpp server is exercised in test_llm_server.py.)"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from harness.adapters.base import AdapterError, AdapterTimeout, BadOutput
from harness.adapters.conformance import check_adapter, sample_documents
from harness.adapters.openai_compatible import OpenAICompatibleAdapter, parse_claims_json
from harness.errors import UserError
from harness.records import Document

ROOT = Path(__file__).resolve().parent.parent
DOCS = sample_documents(2)
SECRET = "sk-test-0123456789-never-written"


def completion(content: str) -> tuple[int, dict, str]:
    body = {"id": "x", "object": "chat.completion", "choices": [
        {"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}]}
    return 200, {}, json.dumps(body)


def echo(request: dict) -> tuple[int, dict, str]:
    """A deterministic 'model': summaries echo the first words of the prompt's article; claims are JSON."""
    prompt = request["messages"][-1]["content"]
    article = prompt.split("Article:", 1)[-1].split()
    if request.get("response_format"):
        return completion(json.dumps({"claims": [" ".join(article[:8]), " ".join(article[8:16])]}))
    return completion(" ".join(article[:25]))


class StubServer:
    def __init__(self, behaviour: Callable[[dict], tuple[int, dict, str]]):
        self.behaviour = behaviour
        self.requests: list[dict] = []
        self.headers: list[dict] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self.lock = threading.Lock()
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's naming
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                with stub.lock:
                    stub.requests.append(body)
                    stub.headers.append(dict(self.headers))
                    stub.in_flight += 1
                    stub.max_in_flight = max(stub.max_in_flight, stub.in_flight)
                try:
                    status, headers, text = stub.behaviour(body)
                finally:
                    with stub.lock:
                        stub.in_flight -= 1
                data = text.encode("utf-8")
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for k, v in headers.items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def serve():
    servers = []

    def start(behaviour=echo) -> StubServer:
        server = StubServer(behaviour)
        servers.append(server)
        return server

    yield start
    for s in servers:
        s.close()


def adapter(url: str, **options) -> OpenAICompatibleAdapter:
    return OpenAICompatibleAdapter(base_url=url, model="stub", **{"backoff": 0.0, **options})


# --------------------------------------------------------------------------- requests


def test_request_carries_model_prompt_and_sampling(serve):
    server = serve()
    summary = adapter(server.url, temperature=0.2, seed=7, max_tokens=33, max_input_chars=200).summarize(DOCS[0])
    request = server.requests[0]
    assert request["model"] == "stub" and request["temperature"] == 0.2 and request["seed"] == 7
    assert request["max_tokens"] == 33 and "response_format" not in request
    prompt = request["messages"][0]["content"]
    assert prompt.startswith("Summarise the news article below")
    assert f"Headline: {DOCS[0].headline}" in prompt
    article = prompt.split("Article:\n", 1)[1]
    assert len(article.strip()) <= 200 and DOCS[0].story_text().startswith(article.strip()[:50])
    assert summary == " ".join(prompt.split("Article:", 1)[1].split()[:25])


def test_retries_on_429_and_5xx_then_succeeds(serve):
    answers = iter([(429, {"Retry-After": "0"}, '{"error": {"message": "slow down"}}'),
                    (503, {}, '{"error": "loading"}'), completion("fine")])
    server = serve(lambda request: next(answers))
    assert adapter(server.url, retries=2).summarize(DOCS[0]) == "fine"
    assert len(server.requests) == 3


def test_gives_up_after_retries_with_the_last_error(serve):
    server = serve(lambda request: (500, {}, '{"error": {"message": "model crashed"}}'))
    with pytest.raises(AdapterError, match="HTTP 500: model crashed"):
        adapter(server.url, retries=2).summarize(DOCS[0])
    assert len(server.requests) == 3


def test_client_errors_are_not_retried(serve):
    server = serve(lambda request: (401, {}, '{"error": {"message": "bad key"}}'))
    with pytest.raises(AdapterError, match="HTTP 401: bad key"):
        adapter(server.url, retries=3).summarize(DOCS[0])
    assert len(server.requests) == 1


def test_connection_errors_are_retried_then_recorded():
    import socket

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(AdapterError, match="connection error: ConnectError"):
        adapter(f"http://127.0.0.1:{port}/v1", retries=1).summarize(DOCS[0])


def test_per_request_timeout(serve):
    def slow(request):
        time.sleep(2)
        return completion("late")

    server = serve(slow)
    started = time.perf_counter()
    with pytest.raises(AdapterTimeout, match="no answer within 0.3 s"):
        adapter(server.url, timeout=0.3).summarize(DOCS[0])
    assert time.perf_counter() - started < 1.5


# --------------------------------------------------------------------------- structured output


def llama_like(request):
    """Like llama-cpp-python's server: json_schema is rejected with HTTP 500, json_object+schema works."""
    form = request.get("response_format") or {}
    if form.get("type") == "json_schema":
        return 500, {}, json.dumps({"error": {"message": "Input should be 'text' or 'json_object'"}})
    return echo(request)


def test_json_schema_rejected_falls_back_to_json_object_and_remembers(serve):
    server = serve(llama_like)
    a = adapter(server.url, retries=3)
    claims = a.extract_claims(DOCS[0])
    assert len(claims) == 2
    a.extract_claims(DOCS[1])
    forms = [r["response_format"]["type"] for r in server.requests]
    assert forms == ["json_schema", "json_object", "json_object"]  # the probe is not retried; the choice is kept
    assert server.requests[1]["response_format"]["schema"]["required"] == ["claims"]
    assert a.runtime_info() == {"response_format": "json_object"}


def test_json_schema_accepted_is_kept(serve):
    server = serve(echo)
    a = adapter(server.url)
    a.extract_claims(DOCS[0])
    a.extract_claims(DOCS[1])
    assert [r["response_format"]["type"] for r in server.requests] == ["json_schema", "json_schema"]
    schema = server.requests[0]["response_format"]["json_schema"]
    assert schema["name"] == "claims" and schema["schema"]["properties"]["claims"]["type"] == "array"


def test_prompt_mode_sends_no_response_format(serve):
    server = serve(lambda request: completion('Sure! Here you go:\n```json\n{"claims": ["A said B."]}\n```'))
    claims = adapter(server.url, json_mode="prompt").extract_claims(DOCS[0])
    assert [c.text for c in claims] == ["A said B."]
    assert "response_format" not in server.requests[0]


@pytest.mark.parametrize("content, expected", [
    ('{"claims": ["One.", "Two."]}', ["One.", "Two."]),
    ('["One.", "Two."]', ["One.", "Two."]),
    ('```json\n{"claims": ["One."]}\n```', ["One."]),
    ('Here are the claims: {"claims": [{"text": "One."}, {"claim": "Two."}]} Hope this helps.', ["One.", "Two."]),
    ('{"claims": ["  spaced\\n  out  ", "", 3]}', ["spaced out"]),
    ('{"facts": ["One."]}', ["One."]),
])
def test_tolerant_claim_parsing(content, expected):
    assert parse_claims_json(content) == expected


@pytest.mark.parametrize("content, message", [
    ('{"claims": ["One.", "Tw', "invalid JSON"),
    ("I cannot help with that.", "invalid JSON"),
    ('{"answer": 42}', "no 'claims' list"),
    ('"just a string"', "not a list of claims"),
])
def test_broken_json_is_bad_output_with_the_raw_text(content, message):
    with pytest.raises(BadOutput, match=message) as err:
        parse_claims_json(content)
    assert err.value.raw == content


# --------------------------------------------------------------------------- concurrency and keys


def test_concurrency_limit_is_respected(serve, tmp_path: Path):
    def slowish(request):
        time.sleep(0.3)
        return echo(request)

    server = serve(slowish)
    config = tmp_path / "c.yaml"
    config.write_text(json.dumps({"tasks": ["summary"], "scoring": {"bootstrap": 0}, "systems": [
        {"name": "stub", "adapter": "openai-compatible",
         "options": {"base_url": server.url, "model": "stub", "concurrency": 3}}]}))
    done = subprocess.run([sys.executable, "-m", "harness.cli", "run", "--config", str(config), "--no-progress"],
                          capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert done.returncode == 0, done.stderr
    assert len(server.requests) == 5
    assert 1 < server.max_in_flight <= 3


def test_api_key_comes_from_the_environment_and_is_never_written(serve, tmp_path: Path):
    server = serve(llama_like)
    config = tmp_path / "c.yaml"
    config.write_text(json.dumps({"scoring": {"bootstrap": 0}, "systems": [
        {"name": "keyed", "adapter": "openai-compatible",
         "options": {"base_url": server.url, "model": "stub", "api_key_env": "HARNESS_TEST_API_KEY"}}]}))
    env = {"PATH": "/usr/bin:/bin", "HARNESS_TEST_API_KEY": SECRET}
    done = subprocess.run([sys.executable, "-m", "harness.cli", "run", "--config", str(config), "--no-progress"],
                          capture_output=True, text=True, cwd=tmp_path, env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    assert all(h.get("Authorization") == f"Bearer {SECRET}" for h in server.headers)
    assert SECRET not in done.stdout + done.stderr
    written = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert any(p.name == "results.json" for p in written) and any(p.suffix == ".json" and ".cache" in p.parts
                                                                  for p in written)
    for path in written:
        assert SECRET.encode() not in path.read_bytes(), path
    manifest = json.loads((tmp_path / "results" / "c" / "results.json").read_text())["manifest"]
    assert manifest["systems"]["keyed"]["options"]["api_key_env"] == "HARNESS_TEST_API_KEY"
    assert manifest["systems"]["keyed"]["runtime"] == {"response_format": "json_object"}
    # Without the variable: one line naming the variable, not a traceback.
    missing = subprocess.run([sys.executable, "-m", "harness.cli", "run", "--config", str(config)],
                             capture_output=True, text=True, cwd=tmp_path, env={"PATH": "/usr/bin:/bin"}, timeout=120)
    assert missing.returncode == 2
    assert missing.stderr.strip().splitlines() == [
        f"harness: error: {config}:1: api_key_env: system keyed: openai-compatible: environment variable "
        "HARNESS_TEST_API_KEY is not set (it holds the API key)"]


def test_broken_json_is_recorded_as_a_failure_and_cached(serve, tmp_path: Path):
    def broken(request):
        if request.get("response_format"):
            return completion('{"claims": ["Russia said', )
        return echo(request)

    server = serve(broken)
    config = tmp_path / "c.yaml"
    config.write_text(json.dumps({"scoring": {"bootstrap": 0}, "systems": [
        {"name": "tiny", "adapter": "openai-compatible", "options": {"base_url": server.url, "model": "stub"}}]}))
    run = [sys.executable, "-m", "harness.cli", "run", "--config", str(config), "--no-progress"]
    done = subprocess.run(run, capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "5 failed document(s)" in done.stdout
    rows = [json.loads(x) for x in (tmp_path / "results" / "c" / "predictions.jsonl").read_text().splitlines()]
    for row in rows:
        assert row["failure"].startswith("claims: the model returned invalid JSON")
        assert row["meta"]["raw_output"]["claims"] == '{"claims": ["Russia said'
        assert row["claims"] == [] and row["summary"]  # the summary task still counts
    calls = len(server.requests)
    again = subprocess.run(run, capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert again.returncode == 0 and len(server.requests) == calls  # the model's answer, broken or not, is cached
    assert "cache: 10 hits, 0 misses" in again.stdout


def test_openai_adapter_conforms(serve):
    server = serve(llama_like)
    report = check_adapter(adapter(server.url, max_input_chars=4000), DOCS, time_limit=30)
    # The echo 'model' has nothing to say about an empty article: a clean, recorded refusal.
    assert report.refusals == ["summary conformance-empty: the model returned an empty summary"]


def test_missing_prompt_template_is_a_user_error():
    with pytest.raises(UserError, match="prompt template not found"):
        OpenAICompatibleAdapter(base_url="http://127.0.0.1:9/v1", model="m", summary_prompt="no/such/file.txt")


def test_option_typo_suggests_the_option():
    with pytest.raises(UserError, match=r"unknown option for adapter openai-compatible 'temprature'; "
                                         r"did you mean 'temperature'\?"):
        OpenAICompatibleAdapter(base_url="http://x/v1", model="m", temprature=0.1)


def test_empty_summary_is_bad_output(serve):
    server = serve(lambda request: completion("   "))
    with pytest.raises(BadOutput, match="empty summary"):
        adapter(server.url).summarize(Document("d", "Some text."))
