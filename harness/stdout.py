"""A closed standard output is not an error: `harness compare … | head -1` must not end in a traceback.

When the reader goes away, the rest of the output is dropped and the command carries on, so it still
writes its files, records its run and exits with its own status (0, or 1 for a regression), never with
a traceback or an exit status that a CI script would take for a regression.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TextIO


class _DropWhenClosed:
    """A stand-in for sys.stdout that stops writing, silently, once the pipe it writes to is closed."""

    def __init__(self, stream: TextIO):
        self._stream = stream
        self.closed_by_reader = False

    def write(self, text: str) -> int:
        if not self.closed_by_reader:
            try:
                return self._stream.write(text)
            except BrokenPipeError:
                self._reader_gone()
        return len(text)

    def flush(self) -> None:
        if not self.closed_by_reader:
            try:
                self._stream.flush()
            except BrokenPipeError:
                self._reader_gone()

    def _reader_gone(self) -> None:
        """Point the file descriptor at /dev/null, so the interpreter's own final flush of what is still
        buffered cannot fail either (it would print "Exception ignored … BrokenPipeError" and exit 120)."""
        self.closed_by_reader = True
        try:
            null = os.open(os.devnull, os.O_WRONLY)
            os.dup2(null, self._stream.fileno())
            os.close(null)
        except (OSError, ValueError, AttributeError):  # not a real file (a test's capture): nothing to redirect
            pass

    def __getattr__(self, name: str):
        return getattr(self._stream, name)


@contextmanager
def closed_stdout_is_not_an_error() -> Iterator[None]:
    """Within this block, output to a closed pipe is dropped instead of raising BrokenPipeError."""
    original = sys.stdout
    guarded = _DropWhenClosed(original)
    sys.stdout = guarded
    try:
        yield
    finally:
        guarded.flush()
        sys.stdout = original
