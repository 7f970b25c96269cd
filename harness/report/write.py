"""Write a run's results folder: results.json, tables, decision log, sensitivity tables, plots and report.html.

Every file is written atomically, and results.json last, so a folder with a results.json is complete.
All tables are rendered from the final results dict (the one source of numbers).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from harness.io import atomic_open, atomic_write, write_error, write_json
from harness.records import Corpus, Prediction

TABLE_FILES = ("leaderboard.txt", "leaderboard.md", "leaderboard.csv", "leaderboard.json", "per_doc.md",
               "per_doc.csv", "decisions.jsonl", "sensitivity.md", "sensitivity.csv", "report.html")
# and, for a corpus of more than html.PAGE_DOCUMENTS documents, report/documents-NNNN.html


def write_outputs(out_dir: Path, results: dict, evaluation, corpus: Corpus, predictions: list[Prediction], *,
                  trend: Sequence = ()) -> Path:
    """Write everything for one run into out_dir; returns the path of results.json.

    `results` are the run's final results (`Evaluation.final_results`: the report renders, it computes no
    number); `trend` is the release-history trend the report charts (harness.history.report_trend: its caller
    owns the database, the report never opens it).
    The decision log and the report's pages are written as they are produced (one document's decisions,
    one page at a time), so memory does not grow with the size of the report."""
    from harness.evaluate import doc_decisions
    from harness.history_plot import trend_svg
    from harness.report import html, plots, run_tables

    out_dir = Path(out_dir)
    given = {(p.doc_id, p.system): p for p in predictions}
    scores = {(s.system, s.doc_id): s for s in evaluation.doc_scores}
    drawn = plots.all_plots(results)

    files: dict[str, str | bytes] = {
        "leaderboard.txt": run_tables.leaderboard_text(results),
        "leaderboard.md": run_tables.leaderboard_markdown(results),
        "leaderboard.csv": run_tables.leaderboard_csv(results),
        "leaderboard.json": json.dumps(run_tables.leaderboard(results), indent=2, ensure_ascii=False) + "\n",
        "per_doc.md": run_tables.per_doc_markdown(results),
        "per_doc.csv": run_tables.per_doc_csv(results),
        "sensitivity.md": run_tables.sensitivity_markdown(results),
        "sensitivity.csv": run_tables.sensitivity_csv(results),
    }
    for name, formats in drawn.items():
        for fmt, data in formats.items():
            files[f"plots/{name}.{fmt}"] = data
    results_path = out_dir / "results.json"
    _remove_earlier(out_dir)  # an earlier run's must not sit beside this run's half-written files
    for name, data in files.items():
        atomic_write(out_dir / name, data)
    with atomic_open(out_dir / "decisions.jsonl") as out:
        for score in evaluation.doc_scores:
            for row in doc_decisions(score, given.get((score.doc_id, score.system))):
                out.write(json.dumps(row, ensure_ascii=False) + "\n")

    def decisions(system: str, doc_id: str) -> list[dict]:
        score = scores.get((system, doc_id))
        return doc_decisions(score, given.get((doc_id, system))) if score else []

    detail = html.Detail(given, decisions)
    for name, page in html.report_files(results, corpus, detail, drawn, results.get("manifest"), trend_svg(trend)):
        atomic_write(out_dir / name, page)
    write_json(results_path, results)
    return results_path


def _remove_earlier(out_dir: Path) -> None:
    """results.json goes first (a folder holding one holds a complete run), then the report pages of an
    earlier run, which this run's page count may not overwrite."""
    from harness.report.html import PAGES_FOLDER

    try:
        (out_dir / "results.json").unlink(missing_ok=True)
        for page in (out_dir / PAGES_FOLDER).glob("documents-*.html"):
            page.unlink()
    except OSError as err:
        raise write_error(err, out_dir / "results.json") from None
