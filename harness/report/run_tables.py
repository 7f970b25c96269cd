"""The tables of one run (leaderboard, per-document scores, threshold sensitivity), built only from the results dict.

Every number in results/RUN/*.{txt,md,csv,json} and in report.html comes through these rows,
so a table can never disagree with results.json.
"""

from __future__ import annotations

from harness.report import legend
from harness.report import systems as S
from harness.report.tables import NOT_MEASURED, csv_table, markdown_table, text_table
from harness.results import metrics as M

CI_NOTE = ("95% intervals are seeded bootstrap over documents. With few documents they are wide; "
           "differences smaller than the intervals are not evidence.")


def fmt(value: float | None) -> str:
    return NOT_MEASURED if value is None else f"{value:.3f}"


def fmt_ci(value: float | None, ci: list[float] | None) -> str:
    return fmt(value) if not ci else f"{fmt(value)} [{ci[0]:.3f}, {ci[1]:.3f}]"


# --------------------------------------------------------------------------- leaderboard

def leaderboard(results: dict) -> dict:
    """Systems × metrics with intervals: the structure behind leaderboard.{json,csv,md,txt}."""
    rows = []
    for name in S.ranked_systems(results):
        system = results["systems"][name]
        values = {}
        for metric in M.METRICS:
            if system.get(metric.task):
                values[metric.name] = {"value": M.system_value(system, metric), "ci95": M.system_ci(system, metric)}
        claims = system.get("claims") or {}
        if claims:
            values["claims.f1"]["ci95_docs_then_claims"] = claims.get("f1_ci95_docs_then_claims")
        rows.append({"system": name, "reads_gold": S.reads_gold(results, name), "metrics": values,
                     "failures": system.get("failures", 0), "missing": len(system.get("missing", [])),
                     "warnings": list(system.get("warnings") or [])})
    return {"signature": results["signature"], "gold_sha256": results["gold_sha256"],
            "n_documents": results["n_documents"], "tasks": M.tasks_present(results),
            "metrics": [m.name for m in M.METRICS], "systems": rows}


NESTED_CI = "F1 ci95 docs+claims"


def task_rows(board: dict, task: str) -> tuple[list[dict], list[str]]:
    """One row per system for one task's table: competitors best first, then the ceilings (marked)."""
    metrics = M.for_task(task)
    columns = ["system"] + [m.label for m in metrics] + ([NESTED_CI] if task == "claims" else []) \
        + ["fail", "missing"]
    primary = "claims.f1" if task == "claims" else "summary.rougeL"
    ranked = []
    for entry in board["systems"]:
        values = entry["metrics"]
        if not any(m.name in values for m in metrics):
            continue
        shown = entry["system"] + (S.CEILING_MARK if entry.get("reads_gold") else "")
        row: dict = {"system": shown, "fail": entry["failures"], "missing": entry["missing"]}
        for m in metrics:
            v = values[m.name]
            row[m.label] = fmt_ci(v["value"], v["ci95"]) if v["ci95"] else v["value"]
        if task == "claims":
            ci = values["claims.f1"].get("ci95_docs_then_claims")
            row[NESTED_CI] = f"[{ci[0]:.3f}, {ci[1]:.3f}]" if ci else None
        value = (values.get(primary) or {}).get("value")
        ranked.append(((bool(entry.get("reads_gold")), -(value if value is not None else -1.0)), row))
    ranked.sort(key=lambda item: item[0])  # stable: ties keep the board's order
    return [row for _, row in ranked], columns


def table_legend(rows: list[dict], columns: list[str], form: str = "text") -> str:
    """The legend for one table: its abbreviated columns and the marks its cells use."""
    marks = legend.cell_marks(r.get(c) for r in rows for c in columns)
    return {"text": legend.text, "markdown": legend.markdown, "html": legend.html}[form](columns, marks)


