"""Whole-process performance of `harness score`, against the plain rouge-score loop in the same run.

    .venv/bin/python benchmarks/run.py [--json FILE] [--markdown FILE] [--only scale|claims|e2e] [--largest N]

Every figure is a real `harness` command in a fresh process (start-up, reading, scoring, intervals,
output and exit included), as a user runs it. Prints the figures with their ratios and targets, and exits
1 if any ROUGE number differs from rouge-score's or a target is missed (0 otherwise). Workloads are seeded
and built from the bundled gold corpus (workloads.py).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import workloads  # noqa: E402  (the benchmarks folder is not a package)

ROOT = Path(__file__).resolve().parent.parent
SIZES = (10_000, 100_000, 1_000_000)
LOOP_SAMPLE = 10_000  # pairs the rouge-score loop scores (all of the smallest run; a sample of the larger ones)
CHECKPOINTS = 2_000  # systems x the 5 bundled documents = 10,000 summaries scored with claim coverage
CHECKPOINT_SAMPLE = 1_000
TARGET_RATIO = 20.0
TARGET_RATIO_WITH_CLAIMS = 10.0
TARGET_100K_SECONDS = 30.0
TARGET_100K_MB = 400.0
TARGET_COST_RATIO = 11.0
TARGET_FLAT = 1.2
TARGET_CLAIM_SECONDS = 60.0
SECTIONS = ("scale", "claims", "e2e")


@dataclass
class Report:
    figures: dict = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)

    def check(self, ok: bool, message: str) -> None:
        print(f"  [{'ok' if ok else 'MISSED'}] {message}")
        if not ok:
            self.failures.append(message)


def harness_command() -> list[str]:
    script = Path(sys.executable).with_name("harness")
    return [str(script)] if script.exists() else [sys.executable, "-m", "harness.cli"]


def measured(args: list[str], tmp: Path, name: str) -> tuple[dict, Path]:
    """Run `harness ARGS` through measure.py; the figures, and the file holding its stdout."""
    figures, stdout = tmp / f"{name}.figures.json", tmp / f"{name}.stdout"
    load = os.getloadavg()[0]
    subprocess.run([sys.executable, str(Path(__file__).with_name("measure.py")), str(figures), str(stdout), "--",
                    *harness_command(), *args], check=True, cwd=ROOT)
    result = json.loads(figures.read_text())
    result["load_before"] = load
    if result["exit"] != 0:
        raise RuntimeError(f"harness {' '.join(args)} exited {result['exit']}: {result['stderr_tail']}")
    print(f"  {name:<34} {result['seconds']:7.1f} s   peak RSS {result['peak_rss_mb']:6.0f} MB "
          f"(with workers {result['tree_peak_rss_mb']:4.0f} MB)   load {load:.1f}")
    return result, stdout


def _triple(score) -> tuple[float, float, float]:
    return (float(score.precision), float(score.recall), float(score.fmeasure))


class RougeLoop:
    """The plain rouge-score loop a user runs today: the reference timing and the expected numbers."""

    def __init__(self):
        from rouge_score import rouge_scorer

        from harness.scoring.rouge import ROUGE_TYPES

        self.types = ROUGE_TYPES
        self.scorer = rouge_scorer.RougeScorer(list(ROUGE_TYPES), use_stemmer=True)
        self.seconds, self.pairs, self.expected = 0.0, 0, []

    def run(self, pairs) -> None:
        t0 = time.perf_counter()
        out = [self.scorer.score(p.reference, p.prediction) for p in pairs]
        self.seconds += time.perf_counter() - t0
        self.pairs += len(pairs)
        self.expected += [tuple(_triple(s[t]) for t in self.types) for s in out]

    def per_pair(self) -> float:
        return self.seconds / self.pairs


def _rows_from_results(path: Path, system: str, n: int, types) -> list[tuple]:
    per_doc = json.loads(path.read_text())["systems"][system]["per_doc"]
    return [tuple(tuple(per_doc[f"d{i:07d}"]["summary"][t].values()) for t in types) for i in range(n)]


def _rows_from_scores(path: Path, n: int, types) -> list[tuple]:
    rows = []
    with path.open(encoding="utf-8") as lines:
        for _, line in zip(range(n), lines):
            row = json.loads(line)
            rows.append(tuple(tuple(row[t].values()) for t in types))
    return rows


def _differing(got: list[tuple], expected: list[tuple], name: str, report: Report) -> int:
    bad = [i for i, (g, e) in enumerate(zip(got, expected, strict=True)) if g != e]
    if bad:
        report.failures.append(f"{name}: {len(bad)} pair(s) differ from rouge-score, first #{bad[0]}: "
                               f"{got[bad[0]]} != {expected[bad[0]]}")
    return len(bad)


# --------------------------------------------------------------------------- 1. summaries at scale

def scale(corpus, articles, report: Report, tmp: Path, largest: int) -> None:
    sizes = [n for n in SIZES if n <= largest]
    print(f"\n1. Summaries, whole process: {', '.join(f'{n:,}' for n in sizes)} pairs "
          f"(~55 words, 3 sentences one per line, one reference each), default settings")
    loop = RougeLoop()
    sample = list(islice(workloads.summary_pairs(articles), LOOP_SAMPLE))
    paths = {n: workloads.write_summary_workload(tmp, articles, n, with_gold=n <= 100_000) for n in sizes}
    runs: dict[str, dict] = {}
    compared = differing = 0
    loop.run(sample[:LOOP_SAMPLE // 2])  # the loop is timed in two halves, around the harness runs of that size
    for n in sizes:
        p = paths[n]
        if "gold" in p:
            gold_args = ["score", "--gold", str(p["gold"]), "--predictions", str(p["predictions"]), "--json",
                         "--no-progress"]
            runs[f"gold-{n}"], out = measured(gold_args, tmp, f"gold+predictions {n:,}")
            rows = _rows_from_results(out, "model", min(n, LOOP_SAMPLE), loop.types)
            out.unlink()
            if n == sizes[0]:  # one process: what the default gains from the second core, here and now
                runs[f"gold1-{n}"], _ = measured([*gold_args, "--jobs", "1"], tmp, "  the same, --jobs 1")
        runs[f"pairs-{n}"], _ = measured(["score", "--pairs", str(p["pairs"]), "--out", str(tmp / f"pairs-{n}"),
                                          "--json", "--no-progress"], tmp, f"--pairs {n:,}")
        pair_rows = _rows_from_scores(tmp / f"pairs-{n}" / "scores.jsonl", min(n, LOOP_SAMPLE), loop.types)
        if n == sizes[0]:
            loop.run(sample[LOOP_SAMPLE // 2:])
        if "gold" in p:
            differing += _differing(rows, loop.expected[:len(rows)], f"gold+predictions {n:,}", report)
            compared += len(rows)
        differing += _differing(pair_rows, loop.expected[:len(pair_rows)], f"--pairs {n:,}", report)
        compared += len(pair_rows)
        for f in p.values():
            f.unlink()
        (tmp / f"pairs-{n}" / "scores.jsonl").unlink()
    checkpoints = checkpoint_run(corpus, articles, tmp)
    per_pair = loop.per_pair()
    print(f"  rouge-score loop: {1 / per_pair:,.0f} pairs/s on {loop.pairs:,} pairs; ROUGE numbers compared "
          f"with rouge-score: {compared * 12:,} ({compared:,} pairs x 4 metrics x P/R/F); differing: {differing}")
    for key, run in runs.items():
        n = int(key.rsplit("-", 1)[1])
        run.update(pairs=n, loop_seconds=per_pair * n, ratio=per_pair * n / run["seconds"])
    report.figures["scale"] = {"runs": runs, "loop_pairs_per_s": 1 / per_pair, "loop_pairs": loop.pairs,
                               "compared_pairs": compared, "differing": differing, "checkpoints": checkpoints}
    _check_scale(report, runs, sizes, differing, checkpoints)


def checkpoint_run(corpus, articles, tmp: Path) -> dict:
    """2,000 checkpoints x the 5 bundled documents: ROUGE against 3 references, claim coverage and numbers."""
    from rouge_score import rouge_scorer

    from harness.scoring.rouge import ROUGE_TYPES
    from harness.text import one_sentence_per_line

    path = tmp / "checkpoints.jsonl"
    workloads.write_checkpoint_workload(path, corpus, articles, CHECKPOINTS)
    run, out = measured(["score", "--predictions", str(path), "--json", "--no-progress"], tmp,
                        f"{CHECKPOINTS:,} systems x 5 docs + claims")
    systems = json.loads(out.read_text())["systems"]
    out.unlink()
    lines = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()[:CHECKPOINT_SAMPLE]]
    references = {d.doc_id: [one_sentence_per_line(s.text) for s in d.summaries] for d in corpus.documents}
    scorer = rouge_scorer.RougeScorer(list(ROUGE_TYPES), use_stemmer=True)
    t0 = time.perf_counter()
    expected = [scorer.score_multi(references[x["doc_id"]], x["summary"]) for x in lines]
    per_pair = (time.perf_counter() - t0) / len(lines)
    got = [systems[x["system"]]["per_doc"][x["doc_id"]]["summary"] for x in lines]
    differing = sum(1 for g, e in zip(got, expected) if any(tuple(g[t].values()) != _triple(e[t]) for t in ROUGE_TYPES))
    coverage = sum(1 for s in systems.values() if s["summary"]["claim_coverage"])
    n = CHECKPOINTS * len(corpus.documents)
    run.update(pairs=n, loop_seconds=per_pair * n, ratio=per_pair * n / run["seconds"], differing=differing,
               compared=len(lines), systems_with_coverage=coverage)
    return run


def _check_scale(report: Report, runs: dict, sizes: list[int], differing: int, checkpoints: dict) -> None:
    report.check(differing == 0 and checkpoints["differing"] == 0,
                 "every ROUGE number compared equals rouge-score's (bit-identical floats)")
    small = sizes[0]
    for mode in ("gold", "pairs"):
        run = runs[f"{mode}-{small}"]
        report.check(run["ratio"] >= TARGET_RATIO, f"{mode} {small:,}: {run['ratio']:.1f}x the rouge-score loop "
                                                   f"(target >= {TARGET_RATIO:.0f}x)")
    report.check(checkpoints["ratio"] >= TARGET_RATIO_WITH_CLAIMS and checkpoints["systems_with_coverage"] > 0,
                 f"{checkpoints['pairs']:,} summaries with claim coverage: {checkpoints['ratio']:.1f}x the rouge-score "
                 f"loop (target >= {TARGET_RATIO_WITH_CLAIMS:.0f}x)")
    if 100_000 in sizes:
        for mode in ("gold", "pairs"):
            big, base = runs[f"{mode}-100000"], runs[f"{mode}-{small}"]
            cost = big["seconds"] / base["seconds"]
            report.check(big["seconds"] <= TARGET_100K_SECONDS and big["tree_peak_rss_mb"] <= TARGET_100K_MB
                         and cost <= TARGET_COST_RATIO,
                         f"{mode} 100,000: {big['seconds']:.1f} s (target <= {TARGET_100K_SECONDS:.0f}), peak RSS with "
                         f"workers {big['tree_peak_rss_mb']:.0f} MB (<= {TARGET_100K_MB:.0f}), time(100k)/time(10k) "
                         f"{cost:.1f} (<= {TARGET_COST_RATIO:.0f})")
    if 1_000_000 in sizes:
        flat = runs["pairs-1000000"]["peak_rss_mb"] / runs["pairs-100000"]["peak_rss_mb"]
        report.check(flat <= TARGET_FLAT, f"--pairs 1,000,000: peak RSS {flat:.2f}x that of 100,000 "
                                          f"(target <= {TARGET_FLAT})")


# --------------------------------------------------------------------------- 2. claim scoring

def claims(corpus, articles, report: Report, tmp: Path, n_docs: int = 2_000, n_gold: int = 50, n_pred: int = 50) -> None:
    print(f"\n2. Claim scoring, whole process: {n_docs:,} documents x {n_gold} gold x {n_pred} predicted claims")
    paths = workloads.write_claim_workload(tmp, corpus, articles, n_docs, n_gold, n_pred)
    run, out = measured(["score", "--gold", str(paths["gold"]), "--predictions", str(paths["predictions"]), "--json",
                         "--no-progress"], tmp, "claims 2,000 x 50 x 50")
    result = json.loads(out.read_text())["systems"]["extractor"]["claims"]
    out.unlink()
    totals = {k: result[k] for k in ("tp", "fp", "fn", "excluded_content")} | {"duplicates": round(
        result["duplicate_rate"] * result["predictions"])}
    print(f"  outcome totals (a fingerprint of the matcher's behaviour): {totals}")
    report.figures["claims"] = {**run, "documents": n_docs, "totals": totals}
    report.check(run["seconds"] <= TARGET_CLAIM_SECONDS,
                 f"claim scoring {run['seconds']:.1f} s (target <= {TARGET_CLAIM_SECONDS:.0f} s)")


# --------------------------------------------------------------------------- 3. end to end

def end_to_end(report: Report, tmp: Path) -> None:
    config = ROOT / "configs" / "default.yaml"
    print(f"\n3. End to end: harness run --config {config.relative_to(ROOT)}")
    args = ["run", "--config", str(config), "--out", str(tmp / "run"), "--cache-dir", str(tmp / "cache"),
            "--db", str(tmp / "history.sqlite"), "--no-progress"]
    cold, _ = measured(args, tmp, "harness run, cold cache")
    warm, _ = measured(args, tmp, "harness run, warm cache")
    report.figures["end_to_end"] = {"cold_s": cold["seconds"], "warm_s": warm["seconds"]}


# --------------------------------------------------------------------------- report

def machine() -> dict:
    from importlib.metadata import version

    model = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                  if line.startswith("model name")), platform.processor() or "unknown")
    return {"nproc": len(os.sched_getaffinity(0)), "cpu": model, "python": platform.python_version(),
            "rouge-score": version("rouge-score"), "rouge-score-rs": version("rouge-score-rs"),
            "memory_gb": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30),
            "load_average_1min": os.getloadavg()[0]}


def _row(label: str, run: dict, target: str = "") -> str:
    ratio = f"**{run['ratio']:.0f}×**" if "ratio" in run else "–"
    loop = f"{run['loop_seconds']:,.0f} s" if "loop_seconds" in run else "–"
    return (f"| {label} | {run['seconds']:.1f} s | {loop} | {ratio} | {run['peak_rss_mb']:.0f} MB "
            f"({run['tree_peak_rss_mb']:.0f} MB) | {target} |")


def markdown(report: Report, total: float) -> str:
    f, m = report.figures, report.figures["machine"]
    lines = ["`.venv/bin/python benchmarks/run.py` runs every workload as a `harness` command in a fresh process, "
             "as a user runs it: start-up, reading, scoring, intervals, output and exit included.", "",
             f"Machine: {m['nproc']} cores ({m['cpu']}), {m['memory_gb']} GB, Python {m['python']}, "
             f"rouge-score {m['rouge-score']}, rouge-score-rs {m['rouge-score-rs']}; load average "
             f"{m['load_average_1min']:.1f} at the start (other work was running). Whole benchmark: {total:.0f} s.", "",
             "| Workload (default settings) | `harness score` | rouge-score loop, same pairs | ratio | peak RSS "
             "(with workers) | target |", "| --- | ---: | ---: | ---: | ---: | --- |"]
    if "scale" in f:
        s = f["scale"]
        runs = s["runs"]
        for key, run in runs.items():
            mode, n = key.rsplit("-", 1)
            n = int(n)
            label = {"gold": f"{n:,} summaries, gold without claims (`--gold G --predictions P --json`)",
                     "gold1": f"{n:,} summaries, the same in one process (`--jobs 1`)",
                     "pairs": f"{n:,} pairs (`--pairs F --out DIR --json`)"}[mode]
            target = {10_000: f"≥ {TARGET_RATIO:.0f}×", 100_000: f"≤ {TARGET_100K_SECONDS:.0f} s, "
                      f"≤ {TARGET_100K_MB:.0f} MB", 1_000_000: f"RSS ≤ {TARGET_FLAT}× the 100,000 run's"}.get(n, "")
            target = "" if mode == "gold1" else target
            lines.append(_row(label, run, target))
        c = s["checkpoints"]
        lines.append(_row(f"{c['pairs']:,} summaries with claim coverage ({CHECKPOINTS:,} checkpoints × the 5 bundled "
                          "documents, 3 references each)", c, f"≥ {TARGET_RATIO_WITH_CLAIMS:.0f}×"))
    if "claims" in f:
        c = f["claims"]
        lines.append(_row("claims: 2,000 documents × 50 gold × 50 predicted (`--gold G --predictions P --json`)", c,
                          f"≤ {TARGET_CLAIM_SECONDS:.0f} s"))
    if "end_to_end" in f:
        e = f["end_to_end"]
        lines.append(f"| `harness run --config configs/default.yaml`, cold / warm cache | {e['cold_s']:.1f} / "
                     f"{e['warm_s']:.1f} s | – | – | – | |")
    if "scale" in f:
        s = f["scale"]
        runs = s["runs"]
        notes = [f"- ROUGE numbers equal to rouge-score's: every precision, recall and F of {s['compared_pairs']:,} pairs "
                 f"(the first {LOOP_SAMPLE:,} of each run) and of {s['checkpoints']['compared']:,} checkpoint summaries; "
                 f"differing: **{s['differing'] + s['checkpoints']['differing']}**.",
                 f"- rouge-score loop: `RougeScorer(['rouge1', 'rouge2', 'rougeL', 'rougeLsum'], use_stemmer=True).score` "
                 f"over the same pairs, {s['loop_pairs_per_s']:,.0f} pairs/s on {s['loop_pairs']:,} pairs, timed in the "
                 "same run and scaled linearly to the larger runs (`score_multi` over the 3 references for the "
                 "checkpoints)."]
        for mode in ("gold", "pairs"):
            if f"{mode}-100000" in runs:
                notes.append(f"- time(100,000) / time(10,000), {'gold' if mode == 'gold' else '--pairs'}: "
                             f"{runs[f'{mode}-100000']['seconds'] / runs[f'{mode}-10000']['seconds']:.1f}.")
        if "pairs-1000000" in runs:
            notes.append(f"- Peak RSS of `--pairs`, 1,000,000 / 100,000 pairs: "
                         f"{runs['pairs-1000000']['peak_rss_mb'] / runs['pairs-100000']['peak_rss_mb']:.2f}×.")
        lines += [""] + notes
    lines += ["- Peak RSS is the `harness` process's own high-water mark (ru_maxrss from wait4); in brackets the largest "
              "sampled sum over it and its worker processes.",
              "- Wall-clock figures on a shared machine vary between runs; the ratios compare timings from the same run."]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", type=Path, help="also write the figures as JSON")
    parser.add_argument("--markdown", type=Path, help="also write the README table with the figures")
    parser.add_argument("--only", action="append", choices=SECTIONS, help="run only this section (repeatable)")
    parser.add_argument("--largest", type=int, default=SIZES[-1], help="largest pairs run (default 1,000,000)")
    args = parser.parse_args(argv)
    only = set(args.only or SECTIONS)

    from harness.io import atomic_write, write_json

    started = time.perf_counter()
    report = Report()
    report.figures["machine"] = m = machine()
    print(f"machine: {m['nproc']} cores, {m['cpu']}, Python {m['python']}, rouge-score {m['rouge-score']}, "
          f"rouge-score-rs {m['rouge-score-rs']}, load average {m['load_average_1min']:.1f}")
    corpus, articles = workloads.load_articles()
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        if "scale" in only:
            scale(corpus, articles, report, tmp, args.largest)
        if "claims" in only:
            claims(corpus, articles, report, tmp)
        if "e2e" in only:
            end_to_end(report, tmp)
    total = time.perf_counter() - started
    report.figures["total_s"] = total
    report.figures["load_average_end"] = os.getloadavg()[0]
    if args.json:
        write_json(args.json, {**report.figures, "failures": report.failures, "skipped": report.skipped})
    if args.markdown:
        atomic_write(args.markdown, markdown(report, total))
    if report.failures:
        print(f"\nFAILED ({len(report.failures)}):")
        for failure in report.failures:
            print(f"  - {failure}")
        return 1
    print("\nall targets met; every ROUGE number compared equals rouge-score's")
    return 0


if __name__ == "__main__":
    sys.exit(main())
