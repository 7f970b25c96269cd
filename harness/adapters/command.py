"""Run any executable as a model: one JSON request on stdin, one JSON answer on stdout, per document and task.

Request:  {"task": "summary" | "claims", "doc_id", "text", "story_text", "regions": [[start, end, label], ...],
           "headline", "outlet", "date"}: the document's Source, never its gold
Answer:   {"summary": "..."}  or  {"claims": ["...", {"text": "...", "span": [start, end]}]} (spans in "text")
The program is started from an argv list (never a shell); a non-zero exit, a timeout or an answer
in another form, or an answer larger than `max_output_bytes`, is a failure on that document.

The program gets a minimal environment (PATH, HOME, the locale, the temporary folder and the few
variables Windows needs) plus the variables the config names in `env`, never the whole environment of
the harness: a model that prints its environment must not be able to print an API key it was not given.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

import psutil

from harness import __version__
from harness.adapters.base import Adapter, AdapterError, AdapterTimeout, BadOutput
from harness.options import Option
from harness.errors import UserError
from harness.records import TASKS, PredictedClaim, Source
from harness.redact import looks_like_variable_name

# What a program needs from the environment to start at all, on Linux, macOS and Windows.
ESSENTIAL_VARIABLES = ("PATH", "HOME", "USER", "LOGNAME", "LANG", "LANGUAGE", "TZ", "TMPDIR", "TEMP", "TMP",
                       "SYSTEMROOT", "SYSTEMDRIVE", "WINDIR", "COMSPEC", "PATHEXT")
STDERR_KEPT = 65_536  # bytes of the program's log kept (its last line explains a crash)


class CommandAdapter(Adapter):
    """Any executable speaking JSON on stdin/stdout; `version` names your program's version for the cache."""

    name = "command"
    version = __version__
    deterministic = False
    options = (
        Option("argv", "argv", None, "program and arguments, e.g. [python, my_model.py]", required=True),
        Option("tasks", "strings", TASKS, "tasks the program does", choices=TASKS),
        Option("timeout", float, 60.0, "seconds per call", minimum=0.001),
        Option("version", str, "1", "your program's version: change it to invalidate cached outputs"),
        Option("deterministic", bool, False, "the program gives the same answer for the same input"),
        Option("cwd", str, None, "working directory for the program"),
        Option("env", "strings", (), "environment variables passed to the program besides PATH, HOME, the locale "
                                     "and TMPDIR (e.g. [OPENAI_API_KEY]); their values never reach a written file"),
        Option("max_output_bytes", int, 2_000_000, "a longer answer is stopped and recorded as a failure",
               minimum=1),
    )

    def setup(self) -> None:
        """Check the program, its folder and its environment names once, before any document: a typo costs
        one line at start-up, not a failure per document."""
        argv = self.settings["argv"]
        program = argv[0]
        if shutil.which(program) is None and not Path(program).is_file():
            raise UserError(f"command: program not found: {program}", field="argv")
        if not self.settings["tasks"]:
            raise UserError("command: tasks must name at least one task", field="tasks")
        cwd = self.settings["cwd"]
        if cwd is not None and not Path(cwd).is_dir():
            raise UserError(f"command: cwd is not a directory: {cwd}", field="cwd")
        for i, name in enumerate(self.settings["env"]):
            if not looks_like_variable_name(name):
                raise UserError(f"command: env[{i}] must name an environment variable (letters, digits, _); this "
                                "looks like a value, perhaps the secret itself, and is not shown", field="env")
        self.tasks = tuple(t for t in TASKS if t in self.settings["tasks"])
        self.deterministic = self.settings["deterministic"]
        self._running: set[subprocess.Popen] = set()
        self._lock = threading.Lock()

    def close(self) -> None:
        """End programs still running: a call the runner gave up on (timeout) or an interrupted run."""
        with self._lock:
            running = list(self._running)
        for process in running:
            _kill_tree(process)

    def fingerprint(self) -> str:
        return f"program-version:{self.settings['version']}"

    def _call(self, doc: Source, task: str) -> dict:
        request = {"task": task, "doc_id": doc.doc_id, "text": doc.text, "story_text": doc.story_text(),
                   "regions": [[r.start, r.end, r.label] for r in doc.regions],
                   "headline": doc.headline, "outlet": doc.outlet, "date": doc.date}
        timeout = self.settings["timeout"]
        payload = json.dumps(request, ensure_ascii=False).encode("utf-8")
        try:
            done = self._run_program(payload, timeout)
        except subprocess.TimeoutExpired:
            raise AdapterTimeout(f"command timed out after {timeout:g} s") from None
        except OutputTooLarge as flood:
            raise BadOutput(f"command printed more than {self.settings['max_output_bytes']:,} bytes "
                            "(max_output_bytes); it was stopped", flood.head.decode("utf-8", "replace")) from None
        except OSError as err:
            raise AdapterError(f"command could not start: {err.strerror or err}") from None
        returncode = done.returncode
        if returncode != 0:
            lines = done.stderr.decode("utf-8", "replace").strip().splitlines()
            detail = f": {lines[-1][:300]}" if lines else ""
            if returncode < 0:
                raise AdapterError(f"command was killed by signal {-returncode} ({_signal_name(-returncode)}){detail}")
            raise AdapterError(f"command exited with status {returncode}{detail}")
        out = done.stdout.decode("utf-8", "replace")  # stderr of a successful call is the program's own log: ignored
        try:
            answer = json.loads(out)
        except ValueError as err:  # JSONDecodeError, or an integer too long to read
            raise BadOutput(f"command printed invalid JSON ({getattr(err, 'msg', err)})", out[:2000]) from None
        except RecursionError:
            raise BadOutput("command printed invalid JSON (nested too deeply)", out[:2000]) from None
        if not isinstance(answer, dict):
            raise BadOutput("command must print a JSON object", out[:2000])
        return answer

    def _run_program(self, payload: bytes, timeout: float) -> subprocess.CompletedProcess:
        """Run the program; a timeout, an answer over the size limit or an interrupted run ends it and every helper
        it started (a server, a tokenizer worker). It stays in the harness's process group, so killing that group
        ends it too."""
        argv = list(self.settings["argv"])
        process = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,  # noqa: S603 - no shell
                                   stderr=subprocess.PIPE, cwd=self.settings["cwd"],
                                   env=child_environment(self.settings["env"]))
        with self._lock:
            self._running.add(process)
        try:
            stdout, stderr = _exchange(process, payload, timeout, self.settings["max_output_bytes"])
        except BaseException:  # a timeout, a flood, Ctrl-C or SIGTERM: nothing of the program may outlive the call
            _kill_tree(process)
            process.wait()  # the pipes are left to their reader threads: a helper could hold them open
            raise
        finally:
            with self._lock:
                self._running.discard(process)
        return subprocess.CompletedProcess(argv, process.returncode, stdout, stderr)

    def summarize(self, doc: Source) -> str:
        answer = self._call(doc, "summary")
        if not isinstance(answer.get("summary"), str):
            raise BadOutput("command answer has no string 'summary'", json.dumps(answer)[:2000])
        return answer["summary"]

    def extract_claims(self, doc: Source) -> list[PredictedClaim]:
        answer = self._call(doc, "claims")
        claims = answer.get("claims")
        if not isinstance(claims, list):
            raise BadOutput("command answer has no list 'claims'", json.dumps(answer)[:2000])
        return [parse_claim(item, i) for i, item in enumerate(claims)]


