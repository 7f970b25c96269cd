"""Command line: thin wrappers over the library; the one place errors become exit codes.

Exit codes: 0 success; 1 a regression was found (compare --fail-on-regression); 2 bad input or usage.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from harness.errors import UserError

EXIT_CODES = "exit codes: 0 ok; 1 regression found (compare only); 2 bad input, usage error or failed validation"


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
    p = gold_sub.add_parser("fill-spans", help="resolve quoted evidence and line ranges to offsets (authoring aid)",
                            epilog=EXIT_CODES)
    p.add_argument("annotation", type=Path, nargs="+")

    score = sub.add_parser("score", help="score a predictions JSONL against the gold", epilog=EXIT_CODES)
    score.add_argument("--predictions", type=Path, required=True)
    score.add_argument("--gold", type=Path)
    score.add_argument("--system", help="system name for lines that carry none")
    score.add_argument("--json", action="store_true", help="print the result object as JSON")
    score.add_argument("--out", type=Path, help="write results, tables and report to this folder")
    _scoring_options(score)

    matcher = sub.add_parser("matcher", help="the claim matcher", epilog=EXIT_CODES)
    matcher_sub = matcher.add_subparsers(dest="matcher_command", required=True)
    p = matcher_sub.add_parser("eval", help="precision, recall and kappa on gold/matching/", epilog=EXIT_CODES)
    p.add_argument("--gold", type=Path)
    p.add_argument("--json", action="store_true")
    return parser


def _scoring_options(p: argparse.ArgumentParser) -> None:
    from harness.scoring.scorer import ScoreSettings

    d = ScoreSettings()
    p.add_argument("--threshold", type=float, default=d.threshold, help=f"claim match threshold (default {d.threshold})")
    p.add_argument("--coverage-threshold", type=float, default=d.coverage_threshold)
    p.add_argument("--multi-ref", choices=("max", "mean"), default=d.multi_ref,
                   help="several references: best F per metric (default) or the mean")
    p.add_argument("--no-stemmer", action="store_true", help="turn off Porter stemming in ROUGE")
    p.add_argument("--bootstrap", type=int, default=d.bootstrap, help="bootstrap resamples (0 = no intervals)")
    p.add_argument("--seed", type=int, default=d.seed)


def settings_from(args: argparse.Namespace):
    from harness.scoring.scorer import ScoreSettings

    return ScoreSettings(threshold=args.threshold, coverage_threshold=args.coverage_threshold,
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
    from harness import gold
    from harness.evaluate import evaluate
    from harness.predictions import read_predictions

    corpus, _ = gold.load(args.gold)
    predictions = read_predictions(args.predictions, corpus.by_id(), args.system)
    evaluation = evaluate(corpus, predictions, settings_from(args))
    if args.out:
        from harness.report.write import write_outputs

        write_outputs(args.out, evaluation, corpus, predictions)
    if args.json:
        print(json.dumps(evaluation.results, indent=2, ensure_ascii=False))
    else:
        print_leaderboard(evaluation.results)
    return 0


def print_leaderboard(results: dict) -> None:
    from harness.report.leaderboard import CLAIM_COLUMNS, SUMMARY_COLUMNS, claim_rows, summary_rows
    from harness.report.tables import text_table

    n = results["n_documents"]
    summary, claims = summary_rows(results), claim_rows(results)
    if summary:
        print(text_table(summary, SUMMARY_COLUMNS, title=f"Summaries (ROUGE F, mean over {n} documents)"))
        print()
    if claims:
        print(text_table(claims, CLAIM_COLUMNS, title=f"Claims (micro over {n} documents)"))
        print()
    print(f"n = {n} documents; 95% intervals are seeded bootstrap over documents. "
          "With so few documents, differences smaller than the intervals are not evidence.")
    print(f"signature: {results['signature']}")


def cmd_matcher(args: argparse.Namespace) -> int:
    from harness import gold
    from harness.matcher_eval import evaluate_matcher, print_report

    corpus, _ = gold.load(args.gold)
    report = evaluate_matcher(corpus, Path(corpus.source) / "matching")
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print_report(report)
    return 0


COMMANDS = {"gold": cmd_gold, "score": cmd_score, "matcher": cmd_matcher}


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except UserError as err:
        print(f"harness: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("harness: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
