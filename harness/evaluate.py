"""Gold × predictions → the scorer's result object (the stable JSON that CI scripts read)."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass

from harness import aggregate
from harness.records import Corpus, Prediction
from harness.scoring.scorer import DocScore, Scorer, ScoreSettings


@dataclass
class Evaluation:
    results: dict
    doc_scores: list[DocScore]
    scorer: Scorer  # what scored it: the report reuses its fitted similarity and settings


def evaluate(corpus: Corpus, predictions: Iterable[Prediction], settings: ScoreSettings = ScoreSettings(),
             scorer: Scorer | None = None, reads_gold: Collection[str] = ()) -> Evaluation:
    """Score every system; `reads_gold` names the systems that were given the gold (ceilings, not competitors)."""
    from harness.degenerate import degenerate_outputs

    scorer = scorer or Scorer(corpus, settings)
    predictions = list(predictions)
    warnings = degenerate_outputs(predictions)
    by_system: dict[str, dict[str, Prediction]] = {}
    for p in predictions:
        by_system.setdefault(p.system, {})[p.doc_id] = p
    doc_scores: list[DocScore] = []
    systems = {}
    for name in sorted(by_system):
        given = by_system[name]
        missing = [d.doc_id for d in corpus.documents if d.doc_id not in given]
        scores = [scorer.score(given.get(d.doc_id) or _empty(d.doc_id, name, given))
                  for d in sorted(corpus.documents, key=lambda d: d.doc_id)]
        doc_scores += scores
        systems[name] = system_result(scores, settings, missing)
        systems[name]["reads_gold"] = name in reads_gold
        systems[name]["warnings"] = warnings.get(name, [])
    results = {
        "signature": scorer.signature(),
        "gold_sha256": corpus.sha256,
        "n_documents": len(corpus.documents),
        "systems": systems,
    }
    return Evaluation(results, doc_scores, scorer)


def _empty(doc_id: str, system: str, given: dict[str, Prediction]) -> Prediction:
    """A document the system has no prediction for scores as empty output on the tasks it attempted."""
    any_summary = any(p.summary is not None for p in given.values())
    any_claims = any(p.claims is not None for p in given.values())
    return Prediction(doc_id, system, "" if any_summary else None, () if any_claims else None, "missing prediction")


def system_result(scores: list[DocScore], settings: ScoreSettings, missing: list[str]) -> dict:
    per_doc = {}
    for s in scores:
        entry: dict = {}
        if s.summary is not None:
            entry["summary"] = _coverage_or_null(aggregate.summary_doc(s), s.summary.coverage.total)
        if s.claims is not None:
            entry["claims"] = aggregate.claim_doc(s)
        if s.failure:
            entry["failure"] = s.failure
        per_doc[s.doc_id] = entry
    summary = aggregate.summary_scores(scores, settings.bootstrap, settings.seed)
    if summary is not None:
        summary = _coverage_or_null(summary, sum(s.summary.coverage.total for s in scores if s.summary is not None))
    return {
        "summary": summary,
        "claims": aggregate.claim_scores(scores, settings.bootstrap, settings.seed),
        "per_doc": per_doc,
        "failures": sum(1 for s in scores if s.failure and s.failure != "missing prediction"),
        "missing": missing,
    }


COVERAGE_KEYS = ("claim_coverage", "weighted_claim_coverage", "version_weighted_claim_coverage",
                 "claim_coverage_vs_reference")


def _coverage_or_null(summary: dict, gold_claims: int) -> dict:
    """Claim coverage is not measured where there are no gold claims to cover: null, never 0."""
    if gold_claims:
        return summary
    return {**summary, **{key: None for key in COVERAGE_KEYS}}


def decision_log(doc_scores: list[DocScore], predictions: dict[tuple[str, str], Prediction]) -> list[dict]:
    """Every claim decision: which gold claim each prediction matched, or why not, with the score."""
    return [row for s in doc_scores for row in doc_decisions(s, predictions.get((s.doc_id, s.system)))]


def doc_decisions(score: DocScore, prediction: Prediction | None) -> list[dict]:
    """One document's rows of the decision log (built when needed, so a large run never holds the whole log)."""
    if score.claims is None:
        return []
    texts = [c.text for c in (prediction.claims or ())] if prediction else []
    return [{"system": score.system, "doc_id": score.doc_id, "prediction": d.prediction,
             "text": texts[d.prediction] if d.prediction < len(texts) else "",
             "outcome": d.outcome, "gold_id": d.gold_id, "best_gold": d.best_gold,
             "score": round(d.score, 6)} for d in score.claims.decisions]
