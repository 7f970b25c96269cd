"""Compare two scored runs: per-metric deltas, paired tests over documents and over gold claims, regression verdicts.

`compare_results(baseline, candidate, options)` works on two loaded results dicts, wherever they came
from (two results.json files, or a run and one looked up in the history database); `verdict` says what
the comparison concludes. Reading files, printing and exit codes are the command line's job (harness.cli).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path

from harness.errors import UserError
from harness.results.reader import check_results
from harness.results.regression import DEFAULT_TOLERANCE, EPSILON, exceeds, smallest_reachable_p, worse_by
from harness.results.signature import Signature

DEFAULT_ALPHA = 0.05


@dataclass(frozen=True)
class CompareOptions:
    tolerances: dict = field(default_factory=dict)  # metric name → tolerance, or None (not gated)
    default_tolerance: float = DEFAULT_TOLERANCE
    alpha: float = DEFAULT_ALPHA
    require_significance: bool = False
    allow_different_gold: bool = False
    allow_different_signature: bool = False
    systems: tuple[str, ...] = ()  # empty: every system
    n_boot: int = 10000
    seed: int = 12345

    def tolerance(self, metric: str) -> float | None:
        return self.tolerances.get(metric, self.default_tolerance)


# --------------------------------------------------------------------------- checks

def _signature(results: dict, label: str) -> Signature:
    try:
        return Signature.parse(results["signature"])
    except ValueError as err:
        raise UserError(str(err), label, None, "signature") from None


def compatibility(baseline: dict, candidate: dict, options: CompareOptions,
                  labels: tuple[str, str] = ("baseline", "candidate")) -> list[str]:
    """Refuse runs that cannot be compared (UserError), or return the marks for an allowed mismatch."""
    marks = []
    gold_a, gold_b = baseline["gold_sha256"], candidate["gold_sha256"]
    if gold_a != gold_b:
        if not options.allow_different_gold:
            raise UserError(f"the runs were scored on different gold ({gold_a[:12]} vs {gold_b[:12]}); "
                            "pass --allow-different-gold to compare anyway")
        marks.append(f"DIFFERENT GOLD: baseline {gold_a[:12]}, candidate {gold_b[:12]}; deltas mix gold "
                     "changes with system changes")
    differ = _signature(baseline, labels[0]).differences(_signature(candidate, labels[1]))
    if differ:
        if not options.allow_different_signature:
            raise UserError(f"the runs have different scoring signatures ({'; '.join(differ)}); "
                            "pass --allow-different-signature to compare anyway")
        marks.append(f"DIFFERENT SCORING SIGNATURE: {'; '.join(differ)}; the numbers are not directly comparable")
    return marks


# --------------------------------------------------------------------------- the comparison

def compare_results(baseline: dict, candidate: dict, options: CompareOptions = CompareOptions(),
                    labels: tuple[str, str] = ("baseline", "candidate")) -> dict:
    """The whole comparison as a JSON-ready dict (what --json prints and every renderer reads)."""
    from harness.aggregate import can_reach

    check_results(baseline, labels[0])
    check_results(candidate, labels[1])
    marks = compatibility(baseline, candidate, options, labels)
    wanted = set(options.systems)
    names_a = {n for n in baseline["systems"] if not wanted or n in wanted}
    names_b = {n for n in candidate["systems"] if not wanted or n in wanted}
    unknown = wanted - names_a - names_b
    if unknown:
        raise UserError(f"no system named {sorted(unknown)[0]!r} in either run", None, None, "--system")
    systems = {name: paired_comparison(baseline["systems"][name], candidate["systems"][name], options)
               for name in sorted(names_a & names_b)}
    for name, entry in systems.items():  # a system given the gold is a ceiling in either run
        entry["reads_gold"] = bool(baseline["systems"][name].get("reads_gold")
                                   or candidate["systems"][name].get("reads_gold"))
    regressions = [{"system": name, "metric": row["metric"], "baseline": row["baseline"],
                    "candidate": row["candidate"], "delta": row["delta"], "tolerance": row["tolerance"],
                    "p_value": row["p_value"], "reason": row["status"]}
                   for name, s in systems.items() for row in s["metrics"] if row["regression"]]
    for name in sorted(names_a - names_b):
        regressions.append({"system": name, "metric": None, "baseline": None, "candidate": None, "delta": None,
                            "tolerance": None, "p_value": None, "reason": "system missing from the candidate"})
    notes = []
    unreachable: dict[tuple[int, float], list[str]] = {}
    for name, s in systems.items():
        if s["documents"] and not can_reach(options.alpha, s["document_test_floor"]):
            unreachable.setdefault((s["documents"], s["document_test_floor"]), []).append(name)
    for (n, floor), names in unreachable.items():
        who = "every system" if len(names) == len(systems) else ", ".join(names)
        notes.append(f"{who}: with {n} paired documents the document-level test cannot reach "
                     f"p < {options.alpha:g} (smallest possible p = {floor:.3g})")
    for name, s in systems.items():
        ct = s.get("claim_test")
        if ct and ct["discordant"] and not can_reach(options.alpha, ct["p_floor"]):
            notes.append(f"{name}: only {ct['discordant']} gold claim(s) flipped; the claim-level test cannot "
                         f"reach p < {options.alpha:g} (smallest possible p = {ct['p_floor']:.3g})")
    return {
        "baseline": _run_info(baseline, labels[0]),
        "candidate": _run_info(candidate, labels[1]),
        "marks": marks,
        "alpha": options.alpha,
        "require_significance": options.require_significance,
        "default_tolerance": options.default_tolerance,
        "systems": systems,
        "only_in_baseline": sorted(names_a - names_b),
        "only_in_candidate": sorted(names_b - names_a),
        "regressions": regressions,
        "notes": notes,
    }


def _run_info(results: dict, label: str) -> dict:
    manifest = results.get("manifest") or {}
    info = {"label": label, "gold_sha256": results["gold_sha256"], "signature": results["signature"],
            "n_documents": results["n_documents"]}
    for key in ("tag", "git_commit", "harness_version"):
        value = results.get(key) or manifest.get(key)
        if isinstance(value, str):
            info[key] = value
    return info


def paired_comparison(a: dict, b: dict, options: CompareOptions) -> dict:
    """Two systems' result entries paired document by document (one system in two runs, or two systems of
    one run): each metric's values, delta (b - a), paired test, and the tolerance verdict."""
    from harness.aggregate import paired_test
    from harness.results import metrics as M

    docs = sorted(set(a["per_doc"]) & set(b["per_doc"]))
    claim_test, flipped = claim_flip_test(a, b, docs)
    rows = []
    for metric in M.METRICS:
        if not a.get(metric.task) and not b.get(metric.task):
            continue
        va, vb = M.system_value(a, metric), M.system_value(b, metric)
        tolerance = options.tolerance(metric.name)
        row = {"metric": metric.name, "baseline": va, "candidate": vb, "delta": None,
               "higher_is_better": metric.higher_is_better, "tolerance": tolerance, "test": None,
               "p_value": None, "p_floor": None, "significant": False, "regression": False, "status": "n/a"}
        rows.append(row)
        if va is None:
            row["status"] = "new in candidate" if vb is not None else "n/a"
            continue
        if vb is None:
            task_missing = not b.get(metric.task)
            row["status"] = "missing from the candidate" if task_missing else "n/a in candidate"
            row["regression"] = task_missing and tolerance is not None
            continue
        row["delta"] = vb - va
        pairs = [(M.doc_value(a["per_doc"][d], metric), M.doc_value(b["per_doc"][d], metric)) for d in docs]
        pairs = [(x, y) for x, y in pairs if x is not None and y is not None]
        test = paired_test([x for x, _ in pairs], [y for _, y in pairs], options.n_boot, options.seed)
        row["test"] = test["test"]
        row["n"] = test["n"]
        row["p_value"], row["p_floor"] = test["p_value"], test["p_floor"]
        by = []
        if test["p_value"] is not None and test["p_value"] < options.alpha:
            by.append("documents")
        if metric.claim_level and claim_test and claim_test["p_value"] < options.alpha:
            by.append("claims")
        row["significant"] = bool(by)
        row["significant_by"] = by
        worse = worse_by(va, vb, metric.direction)
        dropped = exceeds(worse, tolerance)
        row["regression"] = dropped and (row["significant"] or not options.require_significance)
        if dropped:
            row["status"] = "REGRESSION" if row["regression"] else "drop, not significant"
        elif tolerance is not None and worse > EPSILON:
            row["status"] = "within tolerance"
        elif worse < -EPSILON:
            row["status"] = "improved"
        else:
            row["status"] = "ok" if tolerance is not None else "not gated"
    n = len(docs)
    floor = smallest_reachable_p(n, n_boot=options.n_boot)
    return {"documents": n, "document_test_floor": floor, "metrics": rows, "claim_test": claim_test,
            "flipped": flipped}


