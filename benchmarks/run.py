"""Corpus-scale performance of the harness, checked against rouge-score's numbers.

    .venv/bin/python benchmarks/run.py [--json FILE] [--markdown FILE]

Prints the figures and the ratios, and exits 1 if any ROUGE number differs from rouge-score's or a
target is missed (0 otherwise). All workloads are seeded and built from the bundled gold corpus.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import workloads  # noqa: E402  (the benchmarks folder is not a package)

ROOT = Path(__file__).resolve().parent.parent
TARGET_ROUGE_RATIO = 50.0
TARGET_CLAIM_SECONDS = 60.0
TARGET_STREAM_MB = 300.0
TARGET_STREAM_GROWTH = 0.10
TARGET_TOTAL_SECONDS = 300.0
SECTIONS = ("rouge", "multi", "claims", "e2e", "stream")


@dataclass
class Report:
    figures: dict = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)

    def check(self, ok: bool, message: str) -> None:
        print(f"  [{'ok' if ok else 'MISSED'}] {message}")
        if not ok:
            self.failures.append(message)


def _triples(scores: dict, types) -> tuple:
    return tuple((float(scores[t].precision), float(scores[t].recall), float(scores[t].fmeasure)) for t in types)


def _mismatches(name: str, got: list, expected: list, report: Report) -> int:
    bad = [i for i, (g, e) in enumerate(zip(got, expected, strict=True)) if g != e]
    if bad:
        i = bad[0]
        report.failures.append(f"{name}: {len(bad)} result(s) differ from rouge-score, first at #{i}: {got[i]} != {expected[i]}")
    return len(bad)


# --------------------------------------------------------------------------- 1. ROUGE throughput

def rouge_throughput(articles, report: Report, n: int = 10_000, blocks: int = 20) -> None:
    """Paths are timed block by block, interleaved, so that load from other processes hits all alike."""
    import rouge_score_rs
    from rouge_score import rouge_scorer

    from harness.scoring.rouge import ROUGE_TYPES, RougeScorer
    from harness.scoring.scorer import ScoreSettings
    from harness.text import one_sentence_per_line

    print(f"\n1. ROUGE throughput: {n:,} (reference, candidate) pairs, 3 sentences each, ROUGE-1/2/L/Lsum, stemming")
    pairs = workloads.rouge_pairs(articles, n)
    settings = ScoreSettings()
    reference = rouge_scorer.RougeScorer(list(ROUGE_TYPES), use_stemmer=settings.use_stemmer)
    harness = RougeScorer(settings.use_stemmer, settings.multi_ref)  # exactly as harness.scoring.scorer.Scorer builds it
    peer = rouge_score_rs.RougeScorer(list(ROUGE_TYPES), use_stemmer=settings.use_stemmer)
    names = ("rouge-score loop", "harness per-document", "harness per-document, references cached", "harness batch",
             "rouge-score-rs loop", "rouge-score-rs batch")
    times = dict.fromkeys(names, 0.0)
    results: dict[str, list] = {name: [] for name in names}
    step = n // blocks
    for start in range(0, n, step):
        block = pairs[start:start + step]
        refs, cands = [r for r, _ in block], [c for _, c in block]
        runs = (
            ("rouge-score loop", lambda: [reference.score(r, c) for r, c in block]),
            # what `harness score` does per document: the summary put one sentence per line, then score_multi
            ("harness per-document", lambda: [harness.score_multi([r], one_sentence_per_line(c)) for r, c in block]),
            # the same block again, as for a second system: its references are now cached
            ("harness per-document, references cached",
             lambda: [harness.score_multi([r], one_sentence_per_line(c)) for r, c in block]),
            ("harness batch", lambda: harness.score_pairs(refs, cands)),
            ("rouge-score-rs loop", lambda: [peer.score(r, c) for r, c in block]),
            ("rouge-score-rs batch", lambda: peer.score_batch(refs, cands)),
        )
        for name, run in runs:
            t0 = time.perf_counter()
            out = run()
            times[name] += time.perf_counter() - t0
            results[name] += [_triples(s, ROUGE_TYPES) for s in out]
    expected = results["rouge-score loop"]
    differing = sum(_mismatches(name, results[name], expected, report) for name in names[1:])
    base = n / times["rouge-score loop"]
    rates = {name: n / t for name, t in times.items()}
    for name, rate in rates.items():
        print(f"  {name:<42} {rate:>10,.0f} pairs/s  {rate / base:>7.1f}x")
    print(f"  backend: {harness.backend}; numbers compared with rouge-score's: {n * 4 * 3 * (len(names) - 1):,} "
          f"(every pair, metric and P/R/F of {len(names) - 1} paths); differing: {differing}")
    report.figures["rouge"] = {"pairs": n, "pairs_per_s": rates, "ratio_vs_rouge_score": {k: v / base for k, v in rates.items()},
                               "differing": differing, "backend": harness.backend}
    report.check(differing == 0, "every ROUGE number equals rouge-score's (bit-identical floats)")
    ratio = rates["harness per-document"] / base
    report.check(ratio >= TARGET_ROUGE_RATIO,
                 f"harness per-document path {ratio:.0f}x the rouge-score loop (target >= {TARGET_ROUGE_RATIO:.0f}x)")


# --------------------------------------------------------------------------- 2. multi-reference, multi-system

def multi_system(articles, report: Report, n_docs: int = 1_000, n_refs: int = 3, n_systems: int = 10,
                 n_sample: int = 300) -> None:
    import rouge_score_rs
    from rouge_score import rouge_scorer

    from harness.scoring.rouge import ROUGE_TYPES, RougeScorer

    print(f"\n2. Multi-reference, multi-system: {n_docs:,} documents x {n_refs} references x {n_systems} systems")
    docs = workloads.multi_system(articles, n_docs, n_refs, n_systems)

    def run(scorer):
        t0 = time.perf_counter()
        out = [[_triples(scorer.score_multi(list(d.references), d.outputs[s]), ROUGE_TYPES) for d in docs]
               for s in range(n_systems)]
        return out, time.perf_counter() - t0

    cached_scorer, uncached_scorer = RougeScorer(), RougeScorer(cache_size=0)
    cached, cached_time = run(cached_scorer)
    uncached, uncached_time = run(uncached_scorer)
    peer, peer_time = run(rouge_score_rs.RougeScorer(list(ROUGE_TYPES), use_stemmer=True))
    # rouge-score itself on a seeded sample (all 10,000 would take minutes)
    rng = random.Random(workloads.SEED + 4)
    sample = [(rng.randrange(n_systems), rng.randrange(n_docs)) for _ in range(n_sample)]
    reference = rouge_scorer.RougeScorer(list(ROUGE_TYPES), use_stemmer=True)
    t0 = time.perf_counter()
    expected_sample = [_triples(reference.score_multi(list(docs[d].references), docs[d].outputs[s]), ROUGE_TYPES)
                       for s, d in sample]
    reference_time = time.perf_counter() - t0
    flat = lambda grid: [x for row in grid for x in row]  # noqa: E731
    differing = _mismatches("multi-system vs rouge-score (sample)", [cached[s][d] for s, d in sample],
                            expected_sample, report)
    differing += _mismatches("multi-system vs rouge-score-rs score_multi", flat(cached), flat(peer), report)
    differing += _mismatches("multi-system without cache", flat(uncached), flat(cached), report)
    calls = n_docs * n_systems
    c, u = cached_scorer.stats(), uncached_scorer.stats()
    rows = (("harness (references cached)", cached_time, c), ("harness, no cache (cache_size=0)", uncached_time, u))
    for name, seconds, stats in rows:
        print(f"  {name:<34} {calls / seconds:>9,.0f} documents/s  reference tokenisations {stats.reference_tokenisations:>7,}"
              f"  prediction tokenisations {stats.prediction_tokenisations:>7,}")
    print(f"  {'rouge-score-rs score_multi loop':<34} {calls / peer_time:>9,.0f} documents/s")
    print(f"  {'rouge-score score_multi loop':<34} {n_sample / reference_time:>9,.0f} documents/s (on {n_sample} sampled)")
    report.figures["multi_system"] = {
        "documents": n_docs, "references": n_refs, "systems": n_systems,
        "docs_per_s": {"harness_cached": calls / cached_time, "harness_no_cache": calls / uncached_time,
                       "rouge_score_rs": calls / peer_time, "rouge_score": n_sample / reference_time},
        "distinct_references": len({r for d in docs for r in d.references}),
        "reference_tokenisations": {"cached": c.reference_tokenisations, "no_cache": u.reference_tokenisations},
        "prediction_tokenisations": {"cached": c.prediction_tokenisations, "no_cache": u.prediction_tokenisations},
        "differing": differing,
    }
    report.check(differing == 0, f"multi-reference results equal rouge-score ({n_sample} sampled) and rouge-score-rs (all)")
    distinct = len({r for d in docs for r in d.references})  # a few sampled references repeat
    report.check(c.reference_tokenisations == distinct,
                 f"each reference tokenised once: {c.reference_tokenisations:,} tokenisations for {distinct:,} distinct "
                 f"references (without the cache: {u.reference_tokenisations:,})")
    report.check(c.prediction_tokenisations == calls,
                 f"each system output tokenised once: {c.prediction_tokenisations:,} for {calls:,} outputs")


# --------------------------------------------------------------------------- 3. claim matching

def claim_matching(corpus, articles, report: Report, n_docs: int = 2_000, n_gold: int = 50, n_pred: int = 50) -> None:
    from harness.scoring.matching import match_claims
    from harness.scoring.scorer import Scorer, ScoreSettings

    print(f"\n3. Claim matching: {n_docs:,} documents x {n_gold} gold claims x {n_pred} predicted claims")
    settings = ScoreSettings()
    scorer = Scorer(corpus, settings)
    docs = workloads.claim_docs(corpus, articles, {d.doc_id: scorer.gold_items(d.doc_id) for d in corpus.documents},
                                n_docs, n_gold, n_pred)
    t0 = time.perf_counter()
    counts = [match_claims(d.predictions, d.gold, scorer.similarity, settings.threshold, d.excluded, settings.vetoes)
              for d in docs]
    seconds = time.perf_counter() - t0
    pairs = n_docs * n_gold * n_pred
    totals = {k: sum(getattr(c, k) for c in counts) for k in ("tp", "fp", "fn", "duplicates", "excluded")}
    print(f"  {seconds:.1f} s   {pairs / seconds:,.0f} claim pairs/s   {n_docs / seconds:,.0f} documents/s")
    print(f"  outcome totals (a fingerprint of the matcher's behaviour): {totals}")
    report.figures["claims"] = {"documents": n_docs, "seconds": seconds, "pairs_per_s": pairs / seconds, "totals": totals}
    report.check(seconds < TARGET_CLAIM_SECONDS, f"claim matching {seconds:.1f} s (target < {TARGET_CLAIM_SECONDS:.0f} s)")


# --------------------------------------------------------------------------- 4. end to end

def end_to_end(report: Report) -> None:
    config = ROOT / "configs" / "default.yaml"
    print(f"\n4. End to end: harness run --config {config.relative_to(ROOT)} (warm cache)")
    cli = [sys.executable, "-m", "harness.cli"]
    help_text = subprocess.run([*cli, "run", "--help"], capture_output=True, text=True, cwd=ROOT)
    if not config.exists() or help_text.returncode != 0:
        reason = "configs/default.yaml is missing" if not config.exists() else "`harness run` does not exist yet"
        print(f"  SKIPPED: {reason}")
        report.skipped.append(f"end to end: {reason}")
        return
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        args = [*cli, "run", "--config", str(config), "--out", str(tmp_path / "out")]
        for flag, value in (("--cache-dir", tmp_path / "cache"), ("--db", tmp_path / "history.sqlite")):
            if flag in help_text.stdout:
                args += [flag, str(value)]
        if "--no-progress" in help_text.stdout:
            args.append("--no-progress")
        timings = []
        for _ in range(2):  # the first run fills the model-output cache; the second is the warm one
            t0 = time.perf_counter()
            proc = subprocess.run(args, capture_output=True, text=True, cwd=ROOT)
            timings.append(time.perf_counter() - t0)
            if proc.returncode != 0:
                report.failures.append(f"end to end: exit {proc.returncode}: {proc.stderr.strip()[-400:]}")
                print(f"  FAILED: exit {proc.returncode}")
                return
    print(f"  cold cache {timings[0]:.1f} s   warm cache {timings[1]:.1f} s")
    report.figures["end_to_end"] = {"cold_s": timings[0], "warm_s": timings[1]}


# --------------------------------------------------------------------------- 5. streaming memory

def _stream_child(path: Path, out: Path) -> tuple[float, float, dict]:
    """Peak RSS (MB, the child's own VmHWM) and wall time of a fresh process scoring `path`."""
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, str(Path(__file__).with_name("stream_child.py")), str(path), "--out", str(out)],
                          capture_output=True, text=True, cwd=ROOT)
    seconds = time.perf_counter() - t0
    if proc.returncode != 0:
        raise RuntimeError(f"stream child failed: {proc.stderr[-400:]}")
    summary, peak = (json.loads(line) for line in proc.stdout.splitlines()[-2:])
    return peak["peak_rss_kb"] / 1024, seconds, summary


