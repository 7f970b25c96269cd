"""Outputs that score 0 without failing: a system that answers nothing, or the same thing, for every document.

Such a run has "no failures" and a row of zeros, which reads like a bad model when it is a broken
prompt or pipeline (a small model copying the prompt's example answer back, an empty response). The
run summary and the report warn about it instead of letting the zeros speak for themselves.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass

from harness.records import Prediction

PREVIEW_CHARS = 80


def degenerate_outputs(predictions: Iterable[Prediction]) -> dict[str, list[str]]:
    """system → warnings, for each task whose every answered document got an empty output, or (two or more
    documents) the very same output. Failed documents are left out: they are reported as failures."""
    watch = DegenerateWatch()
    for p in predictions:
        watch.add(p)
    return watch.warnings()


@dataclass
class _Seen:
    """What a system's outputs for one task have been so far: enough to tell, without keeping them."""

    n: int = 0
    first: object = None
    all_empty: bool = True
    all_same: bool = True


class DegenerateWatch:
    """degenerate_outputs over a stream: a few values per system and task, whatever the number of outputs."""

    def __init__(self) -> None:
        self._seen: dict[tuple[str, str], _Seen] = {}

    def add(self, p: Prediction) -> None:
        if p.failure:
            return
        if p.summary is not None:
            self._note(p.system, "summary", p.summary.strip())
        if p.claims is not None:
            self._note(p.system, "claims", tuple(c.text.strip() for c in p.claims))

    def _note(self, system: str, task: str, output) -> None:
        seen = self._seen.setdefault((system, task), _Seen())
        if seen.n == 0:
            seen.first = output
        seen.n += 1
        seen.all_empty &= not output
        seen.all_same &= output == seen.first

    def warnings(self) -> dict[str, list[str]]:
        warnings: dict[str, list[str]] = {}
        for (system, task), seen in self._seen.items():
            message = _degenerate(task, seen)
            if message:
                warnings.setdefault(system, []).append(message)
        return warnings


def _degenerate(task: str, seen: _Seen) -> str | None:
    n = seen.n
    if seen.all_empty:
        what = "an empty summary" if task == "summary" else "no claims"
        return f"{task}: {what} on every document ({n}); its zeros measure the pipeline, not the model"
    if n >= 2 and seen.all_same:
        shown = seen.first if task == "summary" else json.dumps(list(seen.first), ensure_ascii=False)
        if len(shown) > PREVIEW_CHARS:
            shown = shown[:PREVIEW_CHARS] + "…"
        return (f"{task}: the same output on every document ({n}): {shown} (a copied prompt example or a "
                "broken pipeline?)")
    return None
