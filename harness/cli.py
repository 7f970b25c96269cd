"""Command line: thin wrappers over the library; the one place errors become exit codes.

Exit codes: 0 success; 1 a regression was found (compare --fail-on-regression); 2 bad input or usage;
3 a system produced no usable output (run, score); 130 interrupted (Ctrl-C); 143 terminated (SIGTERM).
A closed standard output (`| head -1`) is not an error: the rest of the output is dropped and the command
exits with its own status.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from harness.errors import UserError

if TYPE_CHECKING:
    from harness.records import Prediction

DATASETS_BARS = "HF_DATASETS_DISABLE_PROGRESS_BARS"
EXIT_CODES = ("exit codes: 0 ok; 1 regression found (compare only); 2 bad input, usage error or failed validation; "
              "3 a system produced no usable output, every document failed (run, score); "
              "130 interrupted (Ctrl-C), 143 terminated (SIGTERM): work already done is kept. Output piped into a "
              "reader that stops early (| head) is cut short silently; the status stays the command's own")
NO_USABLE_OUTPUT = 3


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
    p = matcher_sub.add_parser("eval", help="agreement with the labelled pairs and summaries in gold/matching/, "
                               "per category and per summary length", epilog=EXIT_CODES)
    p.add_argument("--gold", type=Path)
    p.add_argument("--coverage", action="store_true", help="only the coverage check, per summary length")
    _progress_option(p)
    p.add_argument("--limit", type=_positive_int, metavar="N",
                   help="only N claim pairs of each file, spread evenly over the categories (a cheap judge check)")
    p.add_argument("--json", action="store_true")
    _scoring_options(p)

    run = sub.add_parser("run", help="run systems (adapters) over the corpus, score them, print the table",
                         epilog=EXIT_CODES)
    run.add_argument("--config", type=Path, required=True,
                     help="run config: a YAML file, or the name of a bundled one (default, local-llm)")
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
    p = adapters_sub.add_parser("show", help="one adapter: what it does, and every option (type, default, help)",
                                epilog=EXIT_CODES)
    p.add_argument("name", help="adapter name, as in `harness adapters list`")
    p.add_argument("--json", action="store_true")

    compare = sub.add_parser(
        "compare", help="compare two runs (deltas, paired tests, regression gate) or two systems of one run",
        description=_compare_help(), formatter_class=argparse.RawDescriptionHelpFormatter)
    _compare_arguments(compare)
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


def _compare_help() -> str:
    """`harness compare --help`: the modes, the gate, every gated metric (from the metric registry) and exit codes."""
    import textwrap

    from harness.results.metrics import METRICS
    from harness.results.regression import DEFAULT_TOLERANCE, EXACT_TEST_MAX_DOCUMENTS

    gated = textwrap.fill(" ".join(m.name for m in METRICS), width=100, initial_indent="  ", subsequent_indent="  ")
    claim_level = ", ".join(m.name for m in METRICS if m.claim_level)
    lower_is_better = " and ".join(m.name for m in METRICS if not m.higher_is_better)
    return f"""\
Compare BASELINE and CANDIDATE (results.json files, or the run folders holding them): for each system and
metric both values, the delta and a paired test over documents (exact sign-flip permutation up to
{EXACT_TEST_MAX_DOCUMENTS} documents, else a seeded paired bootstrap), plus an exact McNemar test on the gold claims matched by one
run but not the other, and the list of gold claims that flipped.

With --systems A B RUN: two systems of one run, paired the same way (is A better than B on this gold?).
It reports; it does not gate.

Runs scored on different gold or with a different scoring signature are refused unless
--allow-different-gold / --allow-different-signature is given (the output is then marked).

