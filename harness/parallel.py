"""Run a function over a stream of jobs on several processes, results in job order, memory bounded.

Scoring is CPU-bound Python (sentence splitting, numbers, claim matching), so threads would not help;
worker processes do. They are started only when the input turns out to be large enough to repay the
second or so they take to start, they get their jobs as plain data (spawned, so nothing of the parent's
state is shared by accident, on every platform), and only a few jobs per worker are in flight at once,
so a stream of any length is scored in constant memory.
"""

from __future__ import annotations

import os
import signal
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from itertools import islice
from typing import TypeVar

Job = TypeVar("Job")
Result = TypeVar("Result")
IN_FLIGHT_PER_WORKER = 2


def usable_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def ordered_map(inline: Callable[[Job], Result], in_worker: Callable[[Job], Result], jobs: Iterable[Job],
                workers: int, inline_first: int) -> Iterator[Result]:
    """`inline(job)` for the first `inline_first` jobs, then `in_worker(job)` on `workers` processes for the rest
    (or `inline` again when `workers` <= 1); results in the order of `jobs`.

    `in_worker` must be a module-level function that computes what `inline` computes, so that the
    results do not depend on where a job ran.
    """
    remaining = iter(jobs)
    yield from map(inline, islice(remaining, inline_first))
    if workers <= 1:
        yield from map(inline, remaining)
        return
    first = next(remaining, None)
    if first is None:
        return
    from concurrent.futures import ProcessPoolExecutor
    from multiprocessing import get_context

    pool = ProcessPoolExecutor(workers, mp_context=get_context("spawn"), initializer=_leave_signals_to_the_parent)
    try:
        pending = deque([pool.submit(in_worker, first)])
        for job in remaining:
            pending.append(pool.submit(in_worker, job))
            if len(pending) >= IN_FLIGHT_PER_WORKER * workers:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _leave_signals_to_the_parent() -> None:
    """Ctrl-C reaches the whole process group; the parent decides (it stops the pool and exits 130)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
