"""Rows for the leaderboard and per-document tables, taken from the results JSON (one source of numbers)."""

from __future__ import annotations

SUMMARY_COLUMNS = ["system", "R1", "R2", "RL", "RLsum", "RL 95% CI", "coverage", "w.coverage", "num.faithful"]
CLAIM_COLUMNS = ["system", "P", "R", "F1", "F1 95% CI", "macro F1", "lenient R", "w.R", "dup", "excluded", "fail"]


def _ci(ci: list[float] | None) -> str:
    return f"[{ci[0]:.3f}, {ci[1]:.3f}]" if ci else "–"


def summary_rows(results: dict) -> list[dict]:
    rows = []
    for name, system in results["systems"].items():
        s = system.get("summary")
        if not s:
            continue
        rows.append({
            "system": name, "R1": s["rouge1"]["fmeasure"], "R2": s["rouge2"]["fmeasure"],
            "RL": s["rougeL"]["fmeasure"], "RLsum": s["rougeLsum"]["fmeasure"], "RL 95% CI": _ci(s["rougeL"]["ci95"]),
            "coverage": s["claim_coverage"], "w.coverage": s["weighted_claim_coverage"],
            "num.faithful": s["numeric_faithfulness"],
        })
    return sorted(rows, key=lambda r: -r["RL"])


def claim_rows(results: dict) -> list[dict]:
    rows = []
    for name, system in results["systems"].items():
        c = system.get("claims")
        if not c:
            continue
        rows.append({
            "system": name, "P": c["precision"], "R": c["recall"], "F1": c["f1"], "F1 95% CI": _ci(c["f1_ci95"]),
            "macro F1": c["macro_f1"], "lenient R": c["lenient_recall"], "w.R": c["weighted_recall"],
            "dup": c["duplicate_rate"], "excluded": c["excluded_content"], "fail": system.get("failures", 0),
        })
    return sorted(rows, key=lambda r: -r["F1"])


def per_doc_rows(results: dict) -> list[dict]:
    rows = []
    for name, system in results["systems"].items():
        for doc_id, entry in system["per_doc"].items():
            s, c = entry.get("summary"), entry.get("claims")
            rows.append({
                "system": name, "doc_id": doc_id,
                "RL": s["rougeL"]["fmeasure"] if s else None,
                "coverage": s["claim_coverage"] if s else None,
                "P": c["precision"] if c else None, "R": c["recall"] if c else None, "F1": c["f1"] if c else None,
                "failure": entry.get("failure", ""),
            })
    return rows


PER_DOC_COLUMNS = ["system", "doc_id", "RL", "coverage", "P", "R", "F1", "failure"]
