"""Run one command as a user would and measure it: wall time, its peak memory and its process tree's.

    python benchmarks/measure.py FIGURES.json STDOUT_FILE -- harness score ...

Writes {"seconds", "exit", "peak_rss_mb", "tree_peak_rss_mb", "stderr_tail"} to FIGURES.json.
`peak_rss_mb` is the command's own high-water mark (ru_maxrss from wait4, exact; this launcher is small,
so the size Linux carries from a parent into a child's ru_maxrss does not show). `tree_peak_rss_mb` is
the largest sum of resident memory of the command and its worker processes, sampled every 50 ms.
"""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import psutil


def tree_rss(root: psutil.Process) -> int:
    total = 0
    for process in [root, *root.children(recursive=True)]:
        try:
            total += process.memory_info().rss
        except psutil.Error:  # ended between listing and reading
            pass
    return total


def main(figures: Path, stdout: Path, command: list[str]) -> int:
    errors = stdout.with_name(stdout.name + ".stderr")
    with stdout.open("wb") as out, errors.open("wb") as err:
        started = time.perf_counter()
        child = subprocess.Popen(command, stdout=out, stderr=err)
        root = psutil.Process(child.pid)
        tree_peak = 0
        while True:
            pid, status, usage = os.wait4(child.pid, os.WNOHANG)
            if pid:
                break
            try:
                tree_peak = max(tree_peak, tree_rss(root))
            except psutil.Error:
                pass
            time.sleep(0.05)
        seconds = time.perf_counter() - started
    child.returncode = os.waitstatus_to_exitcode(status)
    stderr = errors.read_text(encoding="utf-8", errors="replace")
    figures.write_text(json.dumps({
        "seconds": seconds, "exit": child.returncode, "peak_rss_mb": usage.ru_maxrss / 1024,
        "tree_peak_rss_mb": max(tree_peak / 2**20, usage.ru_maxrss / 1024), "stderr_tail": stderr[-2000:],
    }))
    return 0


if __name__ == "__main__":
    separator = sys.argv.index("--")
    sys.exit(main(Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[separator + 1:]))
