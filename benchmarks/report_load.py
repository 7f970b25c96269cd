"""The report side of a large run: `harness score --out` on N documents × 2 systems, timed, with peak memory
and the size of what it writes (report.html first).

    .venv/bin/python benchmarks/report_load.py --documents 2000 [--keep DIR]

The corpus is the bundled gold repeated under new document ids; one system gives every gold claim and the
short reference summary, the other drops three claims per document and adds one that matches nothing, and
fails on every 50th document (so the report has failures to show).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from harness import gold

ROOT = Path(__file__).resolve().parent.parent


def workload(folder: Path, n_documents: int) -> tuple[Path, Path]:
    """gold.jsonl (the bundled documents repeated under new ids) and predictions.jsonl for two systems."""
    corpus, _ = gold.load()
    base = [gold.document_record(d) for d in corpus.documents]
    gold_path, predictions_path = folder / "gold.jsonl", folder / "predictions.jsonl"
    with gold_path.open("w", encoding="utf-8") as g, predictions_path.open("w", encoding="utf-8") as p:
        for i in range(n_documents):
            record = {**base[i % len(base)], "doc_id": f"doc{i:05d}"}
            g.write(json.dumps(record, ensure_ascii=False) + "\n")
            short = next(s["text"] for s in record["summaries"] if s["length"] == "short")
            claims = [c["text"] for c in record["claims"]]
            p.write(json.dumps({"doc_id": record["doc_id"], "system": "complete", "summary": short,
                                "claims": claims}) + "\n")
            damaged = {"doc_id": record["doc_id"], "system": "damaged", "summary": " ".join(short.split()[:30]),
                       "claims": claims[:-3] + ["The moon is made of green cheese, a bakery said."]}
            if i % 50 == 0:
                damaged = {"doc_id": record["doc_id"], "system": "damaged", "summary": "", "claims": [],
                           "failure": "summary: model timed out"}
            p.write(json.dumps(damaged) + "\n")
    return gold_path, predictions_path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--documents", type=int, default=2000)
    parser.add_argument("--keep", type=Path, help="write the workload and results here instead of a temporary folder")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        folder = args.keep or Path(scratch)
        folder.mkdir(parents=True, exist_ok=True)
        gold_path, predictions_path = workload(folder, args.documents)
        out = folder / "out"
        started = time.perf_counter()
        child = subprocess.Popen([sys.executable, "-m", "harness.cli", "score", "--predictions", str(predictions_path),
                                  "--gold", str(gold_path), "--out", str(out), "--db", str(folder / "h.sqlite"),
                                  "--bootstrap", "200"], cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        peak = 0
        while child.poll() is None:
            peak = max(peak, _rss_hwm(child.pid))
            time.sleep(0.2)
        seconds = time.perf_counter() - started
        if child.returncode != 0:
            print(child.stderr.read().decode(), file=sys.stderr)
            return 1
        sizes = {p.relative_to(out).as_posix(): p.stat().st_size for p in sorted(out.rglob("*")) if p.is_file()}
        pages = [name for name in sizes if name.startswith("report/")]
        print(f"documents: {args.documents} x 2 systems")
        print(f"harness score --out: {seconds:.1f} s, peak RSS {peak / 1e6:.0f} MB")
        print(f"report.html: {sizes['report.html'] / 1e6:.2f} MB; {len(pages)} page(s) beside it, largest "
              f"{max((sizes[p] for p in pages), default=0) / 1e6:.2f} MB; all files {sum(sizes.values()) / 1e6:.1f} MB")
    return 0


def _rss_hwm(pid: int) -> int:
    """The process's peak resident memory so far (VmHWM, Linux), in bytes; 0 where it cannot be read."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
