"""File I/O at the edges: YAML with line numbers, strict JSON and JSON Lines, atomic writes, safe file names."""

from __future__ import annotations

import json
import os
import re
import tempfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import yaml

from harness.errors import UserError

# How many values YAML aliases may add to a document beyond those written out. A few `<<: *defaults` merges
# add tens; nested aliases add billions from a few hundred bytes (each level multiplies the one below).
ALIAS_EXPANSION_BUDGET = 10_000


class LineDict(dict):
    """A mapping that remembers the line it started on, for error messages."""

    line: int | None = None


class _LineLoader(yaml.SafeLoader):
    def compose_document(self) -> yaml.Node:
        """The document's node graph, refused when its aliases would expand it beyond the budget."""
        start = self.peek_event().start_mark
        root = super().compose_document()
        written, expanded = _node_counts(root, start)
        if expanded - written > ALIAS_EXPANSION_BUDGET:
            raise yaml.composer.ComposerError(
                None, None, f"aliases expand this document by more than {ALIAS_EXPANSION_BUDGET:,} values "
                "(nested aliases); write the values out instead", start)
        return root

    def construct_object(self, node: yaml.Node, deep: bool = False) -> Any:
        """A value its tag cannot hold (the date 2024-13-45, `!!int x`) is an error at its line, not a crash."""
        try:
            return super().construct_object(node, deep)
        except yaml.YAMLError:
            raise
        except (ValueError, TypeError, AttributeError, OverflowError) as err:
            tag = node.tag.rsplit(":", 1)[-1]
            shown = f"{node.value!r} " if isinstance(node, yaml.ScalarNode) else ""
            raise yaml.constructor.ConstructorError(None, None, f"{shown}is not a valid {tag} ({err})",
                                                    node.start_mark) from None


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [item for pair in node.value for item in pair]
    return []


def _node_counts(root: yaml.Node, start: yaml.Mark) -> tuple[int, int]:
    """(distinct nodes, nodes once every alias is expanded), without expanding anything: each node's expanded
    size is counted once from its children's (iteratively, so deep nesting cannot overflow the stack)."""
    sizes: dict[int, int] = {}
    on_path: set[int] = set()
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, finished = stack.pop()
        key = id(node)
        if finished:
            on_path.discard(key)
            sizes[key] = 1 + sum(sizes[id(child)] for child in _children(node))
            continue
        if key in sizes:
            continue
        if key in on_path:
            raise yaml.composer.ComposerError(None, None, "an alias refers to the node that contains it", start)
        on_path.add(key)
        stack.append((node, True))
        stack += [(child, False) for child in _children(node) if id(child) not in sizes]
    return len(sizes), sizes[id(root)]


def _construct_mapping(loader: _LineLoader, node: yaml.MappingNode) -> LineDict:
    """Like SafeLoader's, but keeps the line, and refuses unhashable and repeated keys (the last would win)."""
    seen: set = set()
    for key_node, _ in node.value:
        if key_node.tag == "tag:yaml.org,2002:merge":
            continue
        key = loader.construct_object(key_node, deep=True)
        try:
            repeated = key in seen
        except TypeError:
            raise yaml.constructor.ConstructorError(None, None, "a mapping key must be a plain value, not a list or "
                                                    "mapping", key_node.start_mark) from None
        if repeated:
            raise yaml.constructor.ConstructorError(None, None, f"duplicate key {key!r}", key_node.start_mark)
        seen.add(key)
    loader.flatten_mapping(node)  # merge keys (<<): merged values first, the mapping's own keys win
    result = LineDict(loader.construct_pairs(node, deep=True))
    result.line = node.start_mark.line + 1
    return result


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as err:
        raise read_error(err, path) from None


def read_error(err: OSError, path: Path) -> UserError:
    """A file that cannot be read, said in one line: missing, a folder, not readable, or the system's reason."""
    if isinstance(err, FileNotFoundError):
        return UserError("file not found", path)
    if isinstance(err, IsADirectoryError):
        return UserError("is a directory, expected a file", path)
    if isinstance(err, NotADirectoryError):
        return UserError("file not found (a folder on its path is a file)", path)
    if isinstance(err, PermissionError):
        return UserError("permission denied: cannot read this file", path)
    return UserError(f"cannot read ({err.strerror or err})", path)


def decode_utf8(raw: bytes, path: Path) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as err:
        raise UserError(f"not valid UTF-8 (byte {err.start})", path) from None


def read_text(path: Path) -> str:
    return decode_utf8(read_bytes(path), path)


