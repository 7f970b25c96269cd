"""Calibrate and report the claim matcher and the coverage matcher on the hand-labelled pairs in gold/matching/."""

from __future__ import annotations

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
from harness.scoring.settings import MATCHER_THRESHOLDS, ScoreSettings

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


def _sweep(truth, scores, vetoed, chosen) -> tuple[list[dict], dict]:
    table = []
    for threshold in THRESHOLDS:
        m = _metrics(truth, [s >= threshold and not v for s, v in zip(scores, vetoed)])
        table.append({"threshold": threshold, **m})
    best = max(table, key=lambda r: (r["f1"], r["kappa"]))
    at_chosen = _metrics(truth, [s >= chosen and not v for s, v in zip(scores, vetoed)])
    return table, {"best_threshold": best["threshold"], "at_default": {"threshold": chosen, **at_chosen}}


def _claim_pairs_report(path: Path, corpus: Corpus, scorer: Scorer) -> dict:
    threshold = scorer.settings.threshold
    pairs = _load_pairs(path, corpus, "match")
    sims = [float(scorer.similarity.matrix([p["candidate"]], [p["gold_text"]])[0, 0]) for p in pairs]
    vetoes = [features.veto(features.extract(p["candidate"]), features.extract(p["gold_text"])) for p in pairs]
    truth = [p["match"] for p in pairs]
    table, summary = _sweep(truth, sims, [v is not None for v in vetoes], threshold)
    _, no_veto = _sweep(truth, sims, [False] * len(pairs), threshold)
    kinds: dict = {}
    for p, s, v in zip(pairs, sims, vetoes):
        k = kinds.setdefault(p.get("kind", "?"), {"n": 0, "correct": 0})
        k["n"] += 1
        k["correct"] += int((s >= threshold and v is None) == p["match"])
    return {"file": path.name, "pairs": len(pairs), "sweep": table, **summary,
            "without_vetoes": no_veto["at_default"], "by_kind": kinds}


def evaluate_matcher(corpus: Corpus, folder: Path, matcher: str = "lexical") -> dict:
    scorer = Scorer(corpus, ScoreSettings(matcher=matcher, threshold=MATCHER_THRESHOLDS[matcher]))
    report: dict = {"gold_sha256": corpus.sha256, "matcher": scorer.similarity.name}
    claim_path = folder / "claim_pairs.jsonl"
    if claim_path.exists():
        report["claims"] = _claim_pairs_report(claim_path, corpus, scorer)
    heldout_path = folder / "heldout_claim_pairs.jsonl"
    if heldout_path.exists():
        report["heldout_claims"] = _claim_pairs_report(heldout_path, corpus, scorer)
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
        if key == "claims":
            print(text_table(c["sweep"], ["threshold", "precision", "recall", "f1", "kappa", "accuracy"]))
        d = c["at_default"]
        print(f"default threshold {d['threshold']:.2f}: P {d['precision']:.3f} R {d['recall']:.3f} "
              f"F1 {d['f1']:.3f} kappa {d['kappa']:.3f}; best by F1: {c['best_threshold']:.2f}")
        nv = c["without_vetoes"]
        print(f"without vetoes: P {nv['precision']:.3f} R {nv['recall']:.3f} F1 {nv['f1']:.3f} kappa {nv['kappa']:.3f}")
        rows = [{"kind": k, "n": v["n"], "accuracy": v["correct"] / v["n"]} for k, v in sorted(c["by_kind"].items())]
        print(text_table(rows, ["kind", "n", "accuracy"]))
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
