"""Match predicted claims to gold claims: similarity matrix, vetoes, optimal one-to-one assignment.

Similarity is lexical by default: the mean of TF-IDF cosine (IDF fitted on the gold corpus, never on
system output) and the Dice overlap of stemmed content words. Both are symmetric, so swapping
prediction and gold swaps precision and recall. Vetoes (harness.scoring.features) set a pair to
no-match whatever its similarity.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import linear_sum_assignment
from scipy.sparse import csr_matrix
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS, TfidfVectorizer

from harness.scoring import features

from harness.scoring.settings import DEFAULT_THRESHOLD, VETOES


def content_tokens(text: str) -> list[str]:
    """Lowercased, Porter-stemmed word tokens without stop words (rouge-score's tokenizer)."""
    from rouge_score_rs import _native, _rougers

    return [t for t in _native.call(_rougers.tokenize, text, True) if t not in ENGLISH_STOP_WORDS]


class LexicalSimilarity:
    """TF-IDF cosine + content-word Dice, with the IDF fitted on gold text only."""

    name = "lexical(tfidf-gold+dice)"

    def __init__(self, gold_texts: Sequence[str]):
        self._vectorizer = TfidfVectorizer(analyzer=content_tokens, sublinear_tf=True)
        self._vectorizer.fit(list(gold_texts) or [""])

    def matrix(self, left: Sequence[str], right: Sequence[str]) -> np.ndarray:
        if not left or not right:
            return np.zeros((len(left), len(right)))
        a = self._vectorizer.transform(left)
        b = self._vectorizer.transform(right)
        cosine = (a @ b.T).toarray()
        return (cosine + _dice(left, right)) / 2.0


def _dice(left: Sequence[str], right: Sequence[str]) -> np.ndarray:
    vocab: dict[str, int] = {}

    def binary(texts: Sequence[str]) -> csr_matrix:
        rows, cols = [], []
        for i, text in enumerate(texts):
            for token in set(content_tokens(text)):
                rows.append(i)
                cols.append(vocab.setdefault(token, len(vocab)))
        return rows, cols

    lr, lc = binary(left)
    rr, rc = binary(right)
    shape_cols = max(len(vocab), 1)
    a = csr_matrix((np.ones(len(lr)), (lr, lc)), shape=(len(left), shape_cols))
    b = csr_matrix((np.ones(len(rr)), (rr, rc)), shape=(len(right), shape_cols))
    inter = (a @ b.T).toarray()
    sizes = np.asarray(a.sum(axis=1)).ravel()[:, None] + np.asarray(b.sum(axis=1)).ravel()[None, :]
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(sizes > 0, 2.0 * inter / sizes, 0.0)


@dataclass(frozen=True)
class Decision:
    """What happened to one prediction, for the decision log."""

    prediction: int
    gold_id: str | None
    score: float
    outcome: str  # matched | optional | below_threshold | veto:<kind> | duplicate | excluded_content
    best_gold: str | None = None


@dataclass(frozen=True)
class ClaimCounts:
    """Per-document claim-extraction counts; aggregation sums or averages these."""

    tp: int
    fp: int
    fn: int
    predictions: int
    duplicates: int
    excluded: int
    lenient_covered: int
    gold_scored: int
    weighted_tp: float
    weighted_total: float
    version_tp: float
    version_total: float
    matched: tuple[str, ...] = ()  # gold ids matched one-to-one (non-optional)
    decisions: tuple[Decision, ...] = field(default=(), compare=False)


@dataclass(frozen=True)
class GoldItem:
    id: str
    text: str
    optional: bool = False
    salience_weight: float = 1.0
    version_weight: float = 1.0


def match_claims(
    predictions: Sequence[str],
    gold: Sequence[GoldItem],
    similarity,
    threshold: float = DEFAULT_THRESHOLD,
    excluded_sentences: Sequence[str] = (),
    vetoes: Sequence[str] = VETOES,
) -> ClaimCounts:
    """One document: optimal one-to-one matching above `threshold`, with vetoes and a decision log."""
    sim = similarity.matrix(list(predictions), [g.text for g in gold])
    allowed, veto_kind = _apply_vetoes(predictions, gold, sim, threshold, set(vetoes))
    usable = np.where(allowed, sim, 0.0)
    pairs: dict[int, int] = {}
    if usable.size:
        rows, cols = linear_sum_assignment(usable, maximize=True)
        pairs = {int(r): int(c) for r, c in zip(rows, cols) if usable[r, c] >= threshold}
    excluded_hits = _excluded_hits(predictions, excluded_sentences, similarity, threshold, sim)
    decisions = []
    tp = fp = duplicates = excluded = 0
    for i in range(len(predictions)):
        best = int(np.argmax(sim[i])) if gold else None
        best_id = gold[best].id if best is not None else None
        best_score = float(sim[i, best]) if best is not None else 0.0
        if i in pairs:
            g = gold[pairs[i]]
            outcome = "optional" if g.optional else "matched"
            tp += not g.optional
            decisions.append(Decision(i, g.id, float(sim[i, pairs[i]]), outcome, best_id))
            continue
        fp += 1
        if i in excluded_hits:
            excluded += 1
            outcome = "excluded_content"
        elif best is not None and allowed[i].any() and usable[i].max() >= threshold:
            duplicates += 1
            outcome = "duplicate"
        elif best is not None and best_score >= threshold and veto_kind[i][best]:
            outcome = f"veto:{veto_kind[i][best]}"
        else:
            outcome = "below_threshold"
        decisions.append(Decision(i, None, best_score, outcome, best_id))
    return _counts(gold, pairs, usable, threshold, tp, fp, duplicates, excluded, len(predictions), decisions)


def _apply_vetoes(predictions, gold, sim, threshold, active):
    allowed = sim >= threshold
    kinds = [[None] * len(gold) for _ in predictions]
    pred_features = {}
    gold_features = {}
    for i, j in zip(*np.nonzero(allowed)):
        if i not in pred_features:
            pred_features[i] = features.extract(predictions[i])
        if j not in gold_features:
            gold_features[j] = features.extract(gold[j].text)
        kind = features.veto(pred_features[i], gold_features[j])
        if kind in active:
            allowed[i, j] = False
            kinds[i][j] = kind
    return allowed, kinds


def _excluded_hits(predictions, excluded_sentences, similarity, threshold, gold_sim) -> set[int]:
    """Predictions closer to excluded page content (captions, tweets, related stories) than to any gold claim."""
    if not excluded_sentences or not len(predictions):
        return set()
    ex = similarity.matrix(list(predictions), list(excluded_sentences)).max(axis=1)
    best_gold = gold_sim.max(axis=1) if gold_sim.size else np.zeros(len(predictions))
    return {i for i in range(len(predictions)) if ex[i] >= threshold and ex[i] > best_gold[i]}


def _counts(gold, pairs, usable, threshold, tp, fp, duplicates, excluded, n_pred, decisions) -> ClaimCounts:
    matched_gold = set(pairs.values())
    scored = [j for j, g in enumerate(gold) if not g.optional]
    covered = usable.max(axis=0) >= threshold if usable.size else np.zeros(len(gold), dtype=bool)
    fn = sum(1 for j in scored if j not in matched_gold)
    weighted_total = sum(gold[j].salience_weight for j in scored)
    version_total = sum(gold[j].version_weight for j in scored)
    return ClaimCounts(
        tp=tp, fp=fp, fn=fn, predictions=n_pred, duplicates=duplicates, excluded=excluded,
        lenient_covered=int(sum(bool(covered[j]) for j in scored)), gold_scored=len(scored),
        weighted_tp=sum(gold[j].salience_weight for j in scored if j in matched_gold),
        weighted_total=weighted_total,
        version_tp=sum(gold[j].version_weight for j in scored if j in matched_gold),
        version_total=version_total,
        matched=tuple(sorted(gold[j].id for j in scored if j in matched_gold)),
        decisions=tuple(decisions),
    )