def read_yaml(path: Path) -> Any:
    """Safe-load YAML; mappings come back as LineDict so errors can name a line."""
    text = read_text(path)
    try:
        return yaml.load(text, Loader=_LineLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        line = mark.line + 1 if mark else None
        problem = " ".join((getattr(err, "problem", None) or str(err)).split())
        if "could not determine a constructor for the tag" in problem:
            problem = f"{problem.split('for the', 1)[1].strip()} is not allowed (plain YAML only: no Python objects)"
        raise UserError(f"malformed YAML: {problem}", path, line) from None
    except (ValueError, TypeError, AttributeError, OverflowError) as err:  # a value no constructor could build
        raise UserError(f"malformed YAML: {' '.join(str(err).split())}", path) from None
    except RecursionError:
        raise UserError("malformed YAML: nested too deeply", path) from None


def line_of(obj: Any) -> int | None:
    return getattr(obj, "line", None)


class JSONProblem(ValueError):
    """Valid to Python's json module but not to JSON or to us: a repeated key, NaN or Infinity."""


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict:
    result: dict = {}
    for key, value in pairs:
        if key in result:
            raise JSONProblem(f"duplicate key {key!r} (the last value would silently win)")
        result[key] = value
    return result


def _no_constant(name: str) -> Any:
    raise JSONProblem(f"{name} is not a JSON number")


def loads_strict(text: str | bytes) -> Any:
    """json.loads that refuses what JSON does not allow but Python accepts: repeated keys in an object (the last
    would silently win) and NaN/Infinity. Raises json.JSONDecodeError or JSONProblem (both ValueError)."""
    return json.loads(text, object_pairs_hook=_unique_keys, parse_constant=_no_constant)


def _lines(handle: IO[bytes], path: Path, max_line_bytes: int | None) -> Iterator[tuple[int, bytes]]:
    """Numbered lines, each refused once it passes `max_line_bytes` (before the rest of it is read)."""
    number = 0
    while True:
        try:
            raw = handle.readline(max_line_bytes + 1 if max_line_bytes else -1)
        except OSError as err:
            raise read_error(err, path) from None
        if not raw:
            return
        number += 1
        if max_line_bytes and len(raw) > max_line_bytes and not raw.endswith(b"\n"):
            raise UserError(f"line longer than {max_line_bytes:,} bytes (the limit for one line)", path, number)
        yield number, raw


def iter_jsonl(path: Path, storable: bool = False, max_line_bytes: int | None = None) -> Iterator[tuple[int, Any]]:
    """Yield (line number, parsed object) for each non-blank line; bad lines raise UserError.

    `storable`: also refuse strings that no UTF-8 file can hold (a "\\ud800" escape, half a surrogate pair),
    for input whose text is written out again (predictions, gold). `max_line_bytes`: refuse longer lines.
    """
    try:
        handle = path.open("rb")
    except OSError as err:
        raise read_error(err, path) from None
    with handle:
        for number, raw in _lines(handle, path, max_line_bytes):
            if number == 1 and raw.startswith(b"\xef\xbb\xbf"):
                raw = raw[3:]
            if b"\x00" in raw:
                raise UserError("contains a NUL byte", path, number)
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as err:
                raise UserError(f"not valid UTF-8 (byte {err.start})", path, number) from None
            if not line.strip():
                continue
            try:
                obj = loads_strict(line)
            except json.JSONDecodeError as err:
                raise UserError(f"not valid JSON ({err.msg}, column {err.colno})", path, number) from None
            except JSONProblem as err:
                raise UserError(f"not valid JSON ({err})", path, number) from None
            except ValueError:  # an integer of thousands of digits
                raise UserError("not valid JSON (a number too long to read)", path, number) from None
            except RecursionError:
                raise UserError("not valid JSON (nested too deeply)", path, number) from None
            if storable and _SURROGATE_ESCAPE.search(raw):
                where = lone_surrogate_at(obj)
                if where is not None:
                    raise UserError("not valid Unicode: a \\u escape names half a surrogate pair", path, number,
                                    where or None)
            yield number, obj


_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")


def lone_surrogate_at(obj: Any, where: str = "") -> str | None:
    """Where (a field path, "" for the top) the first string holding a lone surrogate is: no UTF-8 file can store it."""
    if isinstance(obj, str):
        try:
            obj.encode("utf-8")
        except UnicodeEncodeError:
            return where
        return None
    if isinstance(obj, list):
        children = [(f"{where}[{i}]", value) for i, value in enumerate(obj)]
    elif isinstance(obj, dict):
        children = [(f"{where}.{_printable(key)}" if where else _printable(key), item)
                    for key, value in obj.items() for item in (key, value)]
    else:
        return None
    for child_where, child in children:
        found = lone_surrogate_at(child, child_where)
        if found is not None:
            return found
    return None


def _printable(text: str) -> str:
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def safe_name(name: str) -> str:
    """A file-name-safe form of `name` (a config's stem, an adapter's name): no separators, no leading dots,
    so a path built from it stays inside its folder ("..", "../x" and "/etc" become plain names)."""
    cleaned = re.sub(r"[^A-Za-z0-9_.-]+", "_", name).lstrip(".")[:80]
    return cleaned or "_"


def dumps_canonical(obj: Any) -> str:
    """The one JSON form used for hashing: sorted keys, no spaces, UTF-8 kept."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def temporary_glob(name_glob: str) -> str:
    """The glob of the temporary files atomic_open writes for files named `name_glob`."""
    return f".{name_glob}.*.tmp"


class WriteError(UserError):
    """A file that could not be written (disk full, no permission, a folder in the way); `errno` says why."""

    errno: int | None = None


def write_error(err: OSError, path: Path) -> WriteError:
    if isinstance(err, IsADirectoryError) or (path.is_dir() and not isinstance(err, PermissionError)):
        problem = WriteError("is a folder; expected a file name", path)
    elif isinstance(err, (NotADirectoryError, FileExistsError)):
        problem = WriteError("cannot create it: a file is in the way of its folder", path)
    elif isinstance(err, PermissionError):
        problem = WriteError("permission denied: cannot write here", path)
    else:
        problem = WriteError(f"cannot write ({err.strerror or err})", path)
    problem.errno = err.errno
    return problem


def _umask() -> int:
    """The process's umask (Linux reports it; elsewhere it is read by setting and restoring it)."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


@contextmanager
def atomic_open(path: Path, binary: bool = False) -> Iterator[IO]:
    """A file written under a temporary name and renamed into place only when the block succeeds,
    so readers never see half a file and an interrupted write leaves the old file (or none).

    The file gets the permissions any new file gets (0666 less the umask), not mkstemp's private 0600.
    A write the system refuses (disk full, no permission) is a WriteError naming the file.
    """
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")  # see temporary_glob
    except OSError as err:
        raise write_error(err, path) from None
    try:
        if hasattr(os, "fchmod"):
            os.fchmod(fd, 0o666 & ~_umask())
        with os.fdopen(fd, "wb" if binary else "w", **({} if binary else {"encoding": "utf-8", "newline": "\n"})) as out:
            yield out
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except OSError as err:
        Path(tmp).unlink(missing_ok=True)
        raise write_error(err, path) from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write(path: Path, data: str | bytes) -> None:
    with atomic_open(path, binary=isinstance(data, bytes)) as out:
        out.write(data)


def write_json(path: Path, obj: Any) -> None:
    with atomic_open(path) as out:
        dump_json(obj, out, sort_keys=True)


@dataclass(frozen=True)
class Members:
    """A JSON object given as a function producing its (key, value) pairs: dump_json writes them as they are
    produced, so a large object (a million per-document rows) never has to exist in memory at once."""

    pairs: Callable[[], Iterable[tuple[str, Any]]]


def dump_json(obj: Any, out: IO[str], *, sort_keys: bool = False, expand: int = 4) -> None:
    """`obj` as JSON: objects in the first `expand` levels one member per line, anything deeper on one line.

    Deeper values go through json's C encoder (`indent` would switch to its pure-Python one, tens of
    times slower on a large result), and a per-document row stays one line.
    """
    pieces: list[str] = []
    _dump(obj, _Buffered(out, pieces).write, sort_keys, expand, 0)
    out.write("".join(pieces) + "\n")


class _Buffered:
    """Joins many small writes into few large ones (a write call per per-document row would dominate)."""

    def __init__(self, out: IO[str], pieces: list[str], size: int = 4096):
        self._out, self._pieces, self._size = out, pieces, size

    def write(self, text: str) -> None:
        self._pieces.append(text)
        if len(self._pieces) >= self._size:
            self._out.write("".join(self._pieces))
            self._pieces.clear()


_ENCODERS = {sort: json.JSONEncoder(ensure_ascii=False, sort_keys=sort).encode for sort in (False, True)}


def _dump(obj: Any, write: Callable[[str], None], sort_keys: bool, expand: int, level: int) -> None:
    if isinstance(obj, Members):
        pairs: Iterable[tuple[str, Any]] = obj.pairs()
    elif isinstance(obj, dict) and level < expand:
        pairs = sorted(obj.items()) if sort_keys else obj.items()
    else:
        write(_ENCODERS[sort_keys](obj))
        return
    indent = "\n" + "  " * (level + 1)
    first = True
    for key, value in pairs:
        write(("{" if first else ",") + indent + _ENCODERS[False](str(key)) + ": ")
        _dump(value, write, sort_keys, expand, level + 1)
        first = False
    write("{}" if first else "\n" + "  " * level + "}")
