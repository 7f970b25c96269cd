"""The folder a run writes into: checked and locked before any model is called.

Checked first, so that a `--out` that is a file, or a folder nobody may write, fails in one line before
the models spend an hour on answers that would have nowhere to go. Locked for the whole run, so a second
`harness run` (or `score --out`) into the same folder is refused at once instead of finishing with
results.json from one run and predictions.jsonl from the other. The lock is an OS file lock (filelock),
released by the system if the process dies, so a killed run never leaves the folder locked.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from harness.errors import UserError
from harness.io import write_error

LOCK_NAME = ".harness.lock"


@contextmanager
def claimed(out_dir: Path) -> Iterator[Path]:
    """The output folder, created if need be, proven writable and held against other writers."""
    from filelock import FileLock, Timeout

    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise UserError("is a file; the output folder must be a folder (choose another --out)", out_dir)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        tempfile.TemporaryFile(dir=out_dir).close()  # can files be created here at all?
    except OSError as err:
        raise write_error(err, out_dir) from None
    lock = FileLock(out_dir / LOCK_NAME, timeout=0)
    try:
        lock.acquire()
    except Timeout:
        raise UserError("another harness run is writing to this folder; wait for it to finish or choose another "
                        "--out", out_dir) from None
    except OSError as err:
        raise write_error(err, out_dir / LOCK_NAME) from None
    try:
        yield out_dir
    finally:
        lock.release()
