"""How claim scores move with the match threshold: rescore every system at a few thresholds.

A ranking that flips between 0.4 and 0.5 is a ranking the matcher decides, not the systems;
this table makes that visible next to the leaderboard.
"""

from __future__ import annotations

from collections.abc import Sequence

from harness.records import Corpus, Prediction

THRESHOLDS = (0.3, 0.4, 0.5, 0.6, 0.7)


def signature_fields(signature: str) -> dict[str, str]:
    """`a:b|c:d` → {"a": "b", "c": "d"} (the scoring signature's parts)."""
    out = {}
    for part in signature.split("|"):
        key, _, value = part.partition(":")
        out.setdefault(key, value)
    return out


def run_settings(results: dict) -> tuple[float | None, tuple[str, ...] | None, str]:
    """The run's match threshold, active vetoes and matcher kind, read back from its signature."""
    fields = signature_fields(results.get("signature", ""))
    threshold = float(fields["thr"]) if fields.get("thr") else None
    vetoes = None
    if "veto" in fields:
        vetoes = () if fields["veto"] in ("", "none") else tuple(fields["veto"].split(","))
    matcher = fields.get("matcher", "lexical").split("(", 1)[0] or "lexical"
    return threshold, vetoes, matcher


class _Memo:
    """The scorer's similarity, computed once per (predictions, gold) pair across the thresholds."""

    def __init__(self, similarity):
        self.similarity = similarity
        self.name = getattr(similarity, "name", "similarity")
        self._cache: dict = {}

    def matrix(self, left, right):
        key = (tuple(left), tuple(right))
        if key not in self._cache:
            value = self.similarity.matrix(left, right)
            value.setflags(write=False)
            self._cache[key] = value
        return self._cache[key]


def sensitivity(results: dict, corpus: Corpus, predictions: Sequence[Prediction], scorer,
                thresholds: Sequence[float] = THRESHOLDS) -> dict:
    """Micro P/R/F1 per system at each threshold, on exactly the documents the run scored for claims.

    `scorer` supplies the similarity and gold items; it must use the run's matcher (see `run_settings`).
    """
    from harness.aggregate import f1
    from harness.scoring.matching import VETOES, match_claims
    from harness.text import split_sentences

    run_threshold, vetoes, _ = run_settings(results)
    vetoes = VETOES if vetoes is None else vetoes
    if run_threshold is not None and not any(abs(t - run_threshold) < 1e-9 for t in thresholds):
        thresholds = sorted([*thresholds, run_threshold])  # the run's own row, to read the table against
    documents = corpus.by_id()
    given = {(p.system, p.doc_id): p for p in predictions}
    excluded = {}
    similarity = _Memo(scorer.similarity)
    systems = {}
    for name, system in results["systems"].items():
        docs = [d for d, entry in system["per_doc"].items() if "claims" in entry and d in documents]
        if not docs:
            continue
        rows = []
        for threshold in thresholds:
            tp = fp = fn = 0
            for doc_id in docs:
                if doc_id not in excluded:
                    excluded[doc_id] = [s for t in documents[doc_id].excluded_text() for s in split_sentences(t)]
                pred = given.get((name, doc_id))
                texts = [c.text for c in (pred.claims or ())] if pred else []
                counts = match_claims(texts, scorer.gold_items(doc_id), similarity, threshold,
                                      excluded[doc_id], vetoes)
                tp, fp, fn = tp + counts.tp, fp + counts.fp, fn + counts.fn
            p = tp / (tp + fp) if tp + fp else 0.0
            r = tp / (tp + fn) if tp + fn else 0.0
            rows.append({"threshold": threshold, "precision": p, "recall": r, "f1": f1(p, r),
                         "tp": tp, "fp": fp, "fn": fn})
        systems[name] = rows
    return {"thresholds": list(thresholds), "run_threshold": run_threshold, "vetoes": list(vetoes),
            "systems": systems}
