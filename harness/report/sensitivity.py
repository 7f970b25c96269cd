"""How claim scores move with the match threshold: rescore every system at a few thresholds.

A ranking that flips between 0.4 and 0.5 is a ranking the matcher decides, not the systems;
this table makes that visible next to the leaderboard.
"""

from __future__ import annotations

from collections.abc import Sequence

from harness.records import Corpus, Prediction

THRESHOLDS = (0.3, 0.4, 0.5, 0.6, 0.7)


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

    `scorer` is the run's own: its similarity, gold items, threshold and vetoes.
    """
    from harness.aggregate import f1
    from harness.scoring.matching import match_claims

    run_threshold, vetoes = scorer.settings.threshold, scorer.settings.vetoes
    if not any(abs(t - run_threshold) < 1e-9 for t in thresholds):
        thresholds = sorted([*thresholds, run_threshold])  # the run's own row, to read the table against
    documents = corpus.by_id()
    given = {(p.system, p.doc_id): p for p in predictions}
    similarity = None  # fitted only if some system has claims scored
    systems = {}
    for name, system in results["systems"].items():
        docs = [d for d, entry in system["per_doc"].items() if "claims" in entry and d in documents]
        if not docs:
            continue
        similarity = similarity or _Memo(scorer.similarity)
        rows = []
        for threshold in thresholds:
            tp = fp = fn = 0
            for doc_id in docs:
                pred = given.get((name, doc_id))
                texts = [c.text for c in (pred.claims or ())] if pred else []
                counts = match_claims(texts, scorer.gold_items(doc_id), similarity, threshold,
                                      scorer.excluded_sentences(doc_id), vetoes)
                tp, fp, fn = tp + counts.tp, fp + counts.fp, fn + counts.fn
            p = tp / (tp + fp) if tp + fp else 0.0
            r = tp / (tp + fn) if tp + fn else 0.0
            rows.append({"threshold": threshold, "precision": p, "recall": r, "f1": f1(p, r),
                         "tp": tp, "fp": fp, "fn": fn})
        systems[name] = rows
    return {"thresholds": list(thresholds), "run_threshold": run_threshold, "vetoes": list(vetoes),
            "systems": systems}
