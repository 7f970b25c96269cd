"""Plain tables in three forms (terminal, Markdown, CSV) from one list of rows."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence


NOT_MEASURED = "n/a"


def _cell(value: object) -> str:
    if value is None:
        return NOT_MEASURED
    if isinstance(value, float):
        return f"{value:.3f}"
    return str(value)


def text_table(rows: Sequence[dict], columns: Sequence[str], title: str | None = None) -> str:
    cells = [[_cell(r.get(c)) for c in columns] for r in rows]
    widths = [max([len(c)] + [len(row[i]) for row in cells]) for i, c in enumerate(columns)]
    numeric = [all(_is_number(r.get(c)) for r in rows) for c in columns]

    def line(values: Sequence[str]) -> str:
        return "  ".join(v.rjust(w) if num else v.ljust(w) for v, w, num in zip(values, widths, numeric)).rstrip()

    out = [title] if title else []
    out += [line(columns), "  ".join("-" * w for w in widths)] + [line(row) for row in cells]
    return "\n".join(out)


# Markdown files are rendered (a PR comment, $GITHUB_STEP_SUMMARY), and cells hold text from models and users
# (failure messages, system names): HTML is shown as its characters, and "](" cannot open a link or an image.
_MARKDOWN_CELL = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", "|": "\\|", "\\": "\\\\", "\n": " ",
                                "\r": " "})


def markdown_cell(value: str) -> str:
    """Text for one Markdown table cell: no raw HTML, no inline link or image, one line."""
    return value.translate(_MARKDOWN_CELL).replace("](", "]\\(")


def markdown_table(rows: Sequence[dict], columns: Sequence[str]) -> str:
    esc = markdown_cell
    head = "| " + " | ".join(esc(c) for c in columns) + " |"
    rule = "|" + "|".join("---:" if all(_is_number(r.get(c)) for r in rows) else "---" for c in columns) + "|"
    body = ["| " + " | ".join(esc(_cell(r.get(c))) for c in columns) + " |" for r in rows]
    return "\n".join([head, rule, *body])


def csv_table(rows: Sequence[dict], columns: Sequence[str]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    for r in rows:
        writer.writerow(["" if r.get(c) is None else r.get(c) for c in columns])
    return buffer.getvalue()


def _is_number(value: object) -> bool:
    return value is None or (isinstance(value, (int, float)) and not isinstance(value, bool))
