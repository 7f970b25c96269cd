"""User-facing errors: one line naming the file, line and field; the CLI turns them into exit code 2."""

from __future__ import annotations

import difflib
import re
import reprlib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

MAX_MESSAGE_CHARS = 2000  # one line a reader can take in; a value that would make it longer is cut, never expanded


@dataclass
class UserError(Exception):
    """A problem with the user's input, reported without a traceback."""

    message: str
    path: str | Path | None = None
    line: int | None = None
    field: str | None = None
    record: str | None = None  # e.g. "000_15d3... claim c017": which document and record

    def __str__(self) -> str:
        where = ""
        if self.path is not None:
            where = str(self.path)
            if self.line is not None:
                where += f":{self.line}"
            where += ": "
        record = f"{self.record}: " if self.record else ""
        field = f"{self.field}: " if self.field else ""
        text = one_line(f"{where}{record}{field}{self.message}")
        return text if len(text) <= MAX_MESSAGE_CHARS else f"{text[:MAX_MESSAGE_CHARS]}… (message cut)"


_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def one_line(text: str) -> str:
    """Control characters from the input (a newline or NUL in a key or a value) shown escaped: one error, one line."""
    return _CONTROL.sub(lambda m: m.group(0).encode("unicode_escape").decode("ascii"), text)


def shown(value: Any, limit: int = 80) -> str:
    """A value for an error message, bounded however large it is: reprlib never builds the whole repr of a
    nested value (YAML aliases can make one of billions of items), and the result is cut to `limit`."""
    bounded = reprlib.Repr()
    bounded.maxlevel, bounded.maxlist, bounded.maxtuple, bounded.maxdict = 3, 4, 4, 4
    bounded.maxstring = bounded.maxother = bounded.maxlong = limit
    short = bounded.repr(value)
    return short if len(short) <= limit else f"{short[:limit]}…"


class ValidationErrors(UserError):
    """Several problems found at once (the gold validator reports them all)."""

    def __init__(self, problems: list[UserError]):
        super().__init__(f"{len(problems)} problem(s)")
        self.problems = problems

    def __str__(self) -> str:
        return "\n".join(str(p) for p in self.problems)


def nearest(name: str, valid: Iterable[str]) -> str | None:
    """The valid name closest to `name` (difflib), or None when nothing is close."""
    matches = difflib.get_close_matches(str(name), sorted(valid), n=1, cutoff=0.5)
    return matches[0] if matches else None


def unknown_name_error(kind: str, name: str, valid: Iterable[str], path: Path | None = None,
                       line: int | None = None, field_name: str | None = None) -> UserError:
    """An unknown name, with the nearest valid one suggested: a typo is fixed from the message alone."""
    valid = sorted(valid)
    guess = nearest(name, valid)
    hint = f"; did you mean {guess!r}?" if guess else ""
    return UserError(f"unknown {kind} {shown(name)}{hint} (valid: {', '.join(valid) or 'none'})", path, line,
                     field_name or str(name))