def warnings_lines(board: dict) -> list[str]:
    """Outputs that score 0 without a failure (empty, or the same for every document): said, not left to the zeros."""
    return [f"warning: {e['system']}: {w}" for e in board["systems"] for w in e.get("warnings", [])]


TASK_TITLES = {"summary": "Summaries (ROUGE F1, mean over documents)",
               "claims": "Claims (micro-averaged precision, recall and F1 over gold claims)"}


def leaderboard_text(results: dict) -> str:
    board = leaderboard(results)
    parts = []
    for task in board["tasks"]:
        rows, columns = task_rows(board, task)
        parts.append(text_table(rows, columns, title=TASK_TITLES[task]) + "\n" + table_legend(rows, columns))
    parts += ["\n".join(warnings_lines(board))] if warnings_lines(board) else []
    parts.append(f"n = {board['n_documents']} documents. {CI_NOTE}\nsignature: {board['signature']}")
    return "\n\n".join(parts) + "\n"


def leaderboard_markdown(results: dict, heading: str = "##") -> str:
    board = leaderboard(results)
    parts = [f"{heading} Leaderboard"]
    for task in board["tasks"]:
        rows, columns = task_rows(board, task)
        parts.append(f"{heading}# {TASK_TITLES[task]}\n\n{markdown_table(rows, columns)}\n\n"
                     f"{table_legend(rows, columns, 'markdown')}")
    parts += [f"> **{w}**" for w in warnings_lines(board)]
    parts.append(f"n = {board['n_documents']} documents. {CI_NOTE}\n\n"
                 f"<sub>gold `{board['gold_sha256'][:12]}` · signature `{board['signature']}`</sub>")
    return "\n\n".join(parts) + "\n"


# Intervals are named METRIC.ci95 (bootstrap over documents) and METRIC.ci95_docs_then_claims (nested), bounds .lo/.hi.
INTERVAL_KINDS = ("ci95", "ci95_docs_then_claims")


def leaderboard_csv(results: dict) -> str:
    """The leaderboard as CSV for spreadsheets and scripts: a column per measured metric and per interval
    bound, only where some system has a value, so no column is all empty."""
    board = leaderboard(results)
    columns = ["system"]
    rows = []
    for m in M.METRICS:
        if any(m.name in e["metrics"] for e in board["systems"]):
            columns.append(m.name)
            for kind in INTERVAL_KINDS:
                if any((e["metrics"].get(m.name) or {}).get(kind) for e in board["systems"]):
                    columns += [f"{m.name}.{kind}.lo", f"{m.name}.{kind}.hi"]
    columns += ["failures", "missing", "reads_gold"]
    for entry in board["systems"]:
        row = {"system": entry["system"], "failures": entry["failures"], "missing": entry["missing"],
               "reads_gold": entry["reads_gold"]}
        for name, v in entry["metrics"].items():
            row[name] = v["value"]
            for kind in INTERVAL_KINDS:
                if v.get(kind):
                    row[f"{name}.{kind}.lo"], row[f"{name}.{kind}.hi"] = v[kind]
        rows.append(row)
    return csv_table(rows, columns)


# --------------------------------------------------------------------------- per document

PER_DOC_METRICS = tuple(M.BY_NAME[n] for n in (
    "summary.rouge1", "summary.rouge2", "summary.rougeL", "summary.rougeLsum", "summary.claim_coverage",
    "summary.numeric_faithfulness", "claims.precision", "claims.recall", "claims.f1", "claims.weighted_recall"))


def per_doc(results: dict) -> list[dict]:
    """One row per (system, document), keyed by metric name, plus claim counts and failure."""
    rows = []
    for name in S.ranked_systems(results):
        for doc_id, entry in sorted(results["systems"][name]["per_doc"].items()):
            row: dict = {"system": name, "doc_id": doc_id, "reads_gold": S.reads_gold(results, name),
                         "summary.scored": "summary" in entry, "claims.scored": "claims" in entry}
            for m in PER_DOC_METRICS:
                row[m.name] = M.doc_value(entry, m)
            claims = entry.get("claims")
            for key in ("tp", "fp", "fn"):
                row[f"claims.{key}"] = claims[key] if claims else None
            row["failure"] = entry.get("failure", "")
            rows.append(row)
    return rows