def claim_flip_test(a: dict, b: dict, docs: list[str]) -> tuple[dict | None, dict]:
    """Exact McNemar on gold claims matched by exactly one of the runs; and which claims flipped."""
    from harness.aggregate import mcnemar_exact

    lost, gained = [], []
    any_claims = False
    for doc_id in docs:
        ca, cb = a["per_doc"][doc_id].get("claims"), b["per_doc"][doc_id].get("claims")
        if ca is None or cb is None:
            continue
        any_claims = True
        ma, mb = set(ca.get("matched", [])), set(cb.get("matched", []))
        lost += [{"doc_id": doc_id, "gold_id": g} for g in sorted(ma - mb)]
        gained += [{"doc_id": doc_id, "gold_id": g} for g in sorted(mb - ma)]
    flipped = {"matched_to_missed": lost, "missed_to_matched": gained}
    if not any_claims:
        return None, flipped
    test = mcnemar_exact(len(lost), len(gained))
    test["discordant"] = len(lost) + len(gained)
    return test, flipped


@dataclass(frozen=True)
class Verdict:
    """What a comparison concludes: the regressions it found, as `system metric` (empty: none)."""

    regressions: tuple[str, ...]

    @property
    def regressed(self) -> bool:
        return bool(self.regressions)

    def __str__(self) -> str:
        if not self.regressions:
            return "no regression"
        return f"{len(self.regressions)} regression(s): {', '.join(self.regressions)}"


