"""Calibrate and report the claim matcher and the coverage matcher on the hand-labelled pairs in gold/matching/."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import numpy as np
from sklearn.metrics import cohen_kappa_score

from harness.errors import UserError
from harness.io import iter_jsonl
from harness.records import Corpus
from harness.scoring import features
from harness.scoring.coverage import DEFAULT_COVERAGE_THRESHOLD, containment, expressed_claims
from harness.scoring.matching import content_tokens
from harness.scoring.scorer import Scorer
from harness.scoring.settings import ScoreSettings

THRESHOLDS = [round(t, 2) for t in np.arange(0.10, 0.91, 0.05)]


def _load_pairs(path: Path, corpus: Corpus, label_field: str) -> list[dict]:
    docs = corpus.by_id()
    rows = []
    for line, obj in iter_jsonl(path):
        doc = docs.get(obj.get("doc_id"))
        if doc is None:
            raise UserError(f"unknown document {obj.get('doc_id')!r}", path, line, "doc_id")
        claims = {c.id: c for c in doc.claims}
        if obj.get("gold_id") not in claims:
            raise UserError(f"unknown claim {obj.get('gold_id')!r} in {doc.doc_id}", path, line, "gold_id")
        if not isinstance(obj.get(label_field), bool):
            raise UserError("expected true or false", path, line, label_field)
        rows.append({**obj, "gold_text": claims[obj["gold_id"]].text})
    return rows


def _metrics(truth: list[bool], predicted: list[bool]) -> dict:
    t, p = np.array(truth), np.array(predicted)
    tp = int(np.sum(t & p))
    fp = int(np.sum(~t & p))
    fn = int(np.sum(t & ~p))
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    kappa = float(cohen_kappa_score(t, p)) if len(set(t)) > 1 or len(set(p)) > 1 else 1.0
    return {"precision": precision, "recall": recall, "f1": f1, "kappa": kappa, "accuracy": float(np.mean(t == p)),
            "n": len(truth)}


def metrics_by_category(rows: Iterable[tuple[bool, bool, str]]) -> dict[str, dict]:
    """Agreement within each category of (truth, predicted, category) rows: how many, and the share right."""
    out: dict[str, dict] = {}
    for truth, predicted, category in rows:
        entry = out.setdefault(category, {"n": 0, "correct": 0})
        entry["n"] += 1
        entry["correct"] += int(truth == predicted)
    return {k: {**v, "accuracy": v["correct"] / v["n"]} for k, v in sorted(out.items())}


def spread_over_categories(rows: list[dict], limit: int | None) -> list[dict]:
    """The first `limit` rows, taken one category at a time in turn so that every category is represented."""
    if limit is None or limit >= len(rows):
        return rows
    queues: dict[str, list[int]] = {}
    for i, row in enumerate(rows):
        queues.setdefault(category_of(row), []).append(i)
    chosen: list[int] = []
    while len(chosen) < limit:
        for queue in queues.values():
            if queue and len(chosen) < limit:
                chosen.append(queue.pop(0))
    return [rows[i] for i in sorted(chosen)]


def category_of(pair: dict) -> str:
    return pair.get("category") or pair.get("kind") or "?"


def _sweep(truth, scores, vetoed, chosen) -> tuple[list[dict], dict]:
    table = []
    for threshold in THRESHOLDS:
        m = _metrics(truth, [s >= threshold and not v for s, v in zip(scores, vetoed)])
        table.append({"threshold": threshold, **m})
    best = max(table, key=lambda r: (r["f1"], r["kappa"]))
    at_chosen = _metrics(truth, [s >= chosen and not v for s, v in zip(scores, vetoed)])
    return table, {"best_threshold": best["threshold"], "at_default": {"threshold": chosen, **at_chosen}}


def _claim_pairs_report(path: Path, corpus: Corpus, scorer: Scorer, limit: int | None = None) -> dict:
    threshold = scorer.settings.threshold
    pairs = spread_over_categories(_load_pairs(path, corpus, "match"), limit)
    sims = [float(scorer.similarity.matrix([p["candidate"]], [p["gold_text"]])[0, 0]) for p in pairs]
    vetoes = [features.veto(features.extract(p["candidate"]), features.extract(p["gold_text"])) for p in pairs]
    truth = [p["match"] for p in pairs]
    table, summary = _sweep(truth, sims, [v is not None for v in vetoes], threshold)
    _, no_veto = _sweep(truth, sims, [False] * len(pairs), threshold)
    if set(sims) <= {0.0, 1.0}:  # a yes/no matcher: no threshold to sweep
        table, summary["best_threshold"] = [], None
    predicted = [s >= threshold and v is None for s, v in zip(sims, vetoes)]
    return {"file": path.name, "pairs": len(pairs), "sweep": table, **summary,
            "without_vetoes": no_veto["at_default"],
            "by_category": metrics_by_category(zip(truth, predicted, map(category_of, pairs)))}


def evaluate_matcher(corpus: Corpus, folder: Path, settings: ScoreSettings | str = "lexical",
                     limit: int | None = None) -> dict:
    """`settings` or a matcher's name; `limit` keeps that many claim pairs of each file (see spread_over_categories)."""
    scorer = Scorer(corpus, ScoreSettings(matcher=settings) if isinstance(settings, str) else settings)
    report: dict = {"gold_sha256": corpus.sha256, "matcher": scorer.similarity.name}
    claim_path = folder / "claim_pairs.jsonl"
    if claim_path.exists():
        report["claims"] = _claim_pairs_report(claim_path, corpus, scorer, limit)
    heldout_path = folder / "heldout_claim_pairs.jsonl"
    if heldout_path.exists():
        report["heldout_claims"] = _claim_pairs_report(heldout_path, corpus, scorer, limit)
    if hasattr(scorer.similarity, "stats"):
        report["judge"] = scorer.similarity.stats()
        scorer.similarity.close()
    summary_path = folder / "summary_pairs.jsonl"
    if summary_path.exists():
        pairs = _load_pairs(summary_path, corpus, "expressed")
        scores, vetoed = [], []
        for p in pairs:
            scores.append(containment(p["gold_text"], set(content_tokens(p["sentence"]))))
            vetoed.append(features.coverage_veto(features.extract(p["gold_text"]), features.extract(p["sentence"])) is not None)
        table, summary = _sweep([p["expressed"] for p in pairs], scores, vetoed, DEFAULT_COVERAGE_THRESHOLD)
        report["coverage_pairs"] = {"pairs": len(pairs), "sweep": table, **summary}
    report["reference_summaries"] = _reference_coverage(corpus, scorer)
    return report


