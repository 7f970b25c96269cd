"""Systems × tasks × corpus: call each adapter on each document, never lose an output, then score.

Every output goes to the cache as soon as it exists, so a killed run resumes where it stopped and a
rerun calls no model. A failure on one document (exception, timeout, bad output) is recorded with
its message and scored as empty output; the run goes on unless fail-fast is asked for.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from harness.adapters.base import Adapter, AdapterError, BadOutput, Output, call_with_timeout, given_to
from harness.cache import Cache, entry_key, input_sha256
from harness.config import RunConfig, SystemConfig
from harness.corpus import load_corpus
from harness.errors import UserError
from harness.io import WriteError, dumps_canonical, write_error
from harness.outdir import claimed
from harness.predictions import MAX_CLAIMS, MAX_TEXT_CHARS, systems_without_output, write_predictions
from harness.provenance import RunFacts, build_manifest, now
from harness.records import TASKS, Corpus, Document, PredictedClaim, Prediction
from harness.redact import Redactor, environment_secrets, secrets_of, without_url_credentials

if TYPE_CHECKING:
    from harness.evaluate import Evaluation

RAW_LIMIT = 2000


@dataclass
class FailFast(UserError):
    """The first failure under --fail-fast: the run stops (exit 2), keeping what was computed (`done`: the
    stopped system's predictions so far, in corpus order)."""

    done: tuple[Prediction, ...] = ()


@dataclass
class System:
    config: SystemConfig
    adapter: Adapter
    tasks: tuple[str, ...]
    package: str = "?"
    package_version: str = "?"

    @property
    def name(self) -> str:
        return self.config.name


@dataclass
class RunResult:
    predictions: list[Prediction]
    evaluation: Evaluation
    manifest: dict
    out_dir: Path
    failures: dict[str, dict[str, str]] = field(default_factory=dict)


# --------------------------------------------------------------------------- systems


def build_systems(config: RunConfig, tasks: tuple[str, ...]) -> list[System]:
    """Instantiate every adapter before any work, so configuration errors cost nothing."""
    from harness.adapters import registry

    systems = []
    for sc in config.systems:
        try:
            adapter = registry.load_class(sc.adapter)(**sc.options)
        except UserError as err:
            # an error inside another file (a replay file's line 3) keeps that file and line; else the config's
            path, line = (err.path, err.line) if err.path is not None else (config.path, sc.line)
            raise UserError(f"system {sc.name}: {err.message}", path, line, err.field) from None
        wanted = sc.tasks or tuple(t for t in adapter.tasks if t in tasks)
        unsupported = [t for t in wanted if t not in adapter.tasks]
        if unsupported:
            raise UserError(f"system {sc.name}: adapter {sc.adapter} does not do {unsupported[0]!r} "
                            f"(it does: {', '.join(adapter.tasks)})", config.path, sc.line, "tasks")
        wanted = tuple(t for t in TASKS if t in wanted and t in tasks)
        if not wanted:
            raise UserError(f"system {sc.name}: none of its tasks ({', '.join(adapter.tasks)}) is in this run "
                            f"({', '.join(tasks)})", config.path, sc.line, "tasks")
        package, version = registry.package_of(sc.adapter)
        systems.append(System(sc, adapter, wanted, package, version))
    return systems


# --------------------------------------------------------------------------- one document


def predict(system: System, doc: Document, cache: Cache | None, redact: Redactor | None = None) -> Prediction:
    """All of a system's tasks on one document, through the cache; failures become a message, not an exception.

    The adapter is given only the document's Source, unless it declares that it reads the gold. Whatever the
    model said passes `redact` before it is cached or kept, so no secret is ever written.
    """
    redact = redact if redact is not None else Redactor(())
    adapter = system.adapter
    outputs: dict[str, Output] = {}
    failures: list[str] = []
    meta: dict = {"cache": {}, "seconds": 0.0}
    doc_hash = input_sha256(doc, adapter.reads_gold)
    given = given_to(adapter, doc)
    for task in system.tasks:
        key = entry_key(adapter.name, str(adapter.version), adapter.options_hash(), doc_hash, task)
        use_cache = cache is not None and adapter.cacheable
        entry = cache.get(adapter.name, key) if use_cache else None
        if entry is not None:
            meta["cache"][task] = "hit"
            if entry.get("failure"):
                failures.append(f"{task}: {redact(entry['failure'])}")
                if entry.get("raw"):
                    meta.setdefault("raw_output", {})[task] = redact(entry["raw"])
            else:
                outputs[task] = _redacted(Output.from_json(entry["output"]), redact)
            continue
        meta["cache"][task] = "miss" if use_cache else "off"
        started = time.perf_counter()
        failure, raw, keep = None, None, True  # a malformed answer is kept (a rerun gives the same); transit errors not
        try:
            outputs[task] = _redacted(within_limits(call_with_timeout(adapter, given, task, system.config.timeout)),
                                      redact)
        except UserError:
            raise
        except BadOutput as err:
            failure, raw = str(err) or "bad output", err.raw
        except AdapterError as err:
            failure, keep = str(err) or type(err).__name__, False
        except Exception as err:  # noqa: BLE001 - a crash on one document is that document's failure
            failure, keep = f"{type(err).__name__}: {err}", False
        elapsed = time.perf_counter() - started
        meta["seconds"] += elapsed
        failure, raw = redact(_storable(failure)), redact(_storable(raw))
        if failure:
            failures.append(f"{task}: {failure}")
            if raw:
                meta.setdefault("raw_output", {})[task] = raw[:RAW_LIMIT]
        if use_cache and keep:
            record = {"adapter": adapter.name, "version": str(adapter.version), "task": task, "doc_id": doc.doc_id,
                      "doc_sha256": doc_hash, "options_hash": adapter.options_hash(), "seconds": round(elapsed, 4),
                      "created": now(), "output": outputs[task].to_json() if task in outputs else {}}
            if failure:
                record.update(failure=failure, raw=(raw or "")[:RAW_LIMIT])
            cache.put(adapter.name, key, record)
    meta["seconds"] = round(meta["seconds"], 4)
    summary = claims = None
    if "summary" in system.tasks:
        summary = outputs["summary"].summary if "summary" in outputs else ""
    if "claims" in system.tasks:
        claims = outputs["claims"].claims if "claims" in outputs else ()
    return Prediction(doc.doc_id, system.name, summary, claims, "; ".join(failures) or None, meta)


def within_limits(output: Output) -> Output:
    """The limits of the predictions format hold for a model's answers too (a 100 MB "summary" would fill the
    cache and take minutes to score): over them, the answer is a failure that keeps its first characters."""
    if output.summary is not None and len(output.summary) > MAX_TEXT_CHARS:
        raise BadOutput(f"the summary has {len(output.summary):,} characters; the limit is {MAX_TEXT_CHARS:,}",
                        output.summary[:RAW_LIMIT])
    claims = output.claims or ()
    if len(claims) > MAX_CLAIMS:
        raise BadOutput(f"{len(claims):,} claims; the limit is {MAX_CLAIMS:,} per document",
                        "\n".join(c.text[:200] for c in claims[:20])[:RAW_LIMIT])
    for i, claim in enumerate(claims):
        if len(claim.text) > MAX_TEXT_CHARS:
            raise BadOutput(f"claims[{i}] has {len(claim.text):,} characters; the limit is {MAX_TEXT_CHARS:,}",
                            claim.text[:RAW_LIMIT])
    return output


def _redacted(output: Output, redact: Redactor) -> Output:
    if not redact:
        return output
    if output.claims is not None:
        return Output(claims=tuple(PredictedClaim(redact(c.text), c.span) for c in output.claims))
    return Output(summary=redact(output.summary))


def run_redactor(systems: list[System]) -> Redactor:
    """Every secret this run could leak: named and secret-looking environment variables, URL credentials."""
    found = environment_secrets()
    for system in systems:
        found += secrets_of(system.adapter.settings)
    return Redactor(found)


# --------------------------------------------------------------------------- the run


def run(config: RunConfig, out_dir: Path, cache_dir: Path | None = Path(".cache/harness"), fail_fast: bool = False,
        progress: bool = True, log: Callable[[str], None] | None = None, tag: str | None = None,
        history_db: Path | None = None, jobs: int = 1) -> RunResult:
    """Run every system on every document, write predictions.jsonl and results.json, return the evaluation.

    `tag` (a release label) goes into the manifest, so `harness history import` restores it. The output folder
    is claimed (checked writable, locked against a second writer) after the config is checked and before any
    model is called. `jobs`: processes to score on (harness.evaluate.evaluate).
    """
    log = log or (lambda message: print(message, file=sys.stderr))
    started_at, t0 = now(), time.perf_counter()
    corpus = load_corpus(config.corpus)
    tasks = config.tasks
    if "claims" in tasks and not any(d.claims for d in corpus.documents):
        log("note: this corpus has no gold claims; running the summary task only")
        tasks = tuple(t for t in tasks if t != "claims")
        if not tasks:
            raise UserError("this corpus has no gold claims, and the run asks for claims only", config.path,
                            field="tasks")
    settings = config.score_settings()
    systems = build_systems(config, tasks)
    try:
        with claimed(out_dir) as out_dir:
            return _run_claimed(config, corpus, systems, settings, out_dir, cache_dir, fail_fast, progress, log, tag,
                                history_db, started_at, t0, jobs)
    finally:  # also when the folder could not be claimed (closing twice is harmless)
        for system in systems:
            system.adapter.close()


def _run_claimed(config: RunConfig, corpus: Corpus, systems: list[System], settings, out_dir: Path,
                 cache_dir: Path | None, fail_fast: bool, progress: bool, log: Callable[[str], None],
                 tag: str | None, history_db: Path | None, started_at: str, t0: float, jobs: int) -> RunResult:
    """The run once its output folder is known to be writable and is held by this run alone."""
    from harness.evaluate import evaluate
    from harness.parallel import Workers

    cache = Cache(Path(cache_dir), warn=log) if cache_dir is not None else None
    if cache is not None:
        cache.sweep_stale_temporaries()
    redact = run_redactor(systems)
    predictions: list[Prediction] = []
    timings: dict[str, float] = {}
    failures: dict[str, dict[str, str]] = {}
    try:
        for system in systems:
            s0 = time.perf_counter()
            try:
                done = _run_system(system, corpus, cache, fail_fast, progress, redact)
            except FailFast as stop:
                predictions += stop.done
                _save_predictions(out_dir, predictions, systems, cache)
                raise FailFast(f"{stop.message} (--fail-fast: stopped; {len(predictions)} predictions kept in "
                               f"{out_dir / 'predictions.jsonl'}" + (" and the cache)" if cache else ")")) from None
            timings[system.name] = round(time.perf_counter() - s0, 3)
            predictions += done
            failed = {p.doc_id: p.failure for p in done if p.failure}
            if failed:
                failures[system.name] = failed
    finally:
        for system in systems:
            system.adapter.close()
    _save_predictions(out_dir, predictions, systems, cache)
    s0 = time.perf_counter()
    with Workers(jobs - 1) as workers:
        evaluation = evaluate(corpus, predictions, settings, workers=workers, progress=progress,
                              reads_gold={s.name for s in systems if s.adapter.reads_gold})
    timings["scoring"] = round(time.perf_counter() - s0, 3)
    timings["total"] = round(time.perf_counter() - t0, 3)
    facts = run_facts(config, systems, cache, timings, failures, started_at, redact,
                      systems_without_output(predictions))
    manifest = build_manifest(corpus, settings, run=facts, tag=tag)
    write_results(out_dir, evaluation, corpus, predictions, manifest, history_db)
    return RunResult(predictions, evaluation, manifest, out_dir, failures)


def _save_predictions(out_dir: Path, predictions: list[Prediction], systems: list[System], cache: Cache | None) -> None:
    """predictions.jsonl, the first file of the run's outputs. If it cannot be written, the answers are kept
    elsewhere (the cache, else a file in the temporary folder) and the one-line error says where."""
    _start_outputs(out_dir)
    try:
        write_predictions(out_dir / "predictions.jsonl", predictions, [s.name for s in systems])
    except WriteError as err:
        if cache is not None and not cache.disabled:
            kept = "the models' answers are in the cache: free some space and run again (no model is asked twice)"
        else:
            kept = _spare_copy(predictions, systems)
        raise WriteError(f"{err.message}; {kept}", err.path) from None


def _spare_copy(predictions: list[Prediction], systems: list[System]) -> str:
    """Write the answers to a new file in the temporary folder; say where (or that even this failed)."""
    import tempfile

    try:
        handle, name = tempfile.mkstemp(prefix="harness-predictions-", suffix=".jsonl")
        os.close(handle)
    except OSError as err:
        return f"the models' answers could not be kept anywhere ({err.strerror}); free some space and run again"
    try:
        write_predictions(Path(name), predictions, [s.name for s in systems])
    except WriteError as err:
        Path(name).unlink(missing_ok=True)
        return f"the models' answers could not be kept anywhere ({err.message}); free some space and run again"
    return f"the models' answers were saved to {name} (score them with `harness score --predictions {name}`)"


def _start_outputs(out_dir: Path) -> None:
    """Remove an earlier run's results.json before writing this run's files: results.json is written last,
    so a folder holding one is always one complete run, even if this run is killed while writing."""
    try:
        (out_dir / "results.json").unlink(missing_ok=True)
    except OSError as err:
        raise write_error(err, out_dir / "results.json") from None


def _run_system(system: System, corpus: Corpus, cache: Cache | None, fail_fast: bool,
                progress: bool, redact: Redactor) -> list[Prediction]:
    from tqdm import tqdm

    documents = corpus.documents
    results: dict[str, Prediction] = {}
    n_failed = 0
    bar = tqdm(total=len(documents), desc=system.name, unit="doc", file=sys.stderr, disable=not progress,
               dynamic_ncols=True)

    def record(prediction: Prediction) -> None:
        nonlocal n_failed
        results[prediction.doc_id] = prediction
        if prediction.failure:
            n_failed += 1
            bar.set_postfix(failed=n_failed)
        bar.update(1)
        if prediction.failure and fail_fast:
            raise FailFast(f"system {system.name} failed on document {prediction.doc_id}: "
                           f"{prediction.failure.splitlines()[0][:300]}",
                           done=tuple(results[d.doc_id] for d in documents if d.doc_id in results))

    try:
        if system.adapter.concurrency <= 1:
            for doc in documents:
                record(predict(system, doc, cache, redact))
        else:
            from concurrent.futures import ThreadPoolExecutor, as_completed

            pool = ThreadPoolExecutor(max_workers=system.adapter.concurrency, thread_name_prefix=system.name)
            try:
                futures = [pool.submit(predict, system, doc, cache, redact) for doc in documents]
                for future in as_completed(futures):
                    record(future.result())
            finally:
                pool.shutdown(wait=True, cancel_futures=True)
    finally:
        bar.close()
    return [results[d.doc_id] for d in documents]


# --------------------------------------------------------------------------- outputs


def write_results(out_dir: Path, evaluation: Evaluation, corpus: Corpus, predictions: list[Prediction],
                  manifest: dict, history_db: Path | None = None) -> Path:
    """results.json, the tables and the report (with the release-history trend when a database is given)."""
    from harness.history import report_trend
    from harness.report.write import write_outputs

    results = evaluation.final_results(manifest)
    return write_outputs(out_dir, results, evaluation, corpus, predictions, trend=report_trend(history_db, results))


def run_facts(config: RunConfig, systems: list[System], cache: Cache | None, timings: dict, failures: dict,
              started_at: str, redact: Redactor | None = None,
              no_usable_output: list[str] | None = None) -> RunFacts:
    """What this run adds to the manifest (harness.provenance.build_manifest); option values keep no URL
    credentials and no secret."""
    redact = redact if redact is not None else Redactor(())
    return RunFacts(
        config={"path": str(config.path), "sha256": config.sha256, "name": config.name},
        tasks=sorted({t for s in systems for t in s.tasks}, key=TASKS.index),
        systems={
            s.name: {"adapter": s.config.adapter, "adapter_version": str(s.adapter.version), "package": s.package,
                     "package_version": s.package_version, "tasks": list(s.tasks),
                     "options": redact.value(without_url_credentials(_jsonable(s.adapter.settings))),
                     "options_hash": s.adapter.options_hash(), "fingerprint": s.adapter.fingerprint(),
                     "deterministic": bool(s.adapter.deterministic), "reads_gold": bool(s.adapter.reads_gold),
                     "timeout": s.config.timeout,
                     "runtime": s.adapter.runtime_info()}
            for s in systems
        },
        system_seeds={f"system:{s.name}": s.adapter.settings["seed"] for s in systems if "seed" in s.adapter.settings},
        started_at=started_at,
        timings=timings,
        cache=cache.stats() if cache else None,
        failures={"count": sum(len(f) for f in failures.values()), "by_system": failures,
                  "no_usable_output": no_usable_output or []},
    )


def _storable(text: str | None) -> str | None:
    """Text an adapter's error or raw answer carried, with lone surrogates (which UTF-8 cannot store) replaced."""
    if text is None:
        return None
    return text.encode("utf-8", "replace").decode("utf-8")


def _jsonable(value):
    return json.loads(dumps_canonical(value))