Gating (--fail-on-regression): a metric regresses when it moves the wrong way (down; up for
{lower_is_better}) by more than its tolerance. Tolerances are absolute;
the default is {DEFAULT_TOLERANCE} for every metric. Set them with --tolerance METRIC=VALUE (repeatable;
METRIC may be `default`; VALUE `off` stops gating that metric) and/or --tolerances FILE, a YAML mapping
of the same (flags win). A system or task present in the baseline but missing from the candidate also
regresses. With --require-significance a drop counts only if a paired test agrees (p < --alpha): the
document-level test, or for the claim-matching metrics (below) the claim-level McNemar test. With few
documents the document-level test cannot reach significance; the output says so.
claim-matching metrics: {claim_level}
A metric that is not measured (n/a) in both runs is not gated.

metrics gated (every one, unless its tolerance is off):
{gated}

exit codes:
  0  no regression (or --fail-on-regression not given); also --systems
  1  regression found (with --fail-on-regression)
  2  usage or input error (missing or malformed file, different gold or signature, unknown metric or system)
  130  interrupted (Ctrl-C); 143  terminated (SIGTERM)
  output piped into a reader that stops early (| head) is cut short silently; the status stays the above
"""


def _compare_arguments(p: argparse.ArgumentParser) -> None:
    from harness.compare import DEFAULT_ALPHA
    from harness.results.regression import DEFAULT_TOLERANCE

    p.add_argument("baseline", type=Path, help="baseline results.json (or its run folder)")
    p.add_argument("candidate", type=Path, help="candidate results.json (or its run folder)")
    p.add_argument("--format", choices=("table", "md", "json"), default="table", help="what to print (default table)")
    p.add_argument("--json", action="store_true", help="print JSON (same as --format json)")
    p.add_argument("--markdown", type=Path, metavar="FILE", help="also write the Markdown to FILE")
    p.add_argument("--junit", type=Path, metavar="FILE", help="also write JUnit XML: one test case per gated metric")
    p.add_argument("--fail-on-regression", action="store_true", help="exit 1 when a metric regresses")
    p.add_argument("--tolerance", action="append", default=[], metavar="METRIC=VALUE",
                   help=f"allowed drop for a metric (default {DEFAULT_TOLERANCE}; METRIC may be 'default'; "
                        "VALUE 'off' = not gated)")
    p.add_argument("--tolerances", type=Path, metavar="FILE", help="YAML mapping of METRIC: VALUE (flags win)")
    p.add_argument("--require-significance", action="store_true",
                   help="count a drop as a regression only if a paired test agrees (p < alpha)")
    p.add_argument("--alpha", type=float, default=DEFAULT_ALPHA, help=f"significance level (default {DEFAULT_ALPHA})")
    p.add_argument("--system", action="append", default=[], help="compare only this system (repeatable)")
    p.add_argument("--systems", nargs=2, metavar=("A", "B"),
                   help="instead: two systems of one run (give only RUN): harness compare --systems A B RUN")
    p.add_argument("--allow-different-gold", action="store_true", help="compare runs scored on different gold")
    p.add_argument("--allow-different-signature", action="store_true",
                   help="compare runs scored with different settings (threshold, ROUGE options, version)")


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
    from harness.history import DEFAULT_DB, DEFAULT_METRIC
    from harness.results.regression import DEFAULT_TOLERANCE

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
    p.add_argument("--tag", help="only the runs with this tag")
    p.add_argument("--plot", type=Path, help="also write the trend chart, one panel per system (.png or .svg)")
    p.add_argument("--json", action="store_true", help="print the series as JSON")
    history_sub = p.add_subparsers(dest="history_command", metavar="{import,list,delete}")
    listing = history_sub.add_parser("list", help="every recorded run: id, time, tag, commit, config, systems",
                                     epilog=EXIT_CODES)
    listing.add_argument("--db", type=Path, default=argparse.SUPPRESS, help=f"history database (default {DEFAULT_DB})")
    listing.add_argument("--tag", help="only the runs with this tag")
    listing.add_argument("--json", action="store_true", help="print the runs as JSON")
    delete = history_sub.add_parser("delete", help="delete recorded runs by id (see `history list`)",
                                    epilog=EXIT_CODES)
    delete.add_argument("runs", nargs="+", type=int, metavar="RUN", help="run ids")
    delete.add_argument("--db", type=Path, default=argparse.SUPPRESS, help=f"history database (default {DEFAULT_DB})")
    imp = history_sub.add_parser("import", help="add results.json files to the database (re-importing adds nothing)",
                                 epilog=EXIT_CODES)
    imp.add_argument("results", nargs="+", help="results.json files, folders holding them, or globs such as "
                                                "'results/**/results.json'")
    imp.add_argument("--db", type=Path, default=argparse.SUPPRESS, help=f"history database (default {DEFAULT_DB})")
    imp.add_argument("--tag", help="label every imported run with this tag")
    _progress_option(imp)


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 1, got {text!r}")
    return value


def _judge_options(p: argparse.ArgumentParser) -> None:
    from harness.scoring.settings import DEFAULT_JUDGE_CACHE_DIR

    p.add_argument("--judge-url", metavar="URL",
                   help="--matcher judge: OpenAI-compatible endpoint root, e.g. http://127.0.0.1:8080/v1")
    p.add_argument("--judge-model", metavar="NAME", help="--matcher judge: the model name the endpoint expects")
    p.add_argument("--judge-api-key-env", metavar="VAR",
                   help="--matcher judge: environment variable holding the API key (the key is never written)")
    p.add_argument("--cache-dir", type=Path, default=Path(DEFAULT_JUDGE_CACHE_DIR),
                   help=f"--matcher judge: where its answers are cached (default {DEFAULT_JUDGE_CACHE_DIR})")


def _scoring_options(p: argparse.ArgumentParser) -> None:
    from harness.scoring.settings import MATCHERS, ScoreSettings

    d = ScoreSettings()
    p.add_argument("--matcher", choices=MATCHERS, default=d.matcher,
                   help="claim similarity: lexical (default), embedding or hybrid (need harness[embed]), or judge "
                        "(a chat model asked about each plausible pair)")
    p.add_argument("--threshold", type=float, default=None,
                   help=f"claim match threshold (default: calibrated per matcher, lexical {d.threshold})")
    p.add_argument("--coverage-threshold", type=float, default=d.coverage_threshold)
    p.add_argument("--multi-ref", choices=("max", "mean"), default=d.multi_ref,
                   help="several references: best F per metric (default) or the mean")
    p.add_argument("--no-stemmer", action="store_true", help="turn off Porter stemming in ROUGE")
    p.add_argument("--bootstrap", type=int, default=d.bootstrap, help="bootstrap resamples (0 = no intervals)")
    p.add_argument("--seed", type=int, default=d.seed)
    _judge_options(p)


def settings_from(args: argparse.Namespace):
    from harness.scoring.settings import ScoreSettings

    return ScoreSettings(threshold=args.threshold, matcher=args.matcher, coverage_threshold=args.coverage_threshold,
                         use_stemmer=not args.no_stemmer, multi_ref=args.multi_ref,
                         bootstrap=args.bootstrap, seed=args.seed, **judge_settings(args))


def judge_settings(args: argparse.Namespace) -> dict:
    return {"judge_url": args.judge_url, "judge_model": args.judge_model, "judge_api_key_env": args.judge_api_key_env,
            "judge_cache_dir": str(args.cache_dir)}


def report_judge(scorer) -> None:
    """What the judge did (requests, cache, unparseable answers) on stderr, then its connection closed."""
    stats = getattr(scorer.model_similarity, "stats", None)
    if stats is None:
        return
    s = stats()
    latency = f", {s['seconds_per_request']:.2f} s per request" if s["seconds_per_request"] is not None else ""
    print(f"judge {s['model']}: {s['pairs']} pairs judged, {s['requests']} requests sent{latency}, "
          f"{s['from_cache']} answers from the cache, {s['unparseable']} unparseable (scored as no)", file=sys.stderr)
    scorer.model_similarity.close()


# --------------------------------------------------------------------------- commands

def cmd_gold(args: argparse.Namespace) -> int:
    """`harness gold`: validate, describe, export or fill in spans; a failed validation lists every problem
    on stderr and exits 2, so an annotator sees all of them at once."""
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
    """`harness score`: predictions against the gold (or `--pairs`). Without `--out` predictions are scored as
    read; with it they are held, since the report shows every one, and the folder is claimed first."""
    if args.jobs is not None and args.jobs < 1:
        raise UserError(f"must be a whole number >= 1, got {args.jobs}", field="--jobs")
    if args.pairs:
        return _score_pairs(args)
    from harness import gold
    from harness.gold_stream import load_for_scoring
    from harness.predictions import iter_predictions

    corpus = gold.load_valid(args.gold) if args.out else load_for_scoring(args.gold)  # streamed: held compactly
    predictions = iter_predictions(args.predictions, corpus, args.system)
    if not args.out:  # scored as they are read
        return _score(args, corpus, predictions)
    from harness.history import check_database_path
    from harness.outdir import claimed

    predictions = list(predictions)  # the report shows every one; and a bad line stops before the folder is made
    check_database_path(args.db)
    with claimed(args.out):
        return _score(args, corpus, predictions)


def _score(args: argparse.Namespace, corpus, predictions: Iterable[Prediction]) -> int:
    from functools import partial

    from harness.evaluate import evaluate  # heavy (scipy, scikit-learn): only once the input is known good
    from harness.parallel import Workers, usable_cores
    from harness.scoring.jobs import worker_scorer

    settings = settings_from(args)
    with Workers((args.jobs or usable_cores()) - 1, partial(worker_scorer, settings)) as workers:
        if _file_size(args.predictions) >= WORKERS_AT_ONCE_FROM:
            workers.start()  # they start up while the first predictions are read
        evaluation = evaluate(corpus, predictions, settings, workers=workers, progress=not args.no_progress)
    report_judge(evaluation.scorer)
    from harness.provenance import build_manifest

    # one manifest for results.json and for --json: both print the same result object
    manifest = build_manifest(corpus, settings, predictions=args.predictions, tag=args.tag)
    if args.out:
        from harness.history import record_run, report_trend
        from harness.report.write import write_outputs

        results = evaluation.final_results(manifest)
        write_outputs(args.out, results, evaluation, corpus, predictions, trend=report_trend(args.db, results))
        run_id = record_run(args.db, args.out / "results.json", args.tag)
        print(f"recorded as run {run_id} in {args.db}", file=sys.stderr)
    if args.json:
        evaluation.write_json(sys.stdout, manifest)
    else:
        print_leaderboard(evaluation.overview())
        if args.out:
            print_written(args.out)
    return _usable_or_exit_3(evaluation.systems_without_output(), file=sys.stderr if args.json else sys.stdout)


def _usable_or_exit_3(unusable: list[str], file=None) -> int:
    """Exit 3 when a system has no usable output at all: scores of nothing must not pass a CI gate."""
    if not unusable:
        return 0
    print(f"no usable output: {', '.join(unusable)} failed on every document, so "
          f"{'its' if len(unusable) == 1 else 'their'} scores measure nothing (exit {NO_USABLE_OUTPUT})",
          file=file or sys.stdout)
    return NO_USABLE_OUTPUT


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
    from harness.matcher_eval import evaluate_matcher, format_report

    settings = settings_from(args)
    corpus, _ = gold.load(args.gold)
    report = evaluate_matcher(corpus, Path(corpus.source) / "matching", settings=settings,
                              coverage_only=args.coverage, limit=args.limit)
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print(format_report(report), end="")
    return 0


def cmd_history(args: argparse.Namespace) -> int:
    """`harness history`: a metric's series across recorded runs (or import, list, delete); a metric with no
    point for a system is said on stderr, since an empty series would otherwise look like a flat one."""
    from harness import history

    if args.history_command == "import":
        imported = history.import_results(args.db, args.results, args.tag)
        for item in imported:
            print(f"{'added' if item.new else 'already recorded'}: run {item.run_id} <- {item.path}")
        new = sum(1 for item in imported if item.new)
        print(f"{new} new run(s), {len(imported) - new} already recorded, in {args.db}")
        return 0
    if args.history_command == "list":
        return _history_list(args)
    if args.history_command == "delete":
        for run in history.delete_runs(args.db, args.runs):
            print(f"deleted run {run['run']} ({run['time'][:19].replace('T', ' ')}"
                  + (f", tag {run['tag']}" if run["tag"] else "") + f") from {args.db}")
        return 0
    series = history.history(args.db, args.metric, args.system, args.doc, args.last, args.tolerance, args.tag)
    absent = history.without_points(args.db, args.metric, series, args.system, args.doc)
    if absent:
        print(f"note: {args.metric} has no points for {', '.join(absent)} (not measured in the recorded runs: no such "
              "task, or no gold to measure it on)", file=sys.stderr)
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


def _history_list(args: argparse.Namespace) -> int:
    from harness import history
    from harness.report.tables import text_table

    runs = history.list_runs(args.db, args.tag)
    if args.json:
        print(json.dumps(runs, indent=2, ensure_ascii=False))
        return 0
    rows = [{**r, "time": r["time"][:19].replace("T", " "), "tag": r["tag"] or "", "commit": (r["commit"] or "")[:10],
             "gold": r["gold"][:12], "systems": ", ".join(r["systems"])} for r in runs]
    print(text_table(rows, ["run", "time", "tag", "commit", "config", "gold", "signature_id", "systems"]))
    print(f"{len(rows)} run(s) in {args.db}; `harness history delete RUN` removes one")
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    """`harness run`: run the config's systems, print the leaderboard and a one-line summary, record the run,
    and exit 3 when a system produced nothing usable (CI must not pass on scores of nothing)."""
    from harness.config import load_run_config
    from harness.history import check_database_path
    from harness.io import safe_name
    from harness.resources import config_path
    from harness.runner import run

    config = load_run_config(config_path(args.config))
    out = args.out or Path("results") / safe_name(config.name)  # a config named "...yaml" has the stem ".."
    check_database_path(args.db)
    cache_dir = None if args.no_cache else args.cache_dir
    # A judge matcher keeps its answers next to the run's model outputs (or nowhere, with --no-cache).
    config = replace(config, scoring={**config.scoring, "judge_cache_dir": str(cache_dir) if cache_dir else None})
    from harness.parallel import usable_cores

    result = run(config, out, cache_dir, fail_fast=args.fail_fast, progress=not args.no_progress, tag=args.tag,
                 history_db=args.db, jobs=usable_cores())
    report_judge(result.evaluation.scorer)
    print_leaderboard(result.evaluation.results)
    manifest = result.manifest
    n_failed = manifest["failures"]["count"]
    cache = manifest["cache"]
    warned = [name for name, system in result.evaluation.results["systems"].items() if system.get("warnings")]
    print(f"run: {len(manifest['systems'])} system(s) x {manifest['gold']['n_documents']} documents in "
          f"{manifest['timings_seconds']['total']:.1f} s; "
          + (f"cache: {cache['hits']} hits, {cache['misses']} misses; " if cache else "cache: off; ")
          + (f"{n_failed} failed document(s) (recorded in predictions.jsonl, scored as empty output)"
             if n_failed else "no failures")
          + (f"; degenerate output from {', '.join(warned)} (see the warnings above)" if warned else ""))
    for system, failed in manifest["failures"]["by_system"].items():
        for doc_id, message in failed.items():
            print(f"  failed: {system} / {doc_id}: {message.splitlines()[0][:200]}")
    _record_history(args, out / "results.json")
    print_written(out)
    return _usable_or_exit_3(manifest["failures"]["no_usable_output"])


def print_written(out: Path) -> None:
    """The last lines of a run: where its files are, the report first."""
    print(f"wrote {out / 'results.json'}, {out / 'predictions.jsonl'} and the tables")
    print(f"table:  {out / 'leaderboard.md'} (Markdown, for a pull request or $GITHUB_STEP_SUMMARY)")
    print(f"report: {out / 'report.html'} (open it in a browser)")


def _record_history(args: argparse.Namespace, results_path: Path) -> None:
    from harness.history import record_run

    run_id = record_run(args.db, results_path, args.tag)
    print(f"recorded in {args.db} as run {run_id}" + (f" (tag {args.tag})" if args.tag else ""))


def cmd_adapters(args: argparse.Namespace) -> int:
    """`harness adapters list|show`: what the entry points offer, a broken plugin listed with its error
    rather than hiding the others."""
    from dataclasses import asdict

    from harness.adapters.registry import describe
    from harness.report.tables import text_table

    if args.adapters_command == "show":
        return show_adapter(args.name, args.json)
    infos = describe()
    if args.json:
        print(json.dumps([asdict(i) for i in infos], indent=2))
        return 0
    rows = [{"adapter": i.name, "tasks": ", ".join(i.tasks) if not i.error else f"(not loadable: {i.error})",
             "package": i.package, "version": i.version, "entry point": i.target} for i in infos]
    print(text_table(rows, ["adapter", "tasks", "package", "version", "entry point"]))
    return 0


def show_adapter(name: str, as_json: bool) -> int:
    """One adapter as a user configures it: what it is given (source or gold), whether its outputs are
    cached, and every option with type, default and help."""
    from harness.adapters.registry import details
    from harness.report.tables import text_table

    info = details(name)
    if as_json:
        print(json.dumps(info, indent=2, ensure_ascii=False))
        return 0
    given = "the whole Document, gold included: reported as a ceiling" if info["reads_gold"] else \
        "the document's Source (harness.records.Source), never the gold"
    print(f"adapter {info['name']}: {info['class']} ({info['package']} {info['package_version']})")
    print(f"tasks: {', '.join(info['tasks'])}; given: {given}")
    print(f"deterministic: {'yes' if info['deterministic'] else 'no'}; "
          f"outputs cached: {'yes' if info['cacheable'] else 'no'}")
    if info["doc"]:
        print(f"\n{info['doc']}")
    print("\noptions (in a run config: options: {NAME: VALUE, ...}):")
    print(text_table(info["options"], ["option", "type", "default", "help"]) if info["options"] else "  none")
    return 0


EXIT_REGRESSION = 1  # compare --fail-on-regression found a regression


def cmd_compare(args: argparse.Namespace) -> int:
    """Two runs compared, printed and written; the verdict becomes the exit code here and nowhere else."""
    from harness.results.reader import load_results

    if args.systems:
        if args.baseline is not None or args.against_tag or args.against_previous:
            raise UserError("with --systems A B give only RUN (one results.json or its run folder)")
        return _compare_systems(args)
    against_history = args.against_tag or args.against_previous
    if against_history and args.baseline is not None:
        raise UserError("with --against-tag or --against-previous give only CANDIDATE (the baseline comes from "
                        f"{args.db})")
    if not against_history and args.baseline is None:
        raise UserError("give BASELINE and CANDIDATE, or CANDIDATE with --against-tag TAG or --against-previous")
    options = _compare_options(args)  # bad flags fail before any file is read
    if against_history:
        from harness.history import find_baseline

        candidate = load_results(args.candidate)
        found = find_baseline(args.db, candidate, args.against_tag, args.against_previous)
        baseline, labels = found.results, (f"{found.label} in {args.db}", str(args.candidate))
    else:
        baseline, candidate = load_results(args.baseline), load_results(args.candidate)
        labels = (str(args.baseline), str(args.candidate))
    verdict = _compare_and_print(baseline, candidate, options, args, labels)
    return EXIT_REGRESSION if args.fail_on_regression and verdict.regressed else 0


def _compare_options(args: argparse.Namespace):
    from harness.compare import CompareOptions, tolerances_from

    _check_alpha(args.alpha)
    tolerances, default = tolerances_from(args.tolerance, args.tolerances)
    return CompareOptions(tolerances=tolerances, default_tolerance=default, alpha=args.alpha,
                          require_significance=args.require_significance,
                          allow_different_gold=args.allow_different_gold,
                          allow_different_signature=args.allow_different_signature, systems=tuple(args.system))


def _check_alpha(alpha: float) -> None:
    if not 0 < alpha < 1:
        raise UserError(f"alpha must be between 0 and 1, got {alpha}", None, None, "--alpha")


def _compare_and_print(baseline: dict, candidate: dict, options, args: argparse.Namespace, labels: tuple[str, str]):
    """Compare two loaded runs, write and print what args ask for; returns the comparison's verdict."""
    from harness import compare
    from harness.io import atomic_write
    from harness.junit import junit_xml

    comparison = compare.compare_results(baseline, candidate, options, labels)
    fmt = "json" if args.json else args.format
    render = {"table": compare.to_text, "md": compare.to_markdown, "json": compare.to_json}[fmt]
    if args.markdown:  # files first: one that cannot be written is the one line of output, not a table and then it
        atomic_write(args.markdown, compare.to_markdown(comparison))
    if args.junit:
        atomic_write(args.junit, junit_xml(comparison))
    print(render(comparison), end="")
    return compare.verdict(comparison)