def stream_memory(articles, report: Report, small: int = 10_000, large: int = 100_000) -> None:
    print(f"\n5. Peak memory scoring pairs streamed from JSONL: {small:,} vs {large:,} pairs, fresh processes")
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        big = tmp_path / "pairs_large.jsonl"
        workloads.write_pairs_jsonl(big, articles, large)
        little = tmp_path / "pairs_small.jsonl"
        with big.open(encoding="utf-8") as src, little.open("w", encoding="utf-8") as dst:
            for _, line in zip(range(small), src):
                dst.write(line)
        rss_small, t_small, out_small = _stream_child(little, tmp_path / "scores_small.jsonl")
        rss_large, t_large, out_large = _stream_child(big, tmp_path / "scores_large.jsonl")
        lines = sum(1 for _ in (tmp_path / "scores_large.jsonl").open(encoding="utf-8"))
    growth = rss_large / rss_small - 1
    for n, rss, seconds in ((small, rss_small, t_small), (large, rss_large, t_large)):
        print(f"  {n:>7,} pairs: peak RSS {rss:6.1f} MB   {seconds:5.1f} s   {n / seconds:,.0f} pairs/s (process start to exit)")
    report.figures["stream"] = {"rss_mb": {str(small): rss_small, str(large): rss_large}, "growth": growth,
                                "seconds": {str(small): t_small, str(large): t_large}, "backend": out_large["backend"]}
    report.check(out_small["n_pairs"] == small and out_large["n_pairs"] == large == lines,
                 f"every line scored and written ({lines:,} result lines)")
    report.check(rss_large < TARGET_STREAM_MB, f"peak RSS for {large:,} pairs {rss_large:.0f} MB (target < {TARGET_STREAM_MB:.0f} MB)")
    report.check(growth <= TARGET_STREAM_GROWTH,
                 f"{large:,} pairs use {growth:+.1%} the memory of {small:,} (target within {TARGET_STREAM_GROWTH:.0%})")