def verdict(comparison: dict) -> Verdict:
    return Verdict(tuple(f"{r['system']} {r['metric'] or ''}".strip() for r in comparison["regressions"]))


# --------------------------------------------------------------------------- rendering

def fmt_num(value: float | None, signed: bool = False) -> str:
    if value is None:
        return "n/a"
    return f"{value:+.3f}" if signed else f"{value:.3f}"


def fmt_p(value: float | None) -> str:
    if value is None:
        return "n/a"
    return f"{value:.2g}" if value < 0.001 else f"{value:.3f}"


def _tol(value: float | None) -> str:
    return "off" if value is None else f"{value:g}"


def metric_rows(comparison: dict) -> list[dict]:
    rows = []
    for name, s in comparison["systems"].items():
        shown = name + (" (ceiling)" if s.get("reads_gold") else "")
        for r in s["metrics"]:
            rows.append({"system": shown, "metric": r["metric"], "baseline": r["baseline"], "candidate": r["candidate"],
                         "delta": fmt_num(r["delta"], signed=True), "p (docs)": fmt_p(r["p_value"]),
                         "p floor": fmt_p(r["p_floor"]), "p < alpha": "+".join(r.get("significant_by", [])),
                         "tolerance": _tol(r["tolerance"]), "status": r["status"]})
    return rows


COLUMNS = ["system", "metric", "baseline", "candidate", "delta", "p (docs)", "p floor", "p < alpha", "tolerance",
           "status"]


def _legend(rows: list[dict], form: str) -> str:
    from harness.report import legend

    marks = legend.cell_marks(r.get(c) for r in rows for c in ("system", "baseline", "candidate", "delta"))
    return {"text": legend.text, "markdown": legend.markdown}[form](COLUMNS, marks)


def _claim_line(name: str, s: dict) -> str | None:
    ct = s.get("claim_test")
    if not ct:
        return None
    flips = s["flipped"]
    return (f"{name}: gold claims matched→missed {len(flips['matched_to_missed'])}, missed→matched "
            f"{len(flips['missed_to_matched'])}; exact McNemar p = {fmt_p(ct['p_value'])} "
            f"(smallest possible {fmt_p(ct['p_floor'])})")


def _flip_list(items: list[dict], limit: int | None) -> str:
    shown = items if limit is None else items[:limit]
    text = ", ".join(f"{x['doc_id']}:{x['gold_id']}" for x in shown)
    if limit is not None and len(items) > limit:
        text += f", … and {len(items) - limit} more"
    return text


def to_text(comparison: dict) -> str:
    """The comparison for a terminal or CI log: the metric table with its legend, the claims that flipped,
    the notes on what the test could not reach, and the verdict last, where a log reader looks."""
    from harness.report.tables import text_table

    a, b = comparison["baseline"], comparison["candidate"]
    out = [f"baseline:  {a['label']}", f"candidate: {b['label']}"]
    out += [f"WARNING: {m}" for m in comparison["marks"]]
    rows = metric_rows(comparison)
    out += ["", text_table(rows, COLUMNS), _legend(rows, "text"), ""]
    for name, s in comparison["systems"].items():
        line = _claim_line(name, s)
        if line:
            out.append(line)
            for key, title in (("matched_to_missed", "  now missed"), ("missed_to_matched", "  now matched")):
                if s["flipped"][key]:
                    out.append(f"{title}: {_flip_list(s['flipped'][key], 20)}")
    for key, title in (("only_in_baseline", "only in baseline"), ("only_in_candidate", "only in candidate")):
        if comparison[key]:
            out.append(f"systems {title}: {', '.join(comparison[key])}")
    out += [f"note: {n}" for n in comparison["notes"]]
    gate = " (only drops a paired test confirms)" if comparison["require_significance"] else ""
    out.append(f"result: {verdict(comparison)}{gate}; alpha {comparison['alpha']:g}")
    return "\n".join(out) + "\n"


