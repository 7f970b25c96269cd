"""Any OpenAI-compatible chat endpoint (vLLM, llama.cpp server, Ollama, hosted APIs) as an adapter.

Structured output for claims comes in two forms in the wild: OpenAI's
`{"type": "json_schema", "json_schema": {...}}` and llama.cpp's `{"type": "json_object", "schema": {...}}`.
With `json_mode: auto` the first claims request tries json_schema; if the server rejects it, the
json_object form is used from then on. Models still break JSON, so parsing is tolerant and a
broken answer becomes a recorded failure that keeps the raw text. The API key is read from the
environment variable named by `api_key_env` and is never stored, hashed, logged or written.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import string
import threading
import time
from pathlib import Path

from harness import __version__
from harness.adapters.base import Adapter, AdapterError, AdapterTimeout, BadOutput, Output
from harness.config import Option
from harness.errors import UserError
from harness.records import TASKS, PredictedClaim, Source

PROMPTS = "configs/prompts"  # relative: the working directory's, else the bundled templates (harness.resources)
CLAIMS_SCHEMA = {
    "type": "object",
    "properties": {"claims": {"type": "array", "items": {"type": "string"}}},
    "required": ["claims"],
}
MAX_BACKOFF = 30.0
REDACTED = "[api key removed]"


class HTTPStatusError(AdapterError):
    def __init__(self, status: int, message: str):
        super().__init__(f"HTTP {status}: {message}")
        self.status = status


class OpenAICompatibleAdapter(Adapter):
    """Chat completions over HTTP; prompts are templates ($text, $headline, $doc_id) kept in configs/prompts/."""

    name = "openai-compatible"
    version = __version__
    tasks = TASKS
    options = (
        Option("base_url", str, None, "endpoint root, e.g. http://127.0.0.1:8080/v1", required=True),
        Option("model", str, None, "model name the server expects", required=True),
        Option("api_key_env", str, None, "name of the environment variable holding the API key"),
        Option("summary_prompt", str, f"{PROMPTS}/summary.txt",
               "prompt template file for summaries ($text, $headline, $doc_id are filled in)"),
        Option("claims_prompt", str, f"{PROMPTS}/claims.txt",
               "prompt template file for claims ($text, $headline, $doc_id are filled in)"),
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
        Option("timeout", float, 120.0, "seconds per request", minimum=0.001),
    )

    def setup(self) -> None:
        if not is_http_url(self.settings["base_url"]):
            raise UserError(f"openai-compatible: base_url must start with http:// or https://, got "
                            f"{self.settings['base_url']!r}", field="base_url")
        self._templates = {task: _read_template(self.settings[f"{task}_prompt"], f"{task}_prompt") for task in TASKS}
        self._secret = read_api_key(self.settings["api_key_env"], "api_key_env", "openai-compatible: ")
        s = self.settings
        self._client = ChatClient(s["base_url"], self._secret, retries=s["retries"], backoff=s["backoff"],
                                  timeout=s["timeout"], connections=s["concurrency"])
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

    def run(self, doc: Source, task: str) -> Output:
        """As Adapter.run, with the API key blanked out of anything that could be stored or shown: a server that
        echoes the key in an error message (or a model in its answer) must not put it in results, caches or logs."""
        try:
            output = super().run(doc, task)
        except AdapterError as err:
            if self._secret is not None:
                err.args = (self._redact(str(err)),)
                if isinstance(err, BadOutput) and err.raw:
                    err.raw = self._redact(err.raw)
            raise
        except UserError:
            raise
        except Exception as err:  # noqa: BLE001 - re-raised as a document failure, key removed
            raise AdapterError(self._redact(f"{type(err).__name__}: {err}")) from None
        if self._secret is None:
            return output
        if output.claims is not None:
            return Output(claims=tuple(PredictedClaim(self._redact(c.text), c.span) for c in output.claims))
        return Output(summary=self._redact(output.summary or ""))

    def _redact(self, text: str) -> str:
        return redact(text, self._secret)

    def summarize(self, doc: Source) -> str:
        content = self._chat(self._messages(doc, "summary"), None)
        summary = content.strip()
        if not summary:
            raise BadOutput("the model returned an empty summary", content)
        return summary

    def extract_claims(self, doc: Source) -> list[PredictedClaim]:
        messages = self._messages(doc, "claims")
        content = self._structured(messages)
        return [PredictedClaim(text) for text in parse_claims_json(content)]

    # ---------------------------------------------------------------- HTTP

    def _messages(self, doc: Source, task: str) -> list[dict]:
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
            content = self._chat(messages, response_format("json_schema"), retries=0)
        except HTTPStatusError as err:
            if err.status not in (400, 404, 415, 422, 500, 501):
                raise
            content = self._chat(messages, response_format("json_object"))
            with self._lock:
                self._format = "json_object"
            return content
        with self._lock:
            self._format = "json_schema"
        return content

    def _chat(self, messages: list[dict], fmt: dict | None, retries: int | None = None) -> str:
        body = {"model": self.settings["model"], "messages": messages, "temperature": self.settings["temperature"],
                "max_tokens": self.settings["max_tokens"], "seed": self.settings["seed"]}
        if fmt is not None:
            body["response_format"] = fmt
        return self._client.complete(body, retries)


class ChatClient:
    """POST chat/completions to one endpoint: retries on 429, 5xx and connection errors (exponential backoff,
    or the server's Retry-After), never on other 4xx. The adapter and the model-based judge both use it."""

    def __init__(self, base_url: str, api_key: str | None = None, *, retries: int = 3, backoff: float = 1.0,
                 timeout: float = 120.0, connections: int = 1):
        self.base_url = base_url.rstrip("/") + "/"
        self._headers = {"Content-Type": "application/json"}
        if api_key:
            self._headers["Authorization"] = f"Bearer {api_key}"
        self.retries, self.backoff, self.timeout, self._connections = retries, backoff, timeout, connections
        self._lock = threading.Lock()
        self._client = None

    def _http(self):
        with self._lock:
            if self._client is None:
                import httpx

                limit = self._connections
                self._client = httpx.Client(base_url=self.base_url, headers=self._headers,
                                            limits=httpx.Limits(max_connections=limit, max_keepalive_connections=limit))
            return self._client

    def complete(self, body: dict, retries: int | None = None) -> str:
        """The answer's text content for one request body (model, messages, sampling)."""
        import httpx

        retries = self.retries if retries is None else retries
        client = self._http()
        last: AdapterError = AdapterError("no request made")
        for attempt in range(retries + 1):
            wait = None
            try:
                response = client.post("chat/completions", json=body, timeout=self.timeout)
            except httpx.ReadTimeout:
                raise AdapterTimeout(f"no answer within {self.timeout:g} s") from None
            except httpx.TransportError as err:
                last = AdapterError(f"connection error: {type(err).__name__}: {err}")
            else:
                if response.status_code == 429 or response.status_code >= 500:
                    last = HTTPStatusError(response.status_code, _error_text(response))
                    wait = _retry_after(response)
                elif response.status_code >= 400:
                    raise HTTPStatusError(response.status_code, _error_text(response))
                else:
                    return _content(response)
            if attempt < retries:
                time.sleep(min(MAX_BACKOFF, wait if wait is not None else self.backoff * 2 ** attempt))
        raise last

    def close(self) -> None:
        with self._lock:
            if self._client is not None:
                self._client.close()
                self._client = None


def is_http_url(url: str) -> bool:
    return re.match(r"https?://[^/\s]", url) is not None


def read_api_key(variable: str | None, field: str, who: str = "") -> str | None:
    """The key from the environment variable named `variable`; it is kept in memory only, never stored."""
    if not variable:
        return None
    key = os.environ.get(variable)
    if not key:
        raise UserError(f"{who}environment variable {variable} is not set (it holds the API key)", field=field)
    return key


def redact(text: str, secret: str | None) -> str:
    return text.replace(secret, REDACTED) if secret and text else text


def response_format(form: str) -> dict | None:
    if form == "json_schema":
        return {"type": "json_schema", "json_schema": {"name": "claims", "schema": CLAIMS_SCHEMA, "strict": True}}
    if form == "json_object":
        return {"type": "json_object", "schema": CLAIMS_SCHEMA}
    return None


def _content(response) -> str:
    try:
        data = response.json()
        content = data["choices"][0]["message"]["content"]
    except (ValueError, KeyError, IndexError, TypeError, RecursionError):
        raise BadOutput("the server's answer is not a chat completion", response.text[:2000]) from None
    if not isinstance(content, str):
        raise BadOutput("the chat completion has no text content", response.text[:2000])
    return content


def _error_text(response) -> str:
    """The server's error message: {"error": {"message": ...}}, {"error": "..."}, or the body as it came."""
    try:
        data = response.json()
    except (ValueError, RecursionError):
        data = None
    text = response.text
    if isinstance(data, dict):
        error = data.get("error")
        message = error.get("message") if isinstance(error, dict) else error
        text = str(message or data)
    return " ".join(text.split())[:300]


def _retry_after(response) -> float | None:
    value = response.headers.get("retry-after")
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None


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
