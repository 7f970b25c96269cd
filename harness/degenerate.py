"""Outputs that score 0 without failing: a system that answers nothing, or the same thing, for every document.

Such a run has "no failures" and a row of zeros, which reads like a bad model when it is a broken
prompt or pipeline (a small model copying the prompt's example answer back, an empty response). The
run summary and the report warn about it instead of letting the zeros speak for themselves.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from harness.records import Prediction

PREVIEW_CHARS = 80


def degenerate_outputs(predictions: Iterable[Prediction]) -> dict[str, list[str]]:
    """system → warnings, for each task whose every answered document got an empty output, or (two or more
    documents) the very same output. Failed documents are left out: they are reported as failures."""
    answered: dict[tuple[str, str], list] = {}
    for p in predictions:
        if p.failure:
            continue
        if p.summary is not None:
            answered.setdefault((p.system, "summary"), []).append(p.summary.strip())
        if p.claims is not None:
            answered.setdefault((p.system, "claims"), []).append(tuple(c.text.strip() for c in p.claims))
    warnings: dict[str, list[str]] = {}
    for (system, task), outputs in answered.items():
        message = _degenerate(task, outputs)
        if message:
            warnings.setdefault(system, []).append(message)
    return warnings


def _degenerate(task: str, outputs: list) -> str | None:
    n = len(outputs)
    if all(not output for output in outputs):
        what = "an empty summary" if task == "summary" else "no claims"
        return f"{task}: {what} on every document ({n}); its zeros measure the pipeline, not the model"
    if n >= 2 and len(set(outputs)) == 1:
        shown = outputs[0] if task == "summary" else json.dumps(list(outputs[0]), ensure_ascii=False)
        if len(shown) > PREVIEW_CHARS:
            shown = shown[:PREVIEW_CHARS] + "…"
        return (f"{task}: the same output on every document ({n}): {shown} (a copied prompt example or a "
                "broken pipeline?)")
    return None
