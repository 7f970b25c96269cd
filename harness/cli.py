"""Command line: thin wrappers over the library; the one place errors become exit codes.

Exit codes: 0 success; 1 a regression was found (compare --fail-on-regression); 2 bad input or usage;
130 interrupted (Ctrl-C); 143 terminated (SIGTERM).
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from harness.errors import UserError

DATASETS_BARS = "HF_DATASETS_DISABLE_PROGRESS_BARS"
EXIT_CODES = ("exit codes: 0 ok; 1 regression found (compare only); 2 bad input, usage error or failed validation; "
              "130 interrupted (Ctrl-C), 143 terminated (SIGTERM): work already done is kept")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="harness", description=__doc__.splitlines()[0], epilog=EXIT_CODES)
    from harness import __version__

    parser.add_argument("--version", action="version", version=f"harness {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    gold = sub.add_parser("gold", help="validate, describe and export the gold corpus", epilog=EXIT_CODES)
    gold_sub = gold.add_subparsers(dest="gold_command", required=True)
    for name, helptext in (("validate", "check the corpus; prints its hash"), ("stats", "documents x counts")):
        p = gold_sub.add_parser(name, help=helptext, epilog=EXIT_CODES)
        p.add_argument("--gold", type=Path, help="gold folder or exported JSONL (default: bundled corpus)")
    p = gold_sub.add_parser("export", help="write the corpus as JSONL or a datasets.DatasetDict", epilog=EXIT_CODES)
    p.add_argument("--gold", type=Path)
    p.add_argument("--format", choices=("jsonl", "hf"), required=True)
    p.add_argument("out", type=Path)
    _progress_option(p)
    p = gold_sub.add_parser("fill-spans", help="resolve quoted evidence and line ranges to offsets (authoring aid)",
                            epilog=EXIT_CODES)
    p.add_argument("annotation", type=Path, nargs="+")

    score = sub.add_parser("score", help="score a predictions JSONL against the gold, or a file of "
                                         "(reference, prediction) pairs", epilog=EXIT_CODES)
    given = score.add_mutually_exclusive_group(required=True)
    given.add_argument("--predictions", type=Path, help="predictions JSONL (doc_id, system, summary and/or claims)")
    given.add_argument("--pairs", type=Path,
                       help='JSONL of {"id", "reference" or "references", "prediction"}: ROUGE only, read and scored '
                            "in constant memory, texts as given (one sentence per line for ROUGE-Lsum)")
    score.add_argument("--gold", type=Path)
    score.add_argument("--system", help="system name for lines that carry none (with --pairs: the name shown, "
                                        "default the file's name)")
    score.add_argument("--json", action="store_true", help="print the result object as JSON")
    score.add_argument("--out", type=Path, help="write results, tables and report to this folder (with --pairs: "
                                                "results.json and scores.jsonl, one line of scores per pair)")
    score.add_argument("--jobs", type=int, help="processes to score predictions on (default: every core, once "
                                                "there are enough predictions to repay starting them)")
    _progress_option(score)
    _history_options(score)
    _scoring_options(score)

    matcher = sub.add_parser("matcher", help="the claim matcher", epilog=EXIT_CODES)
    matcher_sub = matcher.add_subparsers(dest="matcher_command", required=True)
    p = matcher_sub.add_parser("eval", help="precision, recall and kappa on gold/matching/", epilog=EXIT_CODES)
    p.add_argument("--gold", type=Path)
    p.add_argument("--matcher", choices=("lexical", "embedding", "hybrid"), default="lexical")
    p.add_argument("--json", action="store_true")
    _progress_option(p)

    run = sub.add_parser("run", help="run systems (adapters) over the corpus, score them, print the table",
                         epilog=EXIT_CODES)
    run.add_argument("--config", type=Path, required=True, help="run config, e.g. configs/default.yaml")
    run.add_argument("--out", type=Path, help="output folder (default results/<config name>)")
    run.add_argument("--cache-dir", type=Path, default=Path(".cache/harness"),
                     help="model output cache (default .cache/harness)")
    run.add_argument("--no-cache", action="store_true", help="neither read nor write the cache")
    run.add_argument("--fail-fast", action="store_true", help="stop at the first failed document (exit 2)")
    _progress_option(run)
    _history_options(run)
    adapters = sub.add_parser("adapters", help="adapters found through the harness.adapters entry points",
                              epilog=EXIT_CODES)
    adapters_sub = adapters.add_subparsers(dest="adapters_command", required=True)
    p = adapters_sub.add_parser("list", help="every adapter: tasks, package, version", epilog=EXIT_CODES)
    p.add_argument("--json", action="store_true")

    from harness.compare import COMPARE_HELP, add_arguments as add_compare_arguments

    compare = sub.add_parser(
        "compare", help="compare two results.json: deltas, paired tests, regression gate",
        description=COMPARE_HELP, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_compare_arguments(compare)
    _compare_history_options(compare)
    _progress_option(compare)

    _history_parser(sub)
    return parser


def _progress_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--no-progress", action="store_true",
                   help="no progress bars on stderr (also silences those of the datasets library)")


@contextmanager
def _quiet_progress(quiet: bool) -> Iterator[None]:
    """--no-progress: the datasets library draws its own bars (loading a corpus, exporting the gold). The variable
    it reads is set for the command only, so that main, called in a process that goes on, leaks no setting
    into later commands or child processes (datasets itself keeps what it read on import)."""
    if not quiet:
        yield
        return
    import os

    previous = os.environ.get(DATASETS_BARS)
    os.environ[DATASETS_BARS] = "1"  # read when datasets is first imported
    if "datasets" in sys.modules:
        sys.modules["datasets"].disable_progress_bars()
    try:
        yield
    finally:
        if previous is None:
            del os.environ[DATASETS_BARS]
        else:
            os.environ[DATASETS_BARS] = previous


def _history_options(p: argparse.ArgumentParser) -> None:
    from harness.history import DEFAULT_DB

    p.add_argument("--tag", help="release label kept with the run in the history (e.g. a model or harness version)")
    p.add_argument("--db", type=Path, default=DEFAULT_DB, help=f"history database (default {DEFAULT_DB})")


def _compare_history_options(p: argparse.ArgumentParser) -> None:
    """--against-tag / --against-previous: the baseline comes from the history, so only CANDIDATE is given."""
    from harness.history import DEFAULT_DB

    for action in p._actions:  # argparse has no public way to relax a positional added elsewhere
        if action.dest == "baseline":
            action.nargs = "?"
    against = p.add_mutually_exclusive_group()
    against.add_argument("--against-tag", metavar="TAG",
                         help="baseline: the latest recorded run with this tag, on the same gold and signature")
    against.add_argument("--against-previous", action="store_true",
                         help="baseline: the run recorded just before the candidate, on the same gold and signature")
    p.add_argument("--db", type=Path, default=DEFAULT_DB, help=f"history database (default {DEFAULT_DB})")


def _history_parser(sub: argparse._SubParsersAction) -> None:
    from harness.history import DEFAULT_DB, DEFAULT_METRIC, DEFAULT_TOLERANCE

    p = sub.add_parser("history", help="a metric across recorded runs and releases, with regressions marked",
                       epilog=EXIT_CODES)
    p.add_argument("--db", type=Path, default=DEFAULT_DB, help=f"history database (default {DEFAULT_DB})")
    p.add_argument("--metric", default=DEFAULT_METRIC,
                   help="e.g. claims.f1 (default), claims.recall, summary.rougeL, summary.claim_coverage")
    p.add_argument("--system", action="append", help="only this system (repeatable)")
    p.add_argument("--doc", default="", help="one document's values instead of the system's aggregate")
    p.add_argument("--last", type=int, help="only the last N runs of each series")
    p.add_argument("--tolerance", type=float, default=DEFAULT_TOLERANCE,
                   help=f"mark moves the wrong way larger than this (default {DEFAULT_TOLERANCE})")
    p.add_argument("--plot", type=Path, help="also write the trend chart, one panel per system (.png or .svg)")
    p.add_argument("--json", action="store_true", help="print the series as JSON")
    history_sub = p.add_subparsers(dest="history_command", metavar="{import}")
    imp = history_sub.add_parser("import", help="add results.json files to the database (re-importing adds nothing)",
                                 epilog=EXIT_CODES)
    imp.add_argument("results", nargs="+", help="results.json files, folders holding them, or globs such as "
                                                "'results/**/results.json'")
    imp.add_argument("--db", type=Path, default=argparse.SUPPRESS, help=f"history database (default {DEFAULT_DB})")
    imp.add_argument("--tag", help="label every imported run with this tag")
    _progress_option(imp)


def _scoring_options(p: argparse.ArgumentParser) -> None:
    from harness.scoring.settings import ScoreSettings

    d = ScoreSettings()
    p.add_argument("--matcher", choices=("lexical", "embedding", "hybrid"), default=d.matcher,
                   help="claim similarity: lexical (default), embedding or hybrid (need harness[embed])")
    p.add_argument("--threshold", type=float, default=None,
                   help=f"claim match threshold (default: calibrated per matcher, lexical {d.threshold})")
    p.add_argument("--coverage-threshold", type=float, default=d.coverage_threshold)
    p.add_argument("--multi-ref", choices=("max", "mean"), default=d.multi_ref,
                   help="several references: best F per metric (default) or the mean")
    p.add_argument("--no-stemmer", action="store_true", help="turn off Porter stemming in ROUGE")
    p.add_argument("--bootstrap", type=int, default=d.bootstrap, help="bootstrap resamples (0 = no intervals)")
    p.add_argument("--seed", type=int, default=d.seed)


def settings_from(args: argparse.Namespace):
    from harness.scoring.settings import ScoreSettings

    from harness.scoring.settings import MATCHER_THRESHOLDS

    threshold = MATCHER_THRESHOLDS[args.matcher] if args.threshold is None else args.threshold
    return ScoreSettings(threshold=threshold, matcher=args.matcher, coverage_threshold=args.coverage_threshold,
                         use_stemmer=not args.no_stemmer, multi_ref=args.multi_ref,
                         bootstrap=args.bootstrap, seed=args.seed)


# --------------------------------------------------------------------------- commands

def cmd_gold(args: argparse.Namespace) -> int:
    from harness import gold
    from harness.report.tables import text_table

    if args.gold_command == "fill-spans":
        from harness.annotate import fill_spans

        for path in args.annotation:
            doc_id = path.stem
            n = fill_spans(path, path.parent.parent / "articles" / f"{doc_id}.txt")
            print(f"{path}: {n} spans resolved")
        return 0
    corpus, origins = gold.load(args.gold)
    if args.gold_command == "validate":
        problems = gold.validate(corpus, origins)
        for problem in problems:
            print(problem, file=sys.stderr)
        if problems:
            print(f"{len(problems)} problem(s) in {corpus.source}", file=sys.stderr)
            return 2
        n_claims = sum(len(d.claims) for d in corpus.documents)
        print(f"gold OK: {len(corpus.documents)} documents, {n_claims} claims, "
              f"{sum(len(d.summaries) for d in corpus.documents)} summaries")
        print(f"gold sha256: {corpus.sha256}")
        return 0
    if args.gold_command == "stats":
        rows = gold.stats_rows(corpus)
        total = {"doc_id": "TOTAL", **{k: sum(r[k] for r in rows) for k in rows[0] if k not in ("doc_id", "outlet")}}
        columns = ["doc_id", "chars", "claims", "core", "major", "minor", "optional", "summaries", "excluded_regions"]
        print(text_table(rows + [total], columns))
        return 0
    if args.format == "jsonl":
        gold.export_jsonl(corpus, args.out)
    else:
        gold.export_hf(corpus, args.out)
    print(f"wrote {args.out} ({len(corpus.documents)} documents, gold sha256 {corpus.sha256})")
    return 0


def cmd_score(args: argparse.Namespace) -> int:
    if args.jobs is not None and args.jobs < 1:
        raise UserError(f"must be a whole number >= 1, got {args.jobs}", field="--jobs")
    if args.pairs:
        return _score_pairs(args)
    from functools import partial

    from harness import gold
    from harness.evaluate import evaluate
    from harness.parallel import Workers, usable_cores
    from harness.predictions import iter_predictions
    from harness.scoring.jobs import worker_scorer

    settings = settings_from(args)
    with Workers((args.jobs or usable_cores()) - 1, partial(worker_scorer, settings)) as workers:
        if _file_size(args.predictions) >= WORKERS_AT_ONCE_FROM:
            workers.start()  # they start up while the gold is read
        corpus, _ = gold.load(args.gold)
        predictions = iter_predictions(args.predictions, corpus.by_id(), args.system)
        if args.out:  # the report shows every prediction; without it, predictions are scored as they are read
            predictions = list(predictions)
        evaluation = evaluate(corpus, predictions, settings, workers=workers, progress=not args.no_progress)
    if args.out:
        from harness.history import record_run
        from harness.report.write import write_outputs

        from harness.runner import environment

        manifest = {**environment(), "predictions": str(args.predictions),
                    "gold": {"source": corpus.source, "sha256": corpus.sha256, "n_documents": len(corpus.documents)},
                    **({"tag": args.tag} if args.tag else {})}
        write_outputs(args.out, evaluation, corpus, predictions, manifest, history_db=args.db)
        run_id = record_run(args.db, args.out / "results.json", args.tag)
        print(f"recorded as run {run_id} in {args.db}", file=sys.stderr)
    if args.json:
        evaluation.write_json(sys.stdout)
    else:
        print_leaderboard(evaluation.overview())
    return 0


WORKERS_AT_ONCE_FROM = 2 * 2**20  # bytes of predictions (some 4,000 summaries): worth starting workers at once


def _file_size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:  # reading it will say what is wrong, in one line
        return 0


def _score_pairs(args: argparse.Namespace) -> int:
    """`score --pairs`: ROUGE for every line, streamed; per-pair scores in OUT/scores.jsonl as they are made."""
    from harness.io import dump_json, write_json
    from harness.scoring.stream import pairs_results, score_stream

    if args.gold:
        raise UserError("--gold does not apply to --pairs (each line carries its own references)", field="--gold")
    if args.tag:
        raise UserError("--tag does not apply to --pairs (a pairs run is not recorded in the history)", field="--tag")
    settings = settings_from(args)
    if args.out:
        (args.out / "results.json").unlink(missing_ok=True)  # a folder holding results.json is one complete run
    result = score_stream(args.pairs, args.out / "scores.jsonl" if args.out else None, settings.use_stemmer,
                          settings.multi_ref, n_boot=settings.bootstrap, seed=settings.seed,
                          progress=not args.no_progress)
    results = pairs_results(result, args.system or args.pairs.stem, settings)
    if args.out:
        write_json(args.out / "results.json", results)
    if args.json:
        dump_json(results, sys.stdout)
    else:
        print_leaderboard(results)
    return 0


def print_leaderboard(results: dict) -> None:
    from harness.report.run_tables import leaderboard_text

    print(leaderboard_text(results), end="")


def cmd_matcher(args: argparse.Namespace) -> int:
    from harness import gold
    from harness.matcher_eval import evaluate_matcher, print_report

    corpus, _ = gold.load(args.gold)
    report = evaluate_matcher(corpus, Path(corpus.source) / "matching", args.matcher)
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print_report(report)
    return 0


def cmd_history(args: argparse.Namespace) -> int:
    from harness import history

    if args.history_command == "import":
        imported = history.import_results(args.db, args.results, args.tag)
        for item in imported:
            print(f"{'added' if item.new else 'already recorded'}: run {item.run_id} <- {item.path}")
        new = sum(1 for item in imported if item.new)
        print(f"{new} new run(s), {len(imported) - new} already recorded, in {args.db}")
        return 0
    series = history.history(args.db, args.metric, args.system, args.doc, args.last, args.tolerance)
    if args.plot:
        from harness.history_plot import write_plot

        write_plot(series, args.plot, args.tolerance)
    if args.json:
        print(json.dumps(history.series_json(series), indent=2, ensure_ascii=False))
    else:
        print(history.format_history(series, args.tolerance))
    if args.plot:
        print(f"wrote {args.plot}", file=sys.stderr)
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    from harness.config import load_run_config
    from harness.runner import run

    config = load_run_config(args.config)
    out = args.out or Path("results") / config.name
    from harness.parallel import usable_cores

    result = run(config, out, None if args.no_cache else args.cache_dir, fail_fast=args.fail_fast,
                 progress=not args.no_progress, tag=args.tag, history_db=args.db, jobs=usable_cores())
    print_leaderboard(result.evaluation.results)
    manifest = result.manifest
    n_failed = manifest["failures"]["count"]
    cache = manifest["cache"]
    print(f"run: {len(manifest['systems'])} system(s) x {manifest['gold']['n_documents']} documents in "
          f"{manifest['timings_seconds']['total']:.1f} s; "
          + (f"cache: {cache['hits']} hits, {cache['misses']} misses; " if cache else "cache: off; ")
          + (f"{n_failed} failed document(s) (recorded in predictions.jsonl, scored as empty output)"
             if n_failed else "no failures"))
    for system, failed in manifest["failures"]["by_system"].items():
        for doc_id, message in failed.items():
            print(f"  failed: {system} / {doc_id}: {message.splitlines()[0][:200]}")
    print(f"wrote {out / 'results.json'} and {out / 'predictions.jsonl'}")
    _record_history(args, out / "results.json")
    return 0


def _record_history(args: argparse.Namespace, results_path: Path) -> None:
    from harness.history import record_run

    run_id = record_run(args.db, results_path, args.tag)
    print(f"recorded in {args.db} as run {run_id}" + (f" (tag {args.tag})" if args.tag else ""))


def cmd_adapters(args: argparse.Namespace) -> int:
    from dataclasses import asdict

    from harness.adapters.registry import describe
    from harness.report.tables import text_table

    infos = describe()
    if args.json:
        print(json.dumps([asdict(i) for i in infos], indent=2))
        return 0
    rows = [{"adapter": i.name, "tasks": ", ".join(i.tasks) if not i.error else f"(not loadable: {i.error})",
             "package": i.package, "version": i.version, "entry point": i.target} for i in infos]
    print(text_table(rows, ["adapter", "tasks", "package", "version", "entry point"]))
    return 0


def cmd_compare(args: argparse.Namespace) -> int:
    from harness.compare import run_cli

    if args.against_tag or args.against_previous:
        return _compare_against_history(args)
    if args.baseline is None:
        raise UserError("give BASELINE and CANDIDATE, or CANDIDATE with --against-tag TAG or --against-previous")
    return run_cli(args)


def _compare_against_history(args: argparse.Namespace) -> int:
    from harness import compare
    from harness.history import find_baseline

    if args.baseline is not None:
        raise UserError("with --against-tag or --against-previous give only CANDIDATE (the baseline comes from "
                        f"{args.db})")
    compare.options_from(args)  # bad flags fail before any file is read
    candidate = compare.load_results(args.candidate)
    baseline = find_baseline(args.db, candidate, args.against_tag, args.against_previous)
    return compare.report(baseline.results, candidate, args, (f"{baseline.label} in {args.db}", str(args.candidate)))


COMMANDS = {"gold": cmd_gold, "score": cmd_score, "matcher": cmd_matcher, "history": cmd_history,
            "run": cmd_run, "adapters": cmd_adapters, "compare": cmd_compare}


class Stopped(BaseException):
    """Ctrl-C or SIGTERM, raised in the main thread so cleanup runs (adapters closed, model processes ended)."""


STOP_SIGNALS = {"SIGINT": (130, "interrupted"), "SIGTERM": (143, "terminated")}


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    received: list[str] = []  # the signals that arrived; the first decides the exit code

    def stop(signum: int, frame) -> None:
        received.append(signal.Signals(signum).name)
        raise Stopped()

    previous = _install_handlers(stop)
    try:
        try:
            with _quiet_progress(getattr(args, "no_progress", False)):
                return COMMANDS[args.command](args)
        finally:
            _restore_handlers(previous)
    except UserError as err:
        if not received:
            print(f"harness: error: {err}", file=sys.stderr)
            return 2
    except BaseException:
        if not received:  # a bug: the traceback is the report
            raise
    # A signal can surface as another exception (one raised while a module was importing, say); the signal wins.
    code, word = STOP_SIGNALS[received[0]]
    print(f"harness: {word}", file=sys.stderr)
    return code


def _install_handlers(stop) -> dict:
    """Our own handlers, not Python's KeyboardInterrupt: the exit code is then ours to give (130 or 143)."""
    if threading.current_thread() is not threading.main_thread():
        return {}
    return {name: signal.signal(getattr(signal, name), stop) for name in STOP_SIGNALS}


def _restore_handlers(previous: dict) -> None:
    for name, handler in previous.items():
        signal.signal(getattr(signal, name), handler)


if __name__ == "__main__":
    sys.exit(main())
