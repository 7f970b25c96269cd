"""Run a function over a stream of jobs on several processes, results in job order, memory bounded.

Scoring is CPU-bound Python (sentence splitting, numbers, claim matching), so threads would not help;
worker processes do. They start when the input turns out to be large enough to repay the fraction of a
second they take to start, or at once when it is known to be (they then start up while this process
reads its input). They get their jobs as plain data (spawned, so nothing of the parent's state is
shared by accident, on every platform), and this process keeps scoring jobs itself whenever the
workers have enough queued. Only a bounded number of jobs and results are held at once, so a stream of
any length is scored in constant memory.
"""

from __future__ import annotations

import os
import signal
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future
from itertools import islice
from typing import TypeVar

Job = TypeVar("Job")
Result = TypeVar("Result")
QUEUED_PER_WORKER = 2  # jobs sent to a worker ahead of its results
HELD = 64  # jobs in order between the oldest unfinished one and the newest


def usable_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


class Workers:
    """Up to `count` worker processes, started on first need or by `start()`; a context manager that ends them.

    `warm_up` (picklable, no arguments) runs once in each worker as it starts: imports and set-up done
    before the first job arrives.
    """

    def __init__(self, count: int = 0, warm_up: Callable[[], object] | None = None):
        self.count = max(count, 0)
        self._warm_up = warm_up
        self._pool = None

    @property
    def started(self) -> bool:
        return self._pool is not None

    def start(self):
        if self._pool is None and self.count:
            from concurrent.futures import ProcessPoolExecutor
            from multiprocessing import get_context

            self._pool = ProcessPoolExecutor(self.count, mp_context=get_context("spawn"),
                                             initializer=_leave_signals_to_the_parent)
            for _ in range(self.count):  # one submission each starts them all, now
                self._pool.submit(self._warm_up or os.getpid)
        return self._pool

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def __enter__(self) -> Workers:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def ordered_map(inline: Callable[[Job], Result], in_worker: Callable[[Job], Result], jobs: Iterable[Job],
                workers: Workers, inline_first: int) -> Iterator[Result]:
    """`inline(job)` or `in_worker(job)` for every job, results in the order of `jobs`.

    Unless the workers are already started, the first `inline_first` jobs run here and the workers start
    only if more follow. `in_worker` must be a module-level function that computes what `inline`
    computes, so that results do not depend on where a job ran.
    """
    remaining = iter(jobs)
    if not workers.count:
        yield from map(inline, remaining)
        return
    if not workers.started:
        yield from map(inline, islice(remaining, inline_first))
    first = next(remaining, None)
    if first is None:
        return
    pool = workers.start()
    held: deque[Future | _Done] = deque([pool.submit(in_worker, first)])
    for job in remaining:
        waiting = sum(1 for h in held if isinstance(h, Future) and not h.done())
        held.append(pool.submit(in_worker, job) if waiting < QUEUED_PER_WORKER * workers.count else _Done(inline(job)))
        while held and (held[0].done() or len(held) >= HELD):
            yield held.popleft().result()
    while held:
        yield held.popleft().result()


class _Done:
    """A result computed here, held in order among the workers' futures."""

    def __init__(self, value):
        self._value = value

    def done(self) -> bool:
        return True

    def result(self):
        return self._value


def _leave_signals_to_the_parent() -> None:
    """Ctrl-C reaches the whole process group; the parent decides (it stops the pool and exits 130)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