# --------------------------------------------------------------------------- report

def machine() -> dict:
    from importlib.metadata import version

    model = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                  if line.startswith("model name")), platform.processor() or "unknown")
    return {"nproc": len(os.sched_getaffinity(0)), "cpu": model, "python": platform.python_version(),
            "rouge-score": version("rouge-score"), "rouge-score-rs": version("rouge-score-rs"),
            "memory_gb": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30),
            "load_average_1min": os.getloadavg()[0]}


def markdown(report: Report, total: float) -> str:
    f, m = report.figures, report.figures["machine"]
    lines = ["## Performance", "",
             "`.venv/bin/python benchmarks/run.py` (seeded workloads from the gold corpus; exits 1 if any ROUGE number "
             "differs from rouge-score's or a target is missed).", "",
             f"Machine: {m['nproc']} cores ({m['cpu']}), {m['memory_gb']} GB, Python {m['python']}, "
             f"rouge-score {m['rouge-score']}, rouge-score-rs {m['rouge-score-rs']}; load average "
             f"{m['load_average_1min']:.1f} at the start (other work was running). Whole benchmark: {total:.0f} s.", "",
             "| Workload | Figure | Target |", "| --- | --- | --- |"]
    if "rouge" in f:
        r = f["rouge"]
        rate, ratio = r["pairs_per_s"], r["ratio_vs_rouge_score"]
        lines += [
            f"| ROUGE, 10,000 pairs: rouge-score loop | {rate['rouge-score loop']:,.0f} pairs/s | reference |",
            f"| ROUGE: harness per-document path (as `harness score`) | {rate['harness per-document']:,.0f} pairs/s "
            f"({ratio['harness per-document']:.0f}x) | >= {TARGET_ROUGE_RATIO:.0f}x, bit-identical |",
            f"| ROUGE: same, references already cached | {rate['harness per-document, references cached']:,.0f} pairs/s "
            f"({ratio['harness per-document, references cached']:.0f}x) | |",
            f"| ROUGE: harness batch (`score_pairs`, streaming) | {rate['harness batch']:,.0f} pairs/s "
            f"({ratio['harness batch']:.0f}x) | |",
            f"| ROUGE: rouge-score-rs loop / batch | {rate['rouge-score-rs loop']:,.0f} / {rate['rouge-score-rs batch']:,.0f} "
            f"pairs/s | |",
            f"| ROUGE numbers differing from rouge-score | {r['differing']} | 0 |",
        ]
    if "multi_system" in f:
        ms = f["multi_system"]
        lines += [
            f"| Multi-system: 1,000 docs x 3 refs x 10 systems, harness | {ms['docs_per_s']['harness_cached']:,.0f} docs/s; "
            f"{ms['reference_tokenisations']['cached']:,} reference tokenisations | each distinct reference once "
            f"({ms['distinct_references']:,}) |",
            f"| Multi-system without the cache | {ms['docs_per_s']['harness_no_cache']:,.0f} docs/s; "
            f"{ms['reference_tokenisations']['no_cache']:,} reference tokenisations | |",
            f"| Multi-system: rouge-score-rs / rouge-score score_multi loop | {ms['docs_per_s']['rouge_score_rs']:,.0f} / "
            f"{ms['docs_per_s']['rouge_score']:,.0f} docs/s | |",
        ]
    if "claims" in f:
        c = f["claims"]
        lines.append(f"| Claim matching: 2,000 docs x 50 gold x 50 predicted | {c['seconds']:.1f} s "
                     f"({c['pairs_per_s']:,.0f} pairs/s) | < {TARGET_CLAIM_SECONDS:.0f} s |")
    if "end_to_end" in f:
        e = f["end_to_end"]
        lines.append(f"| `harness run --config configs/default.yaml`, warm cache | {e['warm_s']:.1f} s "
                     f"(cold {e['cold_s']:.1f} s) | |")
    if "stream" in f:
        s = f["stream"]
        (n1, r1), (n2, r2) = s["rss_mb"].items()
        lines.append(f"| Peak RSS, pairs streamed from JSONL: {int(n1):,} / {int(n2):,} | {r1:.0f} MB / {r2:.0f} MB "
                     f"({s['growth']:+.1%}) | < {TARGET_STREAM_MB:.0f} MB, within {TARGET_STREAM_GROWTH:.0%} |")
    lines += ["",
              "- ROUGE: every pair, metric and precision/recall/F of each path is compared with rouge-score "
              "0.1.2 for equality of floats. The per-document path is `RougeScorer.score_multi` as "
              "`Scorer.score_summary` calls it (summary put one sentence per line, references cached); the batch "
              "path scores pairs on all cores and is what `python -m harness.scoring.stream` uses.",
              "- Multi-system: a reference is normalised (lowercased, split, Porter-stemmed) once and cached; a "
              "system output once per document, not once per reference. Results equal rouge-score's on a seeded "
              "sample and rouge-score-rs's `score_multi` on all 10,000.",
              "- Peak RSS is VmHWM of a fresh process (Linux carries a parent's size into a child's ru_maxrss).",
              "- Throughputs are wall-clock on a shared machine, so absolute figures vary between runs; the ratios "
              "come from the same run, with the ROUGE paths timed in interleaved blocks so that outside load hits "
              "them alike."]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", type=Path, help="also write the figures as JSON")
    parser.add_argument("--markdown", type=Path, help="also write a README section with the figures")
    parser.add_argument("--only", action="append", choices=SECTIONS, help="run only this section (repeatable)")
    args = parser.parse_args(argv)
    only = set(args.only or SECTIONS)

    from harness.io import atomic_write, write_json

    started = time.perf_counter()
    report = Report()
    report.figures["machine"] = machine()
    m = report.figures["machine"]
    print(f"machine: {m['nproc']} cores, {m['cpu']}, Python {m['python']}, "
          f"rouge-score {m['rouge-score']}, rouge-score-rs {m['rouge-score-rs']}, load average {m['load_average_1min']:.1f}")
    corpus, articles = workloads.load_articles()
    if "rouge" in only:
        rouge_throughput(articles, report)
    if "multi" in only:
        multi_system(articles, report)
    if "claims" in only:
        claim_matching(corpus, articles, report)
    if "e2e" in only:
        end_to_end(report)
    if "stream" in only:
        stream_memory(articles, report)
    total = time.perf_counter() - started
    print()
    report.check(total < TARGET_TOTAL_SECONDS, f"whole benchmark {total:.0f} s (target < {TARGET_TOTAL_SECONDS:.0f} s)")
    report.figures["total_s"] = total
    if args.json:
        write_json(args.json, {**report.figures, "failures": report.failures, "skipped": report.skipped})
    if args.markdown:
        atomic_write(args.markdown, markdown(report, total))
    for skipped in report.skipped:
        print(f"skipped: {skipped}")
    if report.failures:
        print(f"\nFAILED ({len(report.failures)}):")
        for failure in report.failures:
            print(f"  - {failure}")
        return 1
    print("\nall targets met; every ROUGE number equals rouge-score's")
    return 0


if __name__ == "__main__":
    sys.exit(main())
