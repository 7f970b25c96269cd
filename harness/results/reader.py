"""The one reader of a results.json: strict JSON, then the fields every consumer relies on.

compare and history both read results through here, so a malformed file is refused with the same
one-line error (file and field) whichever command met it.
"""

from __future__ import annotations

import json
from pathlib import Path

from harness.errors import UserError
from harness.io import JSONProblem, loads_strict, read_text

RESULTS_FILE = "results.json"
_HINT = "(is this a harness results.json?)"


def read_results(path: Path) -> tuple[str, dict]:
    """The text and the checked results of a results.json, or of the run folder holding one.

    The text is kept as written: history stores it verbatim."""
    path = Path(path)
    if path.is_dir():
        path = path / RESULTS_FILE
    text = read_text(path)
    try:
        results = loads_strict(text)
    except json.JSONDecodeError as err:
        raise UserError(f"not valid JSON ({err.msg})", path, err.lineno) from None
    except JSONProblem as err:
        raise UserError(f"not valid JSON ({err})", path) from None
    check_results(results, path)
    return text, results


def load_results(path: Path) -> dict:
    """The checked results of a results.json (or its run folder)."""
    return read_results(path)[1]


def check_results(results: object, path: Path | str | None = None) -> None:
    """Refuse, naming the field, a results object without what compare, history and the report read."""
    if not isinstance(results, dict):
        raise UserError(f"expected a JSON object {_HINT}", path)
    for name in ("signature", "gold_sha256"):
        if not isinstance(results.get(name), str) or not results[name]:
            raise UserError(f"missing or not a string {_HINT}", path, None, name)
    n_documents = results.get("n_documents")
    if not isinstance(n_documents, int) or isinstance(n_documents, bool) or n_documents < 0:
        raise UserError(f"missing or not a whole number {_HINT}", path, None, "n_documents")
    if not isinstance(results.get("systems"), dict):
        raise UserError(f"missing or not an object {_HINT}", path, None, "systems")
    for name, system in results["systems"].items():
        if not isinstance(system, dict) or not isinstance(system.get("per_doc"), dict):
            raise UserError(f"no per-document scores {_HINT}", path, None, f"systems.{name}.per_doc")
