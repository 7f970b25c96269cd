"""Score a pairs file with harness.scoring.stream in this process, then report this process's peak RSS.

The peak is VmHWM from /proc/self/status: the high-water mark of this process's own memory since it
started. ru_maxrss cannot be used here: Linux carries the parent's resident size over into a child's
ru_maxrss across fork/exec, so every child would report at least the benchmark's own size.
"""

import json
import sys
from pathlib import Path

from harness.scoring.stream import main


def peak_rss_kb() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise RuntimeError("no VmHWM in /proc/self/status")


if __name__ == "__main__":
    code = main(sys.argv[1:])
    print(json.dumps({"peak_rss_kb": peak_rss_kb()}))
    sys.exit(code)
