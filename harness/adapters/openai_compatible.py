"""Any OpenAI-compatible chat endpoint (vLLM, llama.cpp server, Ollama, hosted APIs) as an adapter.

Structured output for claims comes in two forms in the wild: OpenAI's
`{"type": "json_schema", "json_schema": {...}}` and llama.cpp's `{"type": "json_object", "schema": {...}}`.
With `json_mode: auto` claims requests try json_schema until the server answers one; an error that names
the structured-output form (json_schema, response_format, …) switches to json_object for the rest of the
run. Any other 429 or 5xx is retried like every request, and never changes the form. Models still break
JSON, so parsing is tolerant and a broken answer becomes a recorded failure that keeps the raw text.

Each request has a total deadline (`timeout`): a server that sends its answer a byte at a time is cut
off there, and the connection of a request given up on is closed, never handed to the next document.
An answer larger than `max_output_bytes` is cut off too. The API key is read from the environment
variable named by `api_key_env`; it and any credentials in `base_url` are removed by the runner from
everything written (harness.redact).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import string
import threading
import time
from email.utils import parsedate_to_datetime
from pathlib import Path

from harness import __version__
from harness.adapters.base import Adapter, AdapterError, AdapterTimeout, BadOutput
from harness.options import Option
from harness.errors import UserError
from harness.records import TASKS, PredictedClaim, Source
from harness.redact import looks_like_variable_name, url_without_credentials

PROMPTS = "configs/prompts"  # relative: the working directory's, else the bundled templates (harness.resources)
CLAIMS_SCHEMA = {
    "type": "object",
    "properties": {"claims": {"type": "array", "items": {"type": "string"}}},
    "required": ["claims"],
}
MAX_BACKOFF = 30.0
# An error body that names the structured-output request is the server refusing that form, not a crash.
NAMES_RESPONSE_FORMAT = re.compile(r"json_schema|json_object|response_format|schema", re.IGNORECASE)


class HTTPStatusError(AdapterError):
    def __init__(self, status: int, message: str):
        super().__init__(f"HTTP {status}: {message}")
        self.status = status
        self.refuses_format = status != 429 and status >= 400 and bool(NAMES_RESPONSE_FORMAT.search(message))


class OpenAICompatibleAdapter(Adapter):
    """Chat completions over HTTP; prompts are templates ($text, $headline, $doc_id) kept in configs/prompts/."""

    name = "openai-compatible"
    version = __version__
    tasks = TASKS
    options = (
        Option("base_url", str, None, "endpoint root, e.g. http://127.0.0.1:8080/v1", required=True),
        Option("model", str, None, "model name the server expects", required=True),
        Option("api_key_env", str, None, "name of the environment variable holding the API key"),
        Option("summary_prompt", str, f"{PROMPTS}/summary.txt", "prompt template file for summaries"),
        Option("claims_prompt", str, f"{PROMPTS}/claims.txt", "prompt template file for claims"),
        Option("system_message", str, None, "optional system message"),
        Option("temperature", float, 0.0, "sampling temperature", minimum=0),
        Option("seed", int, 0, "sampling seed sent to the server"),
        Option("max_tokens", int, 512, "answer length limit", minimum=1),
        Option("max_input_chars", int, 12000, "cut the document text to this many characters", minimum=1),
        Option("text", str, "story", "story: headline and body regions; raw: whole page", choices=("story", "raw")),
        Option("json_mode", str, "auto", "structured claims output: auto, json_schema, json_object or prompt (none)",
               choices=("auto", "json_schema", "json_object", "prompt")),
        Option("concurrency", int, 1, "requests in flight at once", minimum=1),
        Option("retries", int, 3, "retries on 429, 5xx and connection errors", minimum=0),
        Option("backoff", float, 1.0, "first retry wait in seconds (doubles each time)", minimum=0),
        Option("timeout", float, 120.0, "seconds per request, from sending it to the answer's last byte",
               minimum=0.001),
        Option("max_output_bytes", int, 2_000_000, "a longer answer is cut off and recorded as a failure", minimum=1),
    )

    def setup(self) -> None:
        if not is_http_url(self.settings["base_url"]):
            raise UserError(f"openai-compatible: base_url must start with http:// or https://, got "
                            f"{url_without_credentials(self.settings['base_url'])!r}", field="base_url")
        self._templates = {task: _read_template(self.settings[f"{task}_prompt"], f"{task}_prompt") for task in TASKS}
        s = self.settings
        self._client = ChatClient(s["base_url"], read_api_key(s["api_key_env"], "api_key_env", "openai-compatible: "),
                                  retries=s["retries"], backoff=s["backoff"], timeout=s["timeout"],
                                  connections=s["concurrency"], max_output_bytes=s["max_output_bytes"])
        mode = self.settings["json_mode"]
        self._format = None if mode == "auto" else mode
        self._lock = threading.Lock()
        self.deterministic = self.settings["temperature"] == 0

    # ---------------------------------------------------------------- identity

    def fingerprint(self) -> str:
        digest = hashlib.sha256()
        for task in TASKS:
            digest.update(self._templates[task].encode("utf-8") + b"\0")
        return "prompts:" + digest.hexdigest()[:16]

    @property
    def concurrency(self) -> int:
        return self.settings["concurrency"]

    def runtime_info(self) -> dict:
        return {"response_format": self._format or "undecided"}

    def close(self) -> None:
        self._client.close()

    # ---------------------------------------------------------------- tasks

    def summarize(self, doc: Document) -> str:
        content = self._chat(self._messages(doc, "summary"), None)
        summary = content.strip()
        if not summary:
            raise BadOutput("the model returned an empty summary", content)
        return summary

    def extract_claims(self, doc: Document) -> list[PredictedClaim]:
        messages = self._messages(doc, "claims")
        content = self._structured(messages)
        return [PredictedClaim(text) for text in parse_claims_json(content)]

    # ---------------------------------------------------------------- HTTP

    def _messages(self, doc: Document, task: str) -> list[dict]:
        text = doc.story_text() if self.settings["text"] == "story" else doc.text
        text = _cut(text, self.settings["max_input_chars"])
        prompt = string.Template(self._templates[task]).safe_substitute(
            text=text, headline=doc.headline, doc_id=doc.doc_id)
        messages = [{"role": "user", "content": prompt}]
        if self.settings["system_message"]:
            messages.insert(0, {"role": "system", "content": self.settings["system_message"]})
        return messages

    def _structured(self, messages: list[dict]) -> str:
        with self._lock:
            chosen = self._format
        if chosen is not None:
            return self._chat(messages, response_format(chosen))
        try:
            content = self._chat(messages, response_format("json_schema"))
        except HTTPStatusError as err:
            if not err.refuses_format:  # a crash or a rate limit (already retried) says nothing about the form
                raise
            content = self._chat(messages, response_format("json_object"))
            with self._lock:
                self._format = "json_object"
            return content
        with self._lock:
            self._format = "json_schema"
        return content

    def _chat(self, messages: list[dict], fmt: dict | None) -> str:
        body = {"model": self.settings["model"], "messages": messages, "temperature": self.settings["temperature"],
                "max_tokens": self.settings["max_tokens"], "seed": self.settings["seed"]}
        if fmt is not None:
            body["response_format"] = fmt
        return self._client.complete(body)


class ChatClient:
    """POST chat/completions to one endpoint: retries on 429, 5xx and connection errors (exponential backoff, or
    the server's Retry-After), never on other 4xx; a total deadline per request. The adapter and the model-based
    judge both use it."""

    def __init__(self, base_url: str, api_key: str | None = None, *, retries: int = 3, backoff: float = 1.0,
                 timeout: float = 120.0, connections: int = 1, max_output_bytes: int = 2_000_000):
        self.base_url = base_url.rstrip("/") + "/"
        self._headers = {"Content-Type": "application/json"}
        if api_key:
            self._headers["Authorization"] = f"Bearer {api_key}"
        self.retries, self.backoff, self.timeout = retries, backoff, timeout
        self._connections, self._max_output_bytes = connections, max_output_bytes
        self._lock = threading.Lock()
        self._client = None

    def _http(self):
        """One client. Connections are not capped by the pool (the runner caps requests in flight): a request
        abandoned by a system timeout must never hold the only connection the next documents wait for."""
        with self._lock:
            if self._client is None:
                import httpx

                self._client = httpx.Client(base_url=self.base_url, headers=self._headers,
                                            limits=httpx.Limits(max_connections=None,
                                                                max_keepalive_connections=self._connections))
            return self._client

    def complete(self, body: dict) -> str:
        """The answer's text content for one request body (model, messages, sampling)."""
        import httpx

        client = self._http()
        last: AdapterError = AdapterError("no request made")
        for attempt in range(self.retries + 1):
            wait = None
            try:
                status, headers, data = self._post(client, body)
            except httpx.ReadTimeout:
                raise AdapterTimeout(f"no answer within {self.timeout:g} s") from None
            except httpx.TransportError as err:
                last = AdapterError(f"connection error: {type(err).__name__}: {err}")
            else:
                if status == 429 or status >= 500:
                    last = HTTPStatusError(status, _error_text(data))
                    if "response_format" in body and last.refuses_format:
                        raise last
                    wait = _retry_after(headers.get("retry-after"))
                elif status >= 400:
                    raise HTTPStatusError(status, _error_text(data))
                else:
                    return _content(data)
            if attempt < self.retries:
                time.sleep(min(MAX_BACKOFF, wait if wait is not None else self.backoff * 2 ** attempt))
        raise last

    def _post(self, client, body: dict) -> tuple[int, dict, bytes]:
        """One request, read as it streams in: given up (and its connection closed, not pooled) at the total
        deadline or once the answer passes max_output_bytes."""
        timeout, limit = self.timeout, self._max_output_bytes
        deadline = time.monotonic() + timeout
        with client.stream("POST", "chat/completions", json=body, timeout=timeout) as response:
            data = bytearray()
            for chunk in response.iter_bytes():
                data += chunk
                if len(data) > limit:
                    raise BadOutput(f"the server's answer is larger than {limit:,} bytes (max_output_bytes); "
                                    "it was cut off", bytes(data[:2000]).decode("utf-8", "replace"))
                if time.monotonic() > deadline:
                    raise AdapterTimeout(f"no complete answer within {timeout:g} s (it was still arriving); "
                                         "the connection was closed")
            return response.status_code, dict(response.headers), bytes(data)

    def close(self) -> None:
        with self._lock:
            if self._client is not None:
                self._client.close()
                self._client = None


def is_http_url(url: str) -> bool:
    return re.match(r"https?://[^/\s]", url) is not None


def read_api_key(variable: str | None, field: str, who: str = "") -> str | None:
    """The key from the environment variable named `variable`; kept in memory only, never stored. A key typed
    where the variable's name belongs is refused without being shown."""
    if not variable:
        return None
    if not looks_like_variable_name(variable):
        raise UserError(f"{who}{field} names the environment variable that holds the key (letters, digits, _); "
                        "this looks like a key itself and is not shown", field=field)
    key = os.environ.get(variable)
    if not key:
        raise UserError(f"{who}environment variable {variable} is not set (it holds the API key)", field=field)
    return key


def redact(text: str, secret: str | None) -> str:
    """`text` with every form of `secret` (any case, encoded, cut short) removed."""
    from harness.redact import Redactor

    return Redactor([secret])(text) if secret and text else text


def response_format(form: str) -> dict | None:
    if form == "json_schema":
        return {"type": "json_schema", "json_schema": {"name": "claims", "schema": CLAIMS_SCHEMA, "strict": True}}
    if form == "json_object":
        return {"type": "json_object", "schema": CLAIMS_SCHEMA}
    return None


def _content(data: bytes) -> str:
    text = data.decode("utf-8", "replace")
    try:
        content = json.loads(text)["choices"][0]["message"]["content"]
    except (ValueError, KeyError, IndexError, TypeError, RecursionError):
        raise BadOutput("the server's answer is not a chat completion", text[:2000]) from None
    if not isinstance(content, str):
        raise BadOutput("the chat completion has no text content", text[:2000])
    return content


def _error_text(data: bytes) -> str:
    """The server's error message: {"error": {"message": ...}}, {"error": "..."}, or the body as it came."""
    text = data.decode("utf-8", "replace")
    try:
        parsed = json.loads(text)
    except (ValueError, RecursionError):
        parsed = None
    if isinstance(parsed, dict):
        error = parsed.get("error")
        message = error.get("message") if isinstance(error, dict) else error
        text = str(message or parsed)
    return " ".join(text.split())[:300]


def _retry_after(value: str | None) -> float | None:
    """Retry-After in seconds, or as an HTTP date (RFC 9110 allows both); None when absent or unreadable."""
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, moment.timestamp() - time.time())