GATING_FLAGS = (("fail_on_regression", "--fail-on-regression"), ("junit", "--junit"), ("tolerance", "--tolerance"),
                ("tolerances", "--tolerances"), ("require_significance", "--require-significance"),
                ("system", "--system"), ("allow_different_gold", "--allow-different-gold"),
                ("allow_different_signature", "--allow-different-signature"))


def _compare_systems(args: argparse.Namespace) -> int:
    """`harness compare --systems A B RUN`: print the paired comparison of two systems of one run; it never gates."""
    from harness import pairwise
    from harness.compare import CompareOptions
    from harness.io import atomic_write
    from harness.results.reader import load_results

    given = [flag for dest, flag in GATING_FLAGS if getattr(args, dest, None)]
    if given:
        raise UserError(f"{given[0]} compares two runs; --systems A B RUN compares two systems of one run and "
                        "does not gate")
    _check_alpha(args.alpha)
    results = load_results(args.candidate)
    a, b = args.systems
    comparison = pairwise.compare_two_systems(results, a, b, CompareOptions(alpha=args.alpha), str(args.candidate))
    fmt = "json" if args.json else args.format
    print({"table": pairwise.to_text, "md": pairwise.to_markdown, "json": pairwise.to_json}[fmt](comparison), end="")
    if args.markdown:
        atomic_write(args.markdown, pairwise.to_markdown(comparison))
    return 0


COMMANDS = {"gold": cmd_gold, "score": cmd_score, "matcher": cmd_matcher, "history": cmd_history,
            "run": cmd_run, "adapters": cmd_adapters, "compare": cmd_compare}


class Stopped(BaseException):
    """Ctrl-C or SIGTERM, raised in the main thread so cleanup runs (adapters closed, model processes ended)."""


STOP_SIGNALS = {"SIGINT": (130, "interrupted"), "SIGTERM": (143, "terminated")}


def main(argv: list[str] | None = None) -> int:
    from harness.stdout import closed_stdout_is_not_an_error

    with closed_stdout_is_not_an_error():
        return _main(argv)


def _main(argv: list[str] | None) -> int:
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