def child_environment(named: Sequence[str], environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The essentials (PATH, HOME, the locale, the temporary folder, Windows' system variables) and the named."""
    environ = os.environ if environ is None else environ
    kept = {k: v for k, v in environ.items() if k in ESSENTIAL_VARIABLES or k.startswith("LC_")}
    kept.update({name: environ[name] for name in named if name in environ})
    return kept


class OutputTooLarge(Exception):
    """The program printed more than the limit; `head` is what came first."""

    def __init__(self, head: bytes):
        super().__init__("output too large")
        self.head = head


def _exchange(process: subprocess.Popen, payload: bytes, timeout: float, limit: int) -> tuple[bytes, bytes]:
    """communicate(), with a cap on stdout: the request is written and both pipes are read in threads (each
    thread closes its own pipe), and the call gives up at the deadline or once stdout passes `limit` bytes."""
    deadline = time.monotonic() + timeout
    stdout, stderr = bytearray(), bytearray()
    flooded = threading.Event()

    def feed() -> None:
        with process.stdin:
            try:
                process.stdin.write(payload)
            except OSError:  # the program exited without reading its request
                pass

    def read(pipe, into: bytearray, cap: int | None) -> None:
        with pipe:
            while chunk := pipe.read1(65_536):
                into += chunk
                if cap is not None and len(into) > cap:
                    flooded.set()
                    return
                if cap is None and len(into) > STDERR_KEPT:
                    del into[:len(into) - STDERR_KEPT]

    threads = [threading.Thread(target=feed, daemon=True),
               threading.Thread(target=read, args=(process.stdout, stdout, limit), daemon=True),
               threading.Thread(target=read, args=(process.stderr, stderr, None), daemon=True)]
    for thread in threads:
        thread.start()
    for thread in threads[1:]:
        while thread.is_alive() and not flooded.is_set():
            thread.join(min(0.05, max(0.0, deadline - time.monotonic())))
            if time.monotonic() >= deadline and thread.is_alive():
                raise subprocess.TimeoutExpired(process.args, timeout)
        if flooded.is_set():
            raise OutputTooLarge(bytes(stdout[:limit]))
    process.wait(max(0.001, deadline - time.monotonic()))
    return bytes(stdout), bytes(stderr)


def _kill_tree(process: subprocess.Popen) -> None:
    """Kill the program and its descendants (found before the program dies and they are re-parented)."""
    try:
        helpers = psutil.Process(process.pid).children(recursive=True)
    except psutil.Error:  # the program has already gone
        helpers = []
    process.kill()
    for helper in helpers:
        try:
            helper.kill()
        except psutil.Error:
            pass


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return "unknown signal"


def parse_claim(item: object, index: int) -> PredictedClaim:
    """A claim given as a string or {"text": ..., "span": [start, end] | null}."""
    if isinstance(item, str):
        return PredictedClaim(item)
    if isinstance(item, dict) and isinstance(item.get("text"), str):
        span = item.get("span")
        if span is None:
            return PredictedClaim(item["text"])
        if isinstance(span, list) and len(span) == 2 and all(isinstance(x, int) and not isinstance(x, bool)
                                                              for x in span):
            return PredictedClaim(item["text"], (span[0], span[1]))
        raise BadOutput(f"claims[{index}].span must be [start, end]", json.dumps(item)[:2000])
    raise BadOutput(f"claims[{index}] must be a string or an object with 'text'", json.dumps(item)[:2000])
