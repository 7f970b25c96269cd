"""Closed, typed adapter options: what an adapter declares, checked and hashed before any model is called.

An adapter imports only this (not the run-config loader): its options are its own contract, and the same
check serves a run config's `options:`, the `scoring:` and `corpus:` sections and a plugin's constructor.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.errors import UserError, nearest, shown, unknown_name_error
from harness.io import dumps_canonical, line_of


@dataclass(frozen=True)
class Option:
    """One declared adapter option. `kind` is str, int, float, bool, "argv" (list of strings) or "strings"."""

    name: str
    kind: type | str
    default: Any = None
    help: str = ""
    choices: tuple = ()
    required: bool = False
    minimum: float | None = None
    maximum: float | None = None


def kind_name(kind: type | str) -> str:
    """An option kind as users read it: int, float, str, bool, or a list of strings."""
    if kind == "argv":
        return "list of strings (program and arguments)"
    if kind == "strings":
        return "list of strings"
    return kind if isinstance(kind, str) else kind.__name__


def _kind_name(kind: type | str) -> str:
    return kind if isinstance(kind, str) else kind.__name__


def _coerce(option: Option, value: Any, where: str, path: Path | None, line: int | None) -> Any:
    """Check (and lightly coerce: int -> float) one value; None is allowed only as "not set"."""
    if value is None:
        if option.required:
            raise UserError(f"{where}: required option is null", path, line, option.name)
        return None
    kind = option.kind
    ok = True
    if kind is bool:
        ok = isinstance(value, bool)
    elif kind is int:
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif kind is float:
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        if ok and not math.isfinite(value):
            raise UserError(f"{where}: expected a finite number, got {shown(value)}", path, line, option.name)
        value = float(value) if ok else value
    elif kind is str:
        ok = isinstance(value, str)
    elif kind in ("argv", "strings"):
        ok = isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value)
        if ok and kind == "argv" and not value:
            raise UserError(f"{where}: needs at least one item (the program to run)", path, line, option.name)
        value = tuple(value) if ok else value
    if not ok:
        expected = {"argv": "a list of strings", "strings": "a list of strings"}.get(_kind_name(kind),
                                                                                     _kind_name(kind))
        raise UserError(f"{where}: expected {expected}, got {type(value).__name__} {shown(value)}", path, line,
                        option.name)
    if option.choices:
        items = value if isinstance(value, tuple) else (value,)
        for item in items:
            if item not in option.choices:
                guess = nearest(item, option.choices)
                hint = f"; did you mean {guess!r}?" if guess else ""
                raise UserError(f"{where}: {shown(item)} is not one of {', '.join(map(str, option.choices))}{hint}",
                                path, line, option.name)
    if option.minimum is not None and isinstance(value, (int, float)) and value < option.minimum:
        raise UserError(f"{where}: must be at least {option.minimum:g}, got {shown(value)}", path, line, option.name)
    if option.maximum is not None and isinstance(value, (int, float)) and value > option.maximum:
        raise UserError(f"{where}: must be at most {option.maximum:g}, got {shown(value)}", path, line, option.name)
    return value


def check_options(specs: Sequence[Option], raw: Mapping[str, Any] | None, where: str,
                  path: Path | None = None, line: int | None = None) -> dict[str, Any]:
    """Validated options with defaults filled in; unknown names and wrong types raise UserError."""
    raw = raw or {}
    if not isinstance(raw, Mapping):
        raise UserError(f"{where}: options must be a mapping", path, line, "options")
    by_name = {o.name: o for o in specs}
    for name in raw:
        if name not in by_name:
            raise unknown_name_error(f"option for {where}", name, by_name, path, line_of(raw) or line)
    out = {}
    for option in specs:
        if option.name in raw:
            out[option.name] = _coerce(option, raw[option.name], where, path, line_of(raw) or line)
        elif option.required:
            raise UserError(f"{where}: missing required option ({_kind_name(option.kind)}: {option.help})",
                            path, line_of(raw) or line, option.name)
        else:
            default = option.default
            out[option.name] = tuple(default) if isinstance(default, list) else default
    return out


def options_hash(options: Mapping[str, Any]) -> str:
    """A short stable hash of resolved options (part of the cache key and the manifest)."""
    return hashlib.sha256(dumps_canonical(_jsonable(options)).encode("utf-8")).hexdigest()[:16]


def _jsonable(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, Path):
        return str(value)
    return value
