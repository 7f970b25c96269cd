"""Two systems of one run, paired document by document: is A better than B on this gold?

The same paired tests as `harness compare` (sign-flip permutation or paired bootstrap over documents,
exact McNemar over the gold claims one system matched and the other did not), the same honesty about
sample size: every p-value comes with the smallest one the sample could reach. It reports; it never gates.
"""

from __future__ import annotations

import json

from harness.compare import CompareOptions, fmt_num, fmt_p, paired_comparison
from harness.errors import UserError


def compare_two_systems(results: dict, a: str, b: str, options: CompareOptions = CompareOptions(),
                        label: str = "run") -> dict:
    """The comparison of systems `a` and `b` of one results dict, JSON-ready (what --json prints)."""
    from harness.aggregate import can_reach
    from harness.errors import unknown_name_error
    from harness.report.systems import reads_gold
    from harness.results.metrics import BY_NAME

    systems = results["systems"]
    for name in (a, b):
        if name not in systems:
            raise unknown_name_error("system", name, systems, field_name="--systems")
    if a == b:
        raise UserError("give two different systems", None, None, "--systems")
    shared = [t for t in ("summary", "claims") if systems[a].get(t) and systems[b].get(t)]
    if not shared:
        raise UserError(f"{a} and {b} share no task (nothing to pair)", None, None, "--systems")
    paired = paired_comparison(systems[a], systems[b], options)
    rows = []
    for row in paired["metrics"]:
        metric = BY_NAME[row["metric"]]
        if metric.task not in shared:
            continue
        by = row.get("significant_by", [])
        better = None
        if by and row["delta"]:
            b_ahead = (row["delta"] > 0) == metric.higher_is_better
            better = b if b_ahead else a
        rows.append({"metric": row["metric"], "a": row["baseline"], "b": row["candidate"], "delta": row["delta"],
                     "higher_is_better": metric.higher_is_better, "test": row["test"], "n": row.get("n"),
                     "p_value": row["p_value"], "p_floor": row["p_floor"], "significant_by": by, "better": better})
    claim_test = paired["claim_test"]
    if claim_test is not None:
        claim_test = {"test": claim_test["test"], "only_a": claim_test["only_baseline"],
                      "only_b": claim_test["only_candidate"], "discordant": claim_test["discordant"],
                      "p_value": claim_test["p_value"], "p_floor": claim_test["p_floor"]}
    notes = []
    n, floor = paired["documents"], paired["document_test_floor"]
    if n and not can_reach(options.alpha, floor):
        notes.append(f"with {n} paired documents the document-level test cannot reach p < {options.alpha:g} "
                     f"(smallest possible p = {floor:.3g})")
    if claim_test and claim_test["discordant"] and not can_reach(options.alpha, claim_test["p_floor"]):
        notes.append(f"only {claim_test['discordant']} gold claim(s) differ; the claim-level test cannot reach "
                     f"p < {options.alpha:g} (smallest possible p = {claim_test['p_floor']:.3g})")
    notes += [f"{name} reads the gold answers: it is a ceiling, not a competitor" for name in (a, b)
              if reads_gold(results, name)]
    flips = paired["flipped"]
    return {"run": label, "gold_sha256": results["gold_sha256"], "signature": results["signature"],
            "a": a, "b": b, "documents": n, "document_test_floor": floor, "alpha": options.alpha, "metrics": rows,
            "claim_test": claim_test,
            "matched_only_by": {"a": flips["matched_to_missed"], "b": flips["missed_to_matched"]}, "notes": notes}


def _rows(comparison: dict) -> tuple[list[dict], list[str]]:
    a, b = comparison["a"], comparison["b"]
    columns = ["metric", a, b, "delta", "p (docs)", "p floor", "p < alpha", "better"]
    rows = [{"metric": r["metric"], a: r["a"], b: r["b"], "delta": fmt_num(r["delta"], signed=True),
             "p (docs)": fmt_p(r["p_value"]), "p floor": fmt_p(r["p_floor"]),
             "p < alpha": "+".join(r["significant_by"]), "better": r["better"] or ""} for r in comparison["metrics"]]
    return rows, columns


