"""A real OpenAI-compatible HTTP server on 127.0.0.1 (http.server, in a thread) that misbehaves on demand.

`behaviour(request, n)` gets the parsed request body and how many times this document has been asked
(0 first) and returns a Fault. The document is read from the prompt line "DOC=<doc_id>", so a test's
prompt template starts with "DOC=$doc_id". Every request is logged with its headers.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass(frozen=True)
class Fault:
    """What the server sends back. kind: ok | status | raw | truncated | truncated_chunked | drip | flood."""

    kind: str = "ok"
    status: int = 200
    body: str = ""
    headers: dict = field(default_factory=dict)
    interval: float = 0.0  # drip: seconds between bytes
    size: int = 0  # flood: bytes sent


def completion_body(content: str) -> str:
    return json.dumps({"id": "x", "object": "chat.completion", "choices": [
        {"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}]})


def ok(content: str) -> Fault:
    return Fault("ok", 200, completion_body(content))


def status(code: int, message: str, **headers: str) -> Fault:
    return Fault("status", code, json.dumps({"error": {"message": message}}), headers)


def raw(code: int, body: str) -> Fault:
    return Fault("raw", code, body)


def truncated(content: str) -> Fault:
    """A body cut short: Content-Length promises the whole completion, the connection closes after a third."""
    return Fault("truncated", 200, completion_body(content))


def truncated_chunked(content: str) -> Fault:
    """A chunked stream that stops without its final zero-length chunk."""
    return Fault("truncated_chunked", 200, completion_body(content))


def drip(content: str, interval: float = 0.5) -> Fault:
    """A whole, valid completion sent one byte every `interval` seconds: no single read ever times out."""
    return Fault("drip", 200, completion_body(content), interval=interval)


def flood(size: int) -> Fault:
    """A 200 whose body is `size` bytes of one endless JSON string (an answer that never stops)."""
    return Fault("flood", 200, size=size)


def doc_of(request: dict) -> str:
    prompt = request["messages"][-1]["content"]
    match = re.search(r"DOC=(\S+)", prompt)
    return match.group(1) if match else ""


class FaultServer:
    def __init__(self, behaviour: Callable[[dict, int], Fault]):
        self.behaviour = behaviour
        self.requests: list[dict] = []
        self.headers: list[dict] = []
        self.asked: dict[str, int] = {}
        self.dropped: list[tuple[str, float, int]] = []  # (doc, seconds after the answer began, bytes sent)
        self.lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):  # noqa: N802 - http.server's naming
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                doc = doc_of(body)
                with server.lock:
                    server.requests.append(body)
                    server.headers.append(dict(self.headers))
                    n = server.asked.get(doc, 0)
                    server.asked[doc] = n + 1
                fault = server.behaviour(body, n)
                if fault.kind in ("drip", "flood"):
                    self._trickle(fault, doc)
                    return
                data = fault.body.encode("utf-8")
                self.send_response(fault.status)
                self.send_header("Content-Type", "application/json")
                for name, value in fault.headers.items():
                    self.send_header(name, value)
                if fault.kind == "truncated_chunked":
                    self.send_header("Transfer-Encoding", "chunked")
                    self.send_header("Connection", "close")
                    self.end_headers()
                    part = data[: len(data) // 3]
                    self.wfile.write(f"{len(part):x}\r\n".encode() + part + b"\r\n")
                    self.wfile.flush()
                    self.close_connection = True
                    return
                self.send_header("Content-Length", str(len(data)))
                if fault.kind == "truncated":
                    self.send_header("Connection", "close")
                    self.end_headers()
                    self.wfile.write(data[: len(data) // 3])
                    self.wfile.flush()
                    self.close_connection = True
                    return
                self.end_headers()
                self.wfile.write(data)

            def _trickle(self, fault: Fault, doc: str) -> None:
                """Send the answer slowly (drip) or without end (flood); note when the client hangs up."""
                if fault.kind == "drip":
                    data, pieces = fault.body.encode("utf-8"), None
                else:
                    head = b'{"choices": [{"message": {"content": "'
                    data, pieces = head + b"x" * (fault.size - len(head)), 65_536
                self.send_response(fault.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                started, sent = time.monotonic(), 0
                try:
                    while sent < len(data):
                        step = pieces or 1
                        self.wfile.write(data[sent:sent + step])
                        self.wfile.flush()
                        sent += step
                        if fault.interval:
                            time.sleep(fault.interval)
                except OSError:  # the client closed the connection
                    with server.lock:
                        server.dropped.append((doc, time.monotonic() - started, sent))
                self.close_connection = True

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def asked_for(self, doc_id: str) -> int:
        with self.lock:
            return self.asked.get(doc_id, 0)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