def per_doc_columns(rows: list[dict]) -> list[str]:
    """The metrics of the tasks scored on some document: a metric not measured there shows as n/a, not absent."""
    columns = ["system", "doc_id"]
    scored = {task for r in rows for task in ("summary", "claims") if r.get(f"{task}.scored")}
    for key in [m.name for m in PER_DOC_METRICS] + ["claims.tp", "claims.fp", "claims.fn"]:
        if key.split(".")[0] in scored:
            columns.append(key)
    return columns + ["failure"]


def labelled(rows: list[dict], columns: list[str]) -> tuple[list[dict], list[str]]:
    """Rows for a table people read: short column labels; a system that reads the gold marked as a ceiling."""
    labels = {m.name: m.label for m in M.METRICS}
    labels.update({"claims.tp": "tp", "claims.fp": "fp", "claims.fn": "fn"})
    new_columns = [labels.get(c, c) for c in columns]
    named = [{labels.get(k, k): v for k, v in r.items() if not k.endswith(".scored")} for r in rows]
    for row in named:
        if row.pop("reads_gold", False):
            row["system"] += S.CEILING_MARK
    return named, new_columns


def per_doc_markdown(results: dict) -> str:
    rows = per_doc(results)
    named, columns = labelled(rows, per_doc_columns(rows))
    return f"## Per-document scores\n\n{markdown_table(named, columns)}\n\n{table_legend(named, columns, 'markdown')}\n"


def per_doc_csv(results: dict) -> str:
    rows = per_doc(results)
    return csv_table(rows, per_doc_columns(rows) + ["reads_gold"])


# --------------------------------------------------------------------------- threshold sensitivity

SENSITIVITY_COLUMNS = ["system", "threshold", "precision", "recall", "f1", "tp", "fp", "fn"]


def sensitivity_rows(results: dict, mark_ceilings: bool = True) -> list[dict]:
    sens = results.get("sensitivity") or {}
    rows = []
    for name in S.ranked_systems(results):
        for row in (sens.get("systems") or {}).get(name, []):
            rows.append({"system": S.display_name(results, name) if mark_ceilings else name, **row})
    return rows


def sensitivity_absent(results: dict) -> str:
    """Why there is no sensitivity table: no claims were scored, or the results file holds none (n/a, not 0)."""
    if "sensitivity" not in results:
        return "n/a: these results hold no threshold sensitivity."
    return "No system extracted claims."


def sensitivity_markdown(results: dict) -> str:
    sens = results.get("sensitivity") or {}
    rows = sensitivity_rows(results)
    if not rows:
        return f"## Match-threshold sensitivity\n\n{sensitivity_absent(results)}\n"
    run = sens.get("run_threshold")
    wide_columns = ["system"] + [f"F1 @{t:.2f}" + (" (run)" if run is not None and abs(t - run) < 1e-9 else "")
                                 for t in sens["thresholds"]]
    wide = []
    for name in [n for n in S.ranked_systems(results) if n in sens["systems"]]:
        wide.append({"system": S.display_name(results, name),
                     **{c: r["f1"] for c, r in zip(wide_columns[1:], sens["systems"][name])}})
    return ("## Match-threshold sensitivity\n\nClaim F1 when the whole run is rescored at each match threshold "
            f"(the run used {fmt(run)}).\n\n{markdown_table(wide, wide_columns)}\n\n"
            f"{markdown_table(rows, SENSITIVITY_COLUMNS)}\n\n{table_legend(rows, SENSITIVITY_COLUMNS, 'markdown')}\n")


def sensitivity_csv(results: dict) -> str:
    return csv_table(sensitivity_rows(results, mark_ceilings=False), SENSITIVITY_COLUMNS)
