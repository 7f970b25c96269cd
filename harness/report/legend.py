"""What every short column header and mark in a table means: one registry, rendered under each table.

A reader of a leaderboard in a pull request should not need the source to know what `w.R` or `dup` is;
every table lists, under it, the abbreviations it uses.
"""

from __future__ import annotations

from collections.abc import Iterable

from harness.results.metrics import METRICS

NOTES: dict[str, str] = {
    # leaderboard and per-document columns: the metrics (their meaning lives in the metric registry), then the rest
    **{m.label: m.description for m in METRICS},
    "F1 ci95 docs+claims": "95% interval of F1 from a nested bootstrap: documents, then claims within each",
    "fail": "documents the system failed on (scored as empty output)",
    "missing": "documents with no prediction (scored as empty output)",
    "tp": "true positives: predictions matched to a gold claim",
    "fp": "false positives: predictions matched to none",
    "fn": "false negatives: gold claims no prediction matched",
    "doc_id": "document id",
    "failure": "why the system produced no output for this document",
    # compare
    "p (docs)": "two-sided p-value of the paired test over documents",
    "p floor": "smallest p-value the paired test could reach with this many documents",
    "p < alpha": "which paired test found the difference significant: documents and/or claims (McNemar)",
    "tolerance": "largest drop allowed before the metric counts as a regression (absolute)",
    "delta": "candidate minus baseline",
    "better": "which system the difference favours where a paired test finds it significant",
    # marks inside cells
    "[lo, hi]": "95% bootstrap interval over documents",
    "n/a": "not measured: nothing to measure it on (no gold claims, no numbers stated, no such task)",
    "(ceiling)": "reads the gold answers: an upper bound, not a competitor; listed after the competitors",
}


def entries(columns: Iterable[str], marks: Iterable[str] = ()) -> list[tuple[str, str]]:
    """(term, meaning) for each column and mark that has a note, in the order given, each once."""
    out, seen = [], set()
    for term in [*columns, *marks]:
        if term in NOTES and term not in seen:
            seen.add(term)
            out.append((term, NOTES[term]))
    return out


def text(columns: Iterable[str], marks: Iterable[str] = ()) -> str:
    """The legend under a terminal table: one `term: meaning` per line."""
    items = entries(columns, marks)
    width = max((len(term) for term, _ in items), default=0)
    return "\n".join(f"  {term.ljust(width)}  {meaning}" for term, meaning in items)


def markdown(columns: Iterable[str], marks: Iterable[str] = ()) -> str:
    """The legend under a Markdown table: one line, terms in code spans."""
    return " · ".join(f"`{term}` {meaning}" for term, meaning in entries(columns, marks))


def html(columns: Iterable[str], marks: Iterable[str] = ()) -> str:
    from html import escape

    items = "".join(f"<dt>{escape(term)}</dt><dd>{escape(meaning)}</dd>" for term, meaning in entries(columns, marks))
    return f'<dl class="legend">{items}</dl>' if items else ""


def cell_marks(cells: Iterable[object]) -> list[str]:
    """The marks that occur in a table's cells (an interval, n/a, a ceiling), so only those are explained."""
    marks = set()
    for cell in cells:
        if cell is None or cell == "n/a":
            marks.add("n/a")
        elif isinstance(cell, str):
            if " [" in cell and cell.endswith("]"):
                marks.add("[lo, hi]")
            if cell.endswith("(ceiling)"):
                marks.add("(ceiling)")
    return [m for m in ("[lo, hi]", "n/a", "(ceiling)") if m in marks]
