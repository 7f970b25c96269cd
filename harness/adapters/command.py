"""Run any executable as a model: one JSON request on stdin, one JSON answer on stdout, per document and task.

Request:  {"task": "summary" | "claims", "doc_id", "text", "story_text", "regions": [[start, end, label], ...],
           "headline", "outlet", "date"}: the document's Source, never its gold
Answer:   {"summary": "..."}  or  {"claims": ["...", {"text": "...", "span": [start, end]}]} (spans in "text")
The program is started from an argv list (never a shell); a non-zero exit, a timeout or an answer
in another form is a failure on that document.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import threading
from pathlib import Path

import psutil

from harness import __version__
from harness.adapters.base import Adapter, AdapterError, AdapterTimeout, BadOutput
from harness.config import Option
from harness.errors import UserError
from harness.records import TASKS, PredictedClaim, Source


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
    )

    def setup(self) -> None:
        argv = self.settings["argv"]
        program = argv[0]
        if shutil.which(program) is None and not Path(program).is_file():
            raise UserError(f"command: program not found: {program}", field="argv")
        if not self.settings["tasks"]:
            raise UserError("command: tasks must name at least one task", field="tasks")
        cwd = self.settings["cwd"]
        if cwd is not None and not Path(cwd).is_dir():
            raise UserError(f"command: cwd is not a directory: {cwd}", field="cwd")
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
        """Run the program; a timeout or an interrupted run ends it and every helper it started (a server, a
        tokenizer worker). It stays in the harness's process group, so killing that group ends it too."""
        argv = list(self.settings["argv"])
        process = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,  # noqa: S603 - no shell
                                   stderr=subprocess.PIPE, cwd=self.settings["cwd"], env=os.environ.copy())
        with self._lock:
            self._running.add(process)
        try:
            stdout, stderr = process.communicate(payload, timeout=timeout)
        except BaseException:  # a timeout, Ctrl-C or SIGTERM: nothing of the program may outlive the call
            _kill_tree(process)
            process.wait()  # not communicate(): a helper not found among its descendants could hold the pipes
            raise
        finally:
            with self._lock:
                self._running.discard(process)
            for pipe in (process.stdin, process.stdout, process.stderr):
                if pipe:
                    pipe.close()
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