def to_markdown(comparison: dict) -> str:
    """The comparison for a pull request or $GITHUB_STEP_SUMMARY: the verdict first, then the same tables."""
    from harness.report.tables import markdown_table

    a, b = comparison["baseline"], comparison["candidate"]
    ok = not comparison["regressions"]
    out = [f"## Comparison: {'✅' if ok else '❌'} {verdict(comparison)}", "",
           f"baseline `{a['label']}` → candidate `{b['label']}`"]
    out += [f"\n> **Warning:** {m}" for m in comparison["marks"]]
    rows = metric_rows(comparison)
    out += ["", markdown_table(rows, COLUMNS), "", _legend(rows, "markdown"), ""]
    for name, s in comparison["systems"].items():
        line = _claim_line(name, s)
        if not line:
            continue
        out.append(f"- {line}")
        for key, title in (("matched_to_missed", "now missed"), ("missed_to_matched", "now matched")):
            items = s["flipped"][key]
            if items:
                out.append(f"  <details><summary>{len(items)} {title}</summary>\n\n  "
                           f"{_flip_list(items, None)}\n  </details>")
    for key, title in (("only_in_baseline", "only in baseline"), ("only_in_candidate", "only in candidate")):
        if comparison[key]:
            out.append(f"- systems {title}: {', '.join(comparison[key])}")
    out += [f"- note: {n}" for n in comparison["notes"]]
    out.append(f"\nTolerances are absolute (default {comparison['default_tolerance']:g}); p (docs) is the paired test "
               f"over documents, p floor the smallest p it could reach; alpha {comparison['alpha']:g}.")
    out.append(f"\n<sub>signature `{b['signature']}`</sub>")
    return "\n".join(out) + "\n"


def to_json(comparison: dict) -> str:
    return json.dumps(comparison, indent=2, ensure_ascii=False, allow_nan=False) + "\n"


# --------------------------------------------------------------------------- tolerances

def _parse_tolerance(metric: str, raw: object, path: Path | None, line: int | None) -> tuple[str, float | None]:
    from harness.results.metrics import BY_NAME

    metric = str(metric).strip()
    if metric != "default" and metric not in BY_NAME:
        raise UserError(f"unknown metric {metric!r} (known: default, {', '.join(BY_NAME)})", path, line, "--tolerance")
    if raw is None or (isinstance(raw, str) and raw.strip().lower() in ("off", "none", "null")) or raw is False:
        if metric == "default":
            raise UserError("the default tolerance must be a number", path, line, "--tolerance")
        return metric, None
    try:
        value = float(raw) if not isinstance(raw, bool) else math.nan
    except (TypeError, ValueError):
        value = math.nan
    if not math.isfinite(value) or value < 0:
        raise UserError(f"tolerance for {metric} must be a number >= 0 or 'off', got {raw!r}", path, line,
                        "--tolerance")
    return metric, value


def tolerances_from(flags: list[str], file: Path | None) -> tuple[dict, float]:
    """Tolerances from --tolerances FILE and --tolerance flags (flags win), and the default: one place
    parses both, so a bad value names its file and line or its flag."""
    from harness.io import line_of, read_yaml

    tolerances: dict = {}
    if file is not None:
        data = read_yaml(file)
        if isinstance(data, dict) and isinstance(data.get("tolerances"), dict):
            data = data["tolerances"]
        if not isinstance(data, dict):
            raise UserError("expected a mapping of metric: tolerance", file, line_of(data))
        for metric, raw in data.items():
            key, value = _parse_tolerance(metric, raw, file, line_of(data))
            tolerances[key] = value
    for flag in flags:
        metric, sep, raw = flag.partition("=")
        if not sep:
            raise UserError(f"expected METRIC=VALUE, got {flag!r}", None, None, "--tolerance")
        key, value = _parse_tolerance(metric, raw.strip(), None, None)
        tolerances[key] = value
    default = tolerances.pop("default", DEFAULT_TOLERANCE)
    return tolerances, default
