"""How far the claim matcher agrees with a careful reader, on the hand-labelled material in gold/matching/.

- Claim pairs (`claim_pairs.jsonl`, the calibration set; `heldout_claim_pairs.jsonl`, never used to
  choose anything): precision, recall, F1, Cohen's kappa and accuracy, and accuracy per category
  (changed number, heavy paraphrase, …), so a weak category shows.
- Coverage: for each reference summary in the gold (and each independently written summary in
  `heldout_summaries.jsonl`), the claims the matcher finds expressed against the claims a person
  labelled, per summary length (headline, short, long).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

from harness.errors import UserError
from harness.io import iter_jsonl
from harness.records import Corpus
from harness.scoring.scorer import Scorer
from harness.scoring.settings import MATCHER_THRESHOLDS, ScoreSettings

THRESHOLDS = [round(t, 2) for t in np.arange(0.30, 0.91, 0.05)]
PAIR_FILES = (("claim_pairs.jsonl", "calibration"), ("heldout_claim_pairs.jsonl", "held-out"))
LENGTHS = ("headline", "short", "long")


def load_pairs(path: Path, corpus: Corpus) -> list[dict]:
    docs = corpus.by_id()
    rows = []
    for line, obj in iter_jsonl(path):
        doc = docs.get(obj.get("doc_id"))
        if doc is None:
            raise UserError(f"unknown document {obj.get('doc_id')!r}", path, line, "doc_id")
        if obj.get("gold_id") not in {c.id for c in doc.claims}:
            raise UserError(f"unknown claim {obj.get('gold_id')!r} in {doc.doc_id}", path, line, "gold_id")
        if not isinstance(obj.get("match"), bool):
            raise UserError("expected true or false", path, line, "match")
        rows.append({**obj, "category": category_of(obj)})
    return rows


def category_of(pair: dict) -> str:
    return pair.get("category") or pair.get("kind") or "?"


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


def agreement(truth: Sequence[bool], predicted: Sequence[bool]) -> dict:
    """Precision, recall, F1, Cohen's kappa and accuracy of `predicted` against a reader's `truth`."""
    from sklearn.metrics import cohen_kappa_score

    t, p = np.array(truth, dtype=bool), np.array(predicted, dtype=bool)
    tp, fp, fn = int(np.sum(t & p)), int(np.sum(~t & p)), int(np.sum(t & ~p))
    precision = tp / (tp + fp) if tp + fp else None
    recall = tp / (tp + fn) if tp + fn else None
    f1 = (2 * precision * recall / (precision + recall)) if precision and recall else 0.0
    same = len(set(t.tolist())) == 1 and len(set(p.tolist())) == 1 and t[0] == p[0] if len(t) else True
    kappa = 1.0 if same else float(cohen_kappa_score(t, p))
    return {"precision": precision, "recall": recall, "f1": f1, "kappa": kappa,
            "accuracy": float(np.mean(t == p)) if len(t) else None, "n": len(t), "tp": tp, "fp": fp, "fn": fn}


def decide_pairs(scorer: Scorer, pairs: list[dict], threshold: float) -> list[tuple[float, str | None]]:
    """(score, rule that vetoed it or None) for every pair, judged as the scorer would judge a claim."""
    matcher = scorer.matcher
    out = []
    for pair in pairs:
        siblings = scorer.gold_items(pair["doc_id"])
        item = next(g for g in siblings if g.id == pair["gold_id"])
        source = matcher.source_numbers(scorer.story(pair["doc_id"]))
        score = (None if matcher.similarity is None
                 else float(matcher.scores([pair["candidate"]], [item], source, threshold)[0, 0]))
        decision = matcher.decide(pair["candidate"], item, source, threshold, score, siblings=siblings)
        out.append((decision.score, decision.rule))
    return out


def pair_report(scorer: Scorer, pairs: list[dict], name: str) -> dict:
    """Agreement with one file of hand-labelled pairs at the run's threshold, with and without the rules,
    per category, swept over thresholds, and every disagreement: what calibrating the matcher needs."""
    threshold = scorer.settings.threshold
    decided = decide_pairs(scorer, pairs, threshold)
    truth = [p["match"] for p in pairs]
    predicted = [s >= threshold and rule is None for s, rule in decided]
    sweep = [] if scorer.settings.matcher == "judge" else [  # a yes/no answer has no threshold to sweep
        {"threshold": t, **agreement(truth, [s >= t and r is None for s, r in decide_pairs(scorer, pairs, t)])}
        for t in THRESHOLDS]
    categories = metrics_by_category((p["match"], g, p["category"]) for p, g in zip(pairs, predicted))
    for category, c in categories.items():
        c["true"] = sum(1 for p in pairs if p["category"] == category and p["match"])
    disagreements = [{"id": p.get("id"), "category": p["category"], "match": p["match"], "score": round(s, 3),
                      "rule": r, "candidate": p["candidate"]}
                     for p, (s, r), g in zip(pairs, decided, predicted) if g != p["match"]]
    return {"file": name, "pairs": len(pairs), "threshold": threshold, **agreement(truth, predicted),
            "without_rules": agreement(truth, [s >= threshold for s, _ in decided]),
            "sweep": sweep, "by_category": dict(sorted(categories.items())), "disagreements": disagreements}


def coverage_report(scorer: Scorer, summaries: list[dict]) -> dict:
    """Per length: the matcher's expressed claims against a person's labels (micro precision and recall)."""
    from harness.scoring.coverage import expressed_claims

    by_length: dict[str, dict] = {}
    for summary in summaries:
        doc_id = summary["doc_id"]
        items = [g for g in scorer.gold_items(doc_id) if not g.optional]
        found = set(expressed_claims(scorer.matcher, summary["text"], items, scorer.story(doc_id),
                                     scorer.settings.coverage_threshold))
        labelled = set(summary["claims"]) & {g.id for g in items}
        row = by_length.setdefault(summary["length"], {"summaries": 0, "tp": 0, "fp": 0, "fn": 0})
        row["summaries"] += 1
        row["tp"] += len(found & labelled)
        row["fp"] += len(found - labelled)
        row["fn"] += len(labelled - found)
    for row in by_length.values():
        row["precision"] = row["tp"] / (row["tp"] + row["fp"]) if row["tp"] + row["fp"] else None
        row["recall"] = row["tp"] / (row["tp"] + row["fn"]) if row["tp"] + row["fn"] else None
    return {length: by_length[length] for length in (*LENGTHS, *sorted(set(by_length) - set(LENGTHS)))
            if length in by_length}


def sentence_pairs_report(scorer: Scorer, path: Path, corpus: Corpus) -> dict:
    """(summary sentence, claim, expressed) pairs: does the matcher find the claim in that one sentence?"""
    from harness.scoring.coverage import expressed_claims

    docs = corpus.by_id()
    truth, predicted = [], []
    for line, obj in iter_jsonl(path):
        if obj.get("doc_id") not in docs or not isinstance(obj.get("expressed"), bool):
            raise UserError("expected doc_id of the corpus and expressed: true or false", path, line)
        items = [g for g in scorer.gold_items(obj["doc_id"]) if g.id == obj.get("gold_id")]
        if not items:
            raise UserError(f"unknown claim {obj.get('gold_id')!r}", path, line, "gold_id")
        found = expressed_claims(scorer.matcher, obj["sentence"], items, scorer.story(obj["doc_id"]),
                                 scorer.settings.coverage_threshold)
        truth.append(obj["expressed"])
        predicted.append(bool(found))
    return agreement(truth, predicted)


def reference_summaries(corpus: Corpus) -> list[dict]:
    return [{"doc_id": d.doc_id, "length": s.length, "text": s.text, "claims": list(s.claims)}
            for d in corpus.documents for s in d.summaries]


def heldout_summaries(path: Path, corpus: Corpus) -> list[dict]:
    docs = corpus.by_id()
    rows = []
    for line, obj in iter_jsonl(path):
        if obj.get("doc_id") not in docs:
            raise UserError(f"unknown document {obj.get('doc_id')!r}", path, line, "doc_id")
        rows.append(obj)
    return rows


def evaluate_matcher(corpus: Corpus, folder: Path, matcher: str = "lexical", settings: ScoreSettings | None = None,
                     coverage_only: bool = False, limit: int | None = None) -> dict:
    """`limit` keeps that many claim pairs of each file, spread over the categories (for a slow judge)."""
    settings = settings or ScoreSettings(matcher=matcher, threshold=MATCHER_THRESHOLDS.get(matcher, 0.5))
    scorer = Scorer(corpus, settings)
    report: dict = {"gold_sha256": corpus.sha256, "matcher": scorer.matcher.name,
                    "threshold": settings.threshold, "coverage_threshold": settings.coverage_threshold}
    if not coverage_only:
        for filename, name in PAIR_FILES:
            if (folder / filename).exists():
                pairs = spread_over_categories(load_pairs(folder / filename, corpus), limit)
                report[name] = pair_report(scorer, pairs, filename)
    if limit is not None:  # a limited run is about the claim pairs (a slow judge): the coverage checks are not cut
        return _with_judge_stats(report, scorer)
    report["coverage"] = {"references": coverage_report(scorer, reference_summaries(corpus))}
    if (folder / "summary_pairs.jsonl").exists():
        report["coverage_sentence_pairs"] = sentence_pairs_report(scorer, folder / "summary_pairs.jsonl", corpus)
    if (folder / "heldout_summaries.jsonl").exists():
        report["coverage"]["held-out summaries"] = coverage_report(
            scorer, heldout_summaries(folder / "heldout_summaries.jsonl", corpus))
    return _with_judge_stats(report, scorer)


def _with_judge_stats(report: dict, scorer: Scorer) -> dict:
    stats = getattr(scorer.matcher.similarity, "stats", None)
    if stats is not None:
        report["judge"] = stats()
    return report


def _fmt(value) -> str:
    return "–" if value is None else f"{value:.3f}"


def format_report(report: dict) -> str:
    """`harness matcher eval` as text: a block per labelled file, then coverage per summary length."""
    from harness.report.tables import text_table

    out = [f"matcher: {report['matcher']} · threshold {report['threshold']:.2f} · gold {report['gold_sha256'][:12]}"]
    for _, name in PAIR_FILES:
        r = report.get(name)
        if not r:
            continue
        out.append(f"\nClaim pairs, {name} set ({r['pairs']} pairs, gold/matching/{r['file']}): "
                   f"accuracy {_fmt(r['accuracy'])}, kappa {_fmt(r['kappa'])}, P {_fmt(r['precision'])}, "
                   f"R {_fmt(r['recall'])}, F1 {_fmt(r['f1'])}")
        nr = r["without_rules"]
        out.append(f"  without the rules: accuracy {_fmt(nr['accuracy'])}, kappa {_fmt(nr['kappa'])}")
        rows = [{"category": k, "pairs": v["n"], "matches": v["true"], "accuracy": v["accuracy"]}
                for k, v in r["by_category"].items()]
        out.append(text_table(rows, ["category", "pairs", "matches", "accuracy"]))
        if name == "calibration" and r["sweep"]:
            out.append(text_table(r["sweep"], ["threshold", "accuracy", "kappa", "precision", "recall", "f1"],
                                  title="threshold sweep (calibration set only)"))
    if "judge" in report:
        j = report["judge"]
        latency = f"{j['seconds_per_request']:.2f} s" if j["seconds_per_request"] is not None else "n/a"
        out.append(f"\njudge {j['model']} at {j['url']}: {j['pairs']} pairs, {j['requests']} requests "
                   f"({latency} per request), {j['from_cache']} from the cache, {j['unparseable']} unparseable "
                   "answers (scored as no)")
    if "coverage_sentence_pairs" in report:
        c = report["coverage_sentence_pairs"]
        out.append(f"\nCoverage on {c['n']} (summary sentence, claim) pairs (gold/matching/summary_pairs.jsonl): "
                   f"accuracy {_fmt(c['accuracy'])}, kappa {_fmt(c['kappa'])}, P {_fmt(c['precision'])}, "
                   f"R {_fmt(c['recall'])}")
    for source, table in report.get("coverage", {}).items():
        rows = [{"length": k, "summaries": v["summaries"], "precision": v["precision"], "recall": v["recall"],
                 "tp": v["tp"], "fp": v["fp"], "fn": v["fn"]} for k, v in table.items()]
        out.append(f"\nCoverage vs the claims a person labelled ({source}), threshold "
                   f"{report['coverage_threshold']:.2f}")
        out.append(text_table(rows, ["length", "summaries", "precision", "recall", "tp", "fp", "fn"]))
    return "\n".join(out) + "\n"