def _reference_coverage(corpus: Corpus, scorer: Scorer) -> dict:
    """Does the coverage matcher recover the claim ids each reference summary was labelled with?"""
    tp = fp = fn = 0
    for doc in corpus.documents:
        items = scorer.gold_items(doc.doc_id)
        for summary in doc.summaries:
            predicted = set(expressed_claims(summary.text, items))
            labelled = set(summary.claims)
            tp += len(predicted & labelled)
            fp += len(predicted - labelled)
            fn += len(labelled - predicted)
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    return {"precision": precision, "recall": recall, "tp": tp, "fp": fp, "fn": fn,
            "threshold": DEFAULT_COVERAGE_THRESHOLD}


def print_report(report: dict) -> None:
    from harness.report.tables import text_table

    for key, title in (("claims", "calibration set"), ("heldout_claims", "held-out set, threshold frozen")):
        if key not in report:
            continue
        c = report[key]
        print(f"Claim matcher on {c['pairs']} hand-labelled pairs ({title}: gold/matching/{c['file']})")
        if key == "claims" and c["sweep"]:
            print(text_table(c["sweep"], ["threshold", "precision", "recall", "f1", "kappa", "accuracy"]))
        d = c["at_default"]
        best = f"; best by F1: {c['best_threshold']:.2f}" if c["best_threshold"] is not None else ""
        print(f"default threshold {d['threshold']:.2f}: P {d['precision']:.3f} R {d['recall']:.3f} "
              f"F1 {d['f1']:.3f} kappa {d['kappa']:.3f} accuracy {d['accuracy']:.3f}{best}")
        nv = c["without_vetoes"]
        print(f"without vetoes: P {nv['precision']:.3f} R {nv['recall']:.3f} F1 {nv['f1']:.3f} kappa {nv['kappa']:.3f} "
              f"accuracy {nv['accuracy']:.3f}")
        rows = [{"category": k, **v} for k, v in c["by_category"].items()]
        print(text_table(rows, ["category", "n", "accuracy"]))
        print()
    if "judge" in report:
        j = report["judge"]
        latency = f"{j['seconds_per_request']:.2f} s" if j["seconds_per_request"] is not None else "n/a"
        print(f"judge {j['model']} at {j['url']}: {j['pairs']} pairs, {j['requests']} requests "
              f"({latency} per request), {j['from_cache']} from the cache, {j['unparseable']} unparseable "
              "answers (scored as no)")
        print()
    if "coverage_pairs" in report:
        c = report["coverage_pairs"]
        d = c["at_default"]
        print(f"Coverage matcher on {c['pairs']} (summary sentence, claim) pairs: threshold {d['threshold']:.2f}: "
              f"P {d['precision']:.3f} R {d['recall']:.3f} F1 {d['f1']:.3f} kappa {d['kappa']:.3f}; "
              f"best by F1: {c['best_threshold']:.2f}")
    r = report["reference_summaries"]
    print(f"Coverage vs the reference summaries' own claim labels: P {r['precision']:.3f} R {r['recall']:.3f} "
          f"(tp {r['tp']}, fp {r['fp']}, fn {r['fn']})")