def _cut(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    cut = text[:limit]
    space = cut.rfind(" ")
    return cut[:space] if space > limit // 2 else cut


def _read_template(value: str, field: str) -> str:
    from harness.resources import resolve_bundled_file

    path = resolve_bundled_file(value)
    try:
        return path.read_text(encoding="utf-8")
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError, ValueError):  # ValueError: a NUL in the name
        raise UserError(f"openai-compatible: prompt template not found: {value!r}", field=field) from None
    except OSError as err:
        raise UserError(f"openai-compatible: prompt template cannot be read ({err.strerror or err}): {value!r}",
                        field=field) from None
    except UnicodeDecodeError as err:
        raise UserError(f"openai-compatible: prompt template is not valid UTF-8 (byte {err.start})", path) from None


def parse_claims_json(content: str) -> list[str]:
    """Claims from a model's answer: {"claims": [...]} or a bare list, inside code fences or prose if need be."""
    data = _first_json(content)
    if isinstance(data, dict):
        for key in ("claims", "facts", "statements"):
            if isinstance(data.get(key), list):
                data = data[key]
                break
        else:
            raise BadOutput("the model's JSON has no 'claims' list", content[:2000])
    if not isinstance(data, list):
        raise BadOutput("the model's JSON is not a list of claims", content[:2000])
    claims = []
    for item in data:
        if isinstance(item, dict):
            item = item.get("text") or item.get("claim")
        if isinstance(item, str) and item.strip():
            claims.append(" ".join(item.split()))
    return claims


def _first_json(content: str):
    text = content.strip()
    fenced = re.search(r"```(?:json)?\s*(.*?)```", text, re.S)
    if fenced:
        text = fenced.group(1).strip()
    try:
        return json.loads(text)
    except json.JSONDecodeError as err:
        first_error = err
    decoder = json.JSONDecoder()
    for match in re.finditer(r"[\[{]", text):
        try:
            value, _ = decoder.raw_decode(text, match.start())
        except json.JSONDecodeError:
            continue
        if isinstance(value, (dict, list)) and value:
            return value
    raise BadOutput(f"the model returned invalid JSON ({first_error.msg} at character {first_error.pos})", content[:2000])