def _legend(rows: list[dict], columns: list[str], render) -> str:
    """The shared legend, less `delta` (here: B minus A, said under the table by the caller)."""
    from harness.report import legend

    return render([c for c in columns if c != "delta"], legend.cell_marks(r.get(c) for r in rows for c in columns))


def _claim_line(comparison: dict) -> str | None:
    ct = comparison["claim_test"]
    if not ct:
        return None
    return (f"gold claims matched only by {comparison['a']}: {ct['only_a']}, only by {comparison['b']}: "
            f"{ct['only_b']}; exact McNemar p = {fmt_p(ct['p_value'])} (smallest possible {fmt_p(ct['p_floor'])})")


def verdict(comparison: dict) -> str:
    won = [f"{r['better']} on {r['metric']} ({'+'.join(r['significant_by'])})" for r in comparison["metrics"]
           if r["better"]]
    return ("better: " + "; ".join(won)) if won else \
        f"no difference a paired test finds significant at alpha {comparison['alpha']:g}"


def to_text(comparison: dict) -> str:
    from harness.report import legend
    from harness.report.tables import text_table

    rows, columns = _rows(comparison)
    out = [f"run: {comparison['run']}",
           f"{comparison['b']} against {comparison['a']}, paired over {comparison['documents']} documents", "",
           text_table(rows, columns), _legend(rows, columns, legend.text),
           f"  delta      {comparison['b']} minus {comparison['a']}", ""]
    line = _claim_line(comparison)
    out += [line] if line else []
    out += [f"note: {n}" for n in comparison["notes"]]
    out.append(f"result: {verdict(comparison)}")
    return "\n".join(out) + "\n"


def to_markdown(comparison: dict) -> str:
    from harness.report import legend
    from harness.report.tables import markdown_table

    rows, columns = _rows(comparison)
    out = [f"## {comparison['b']} against {comparison['a']}", "",
           f"Paired over {comparison['documents']} documents of `{comparison['run']}`.", "",
           markdown_table(rows, columns), "",
           _legend(rows, columns, legend.markdown) + f" · `delta` {comparison['b']} minus {comparison['a']}", ""]
    line = _claim_line(comparison)
    out += [f"- {line}"] if line else []
    out += [f"- note: {n}" for n in comparison["notes"]]
    out.append(f"\n**Result:** {verdict(comparison)}")
    return "\n".join(out) + "\n"


def to_json(comparison: dict) -> str:
    return json.dumps(comparison, indent=2, ensure_ascii=False, allow_nan=False) + "\n"


# --------------------------------------------------------------------------- the report's section

def best_against_rest(results: dict, options: CompareOptions = CompareOptions()) -> dict[str, list[dict]]:
    """task → the best competitor on the task's primary metric paired against each other competitor."""
    from harness.report.systems import ranked_systems, reads_gold

    out: dict[str, list[dict]] = {}
    for task, primary in (("summary", "summary.rougeL"), ("claims", "claims.f1")):
        competitors = [n for n in ranked_systems(results)
                       if results["systems"][n].get(task) and not reads_gold(results, n)]
        value = {n: _primary(results["systems"][n], primary) for n in competitors}
        competitors.sort(key=lambda n: -(value[n] if value[n] is not None else -1.0))
        if len(competitors) < 2:
            continue
        best = competitors[0]
        out[task] = [{"primary": primary, **_pair_summary(compare_two_systems(results, other, best, options),
                                                          primary)} for other in competitors[1:]]
    return out


def _primary(system: dict, name: str) -> float | None:
    from harness.results.metrics import BY_NAME, system_value

    return system_value(system, BY_NAME[name])


def _pair_summary(comparison: dict, primary: str) -> dict:
    row = next(r for r in comparison["metrics"] if r["metric"] == primary)
    ct = comparison["claim_test"]
    return {"best": comparison["b"], "other": comparison["a"], "best_value": row["b"], "other_value": row["a"],
            "delta": row["delta"], "p_value": row["p_value"], "p_floor": row["p_floor"],
            "mcnemar_p": ct["p_value"] if ct else None, "mcnemar_floor": ct["p_floor"] if ct else None,
            "significant_by": row["significant_by"]}
