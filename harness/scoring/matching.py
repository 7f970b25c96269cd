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
from sklearn.preprocessing import normalize

from harness.scoring import features
from harness.scoring.settings import DEFAULT_THRESHOLD, VETOES


def content_tokens(text: str) -> list[str]:
    """Lowercased, Porter-stemmed word tokens without stop words (rouge-score's tokenizer)."""
    from rouge_score_rs import _native, _rougers

    return [t for t in _native.call(_rougers.tokenize, text, True) if t not in ENGLISH_STOP_WORDS]


class LexicalSimilarity:
    """TF-IDF cosine + content-word Dice, with the IDF fitted on gold text only.

    Each text is tokenised once per call, and TF-IDF rows are built directly from the fitted
    vocabulary and IDF with sklearn's own arithmetic (counts, log + 1, times IDF, its in-place L2
    row normalisation), which skips sklearn's per-call validation, the dominant cost on small
    inputs. The construction is checked against sklearn's transform on the gold texts and sklearn is
    used instead if they differ in any bit.
    """

    name = "lexical(tfidf-gold+dice)"

    def __init__(self, gold_texts: Sequence[str]):
        texts = list(gold_texts) or [""]
        self._vectorizer = TfidfVectorizer(analyzer=content_tokens, sublinear_tf=True)
        self._vectorizer.fit(texts)
        self._vocabulary: dict[str, int] = self._vectorizer.vocabulary_
        self._idf = np.asarray(self._vectorizer.idf_, dtype=np.float64)
        self._direct = _same_csr(self._tfidf([content_tokens(t) for t in texts]), self._vectorizer.transform(texts))

    def matrix(self, left: Sequence[str], right: Sequence[str]) -> np.ndarray:
        return self.matrices(left, [right])[0]

    def matrices(self, left: Sequence[str], rights: Sequence[Sequence[str]]) -> list[np.ndarray]:
        """`matrix(left, right)` for each right, tokenising and weighting `left` only once."""
        left = list(left)
        left_tokens = [content_tokens(t) for t in left]
        left_tfidf = None
        out = []
        for right in rights:
            right = list(right)
            if not left or not right:
                out.append(np.zeros((len(left), len(right))))
                continue
            right_tokens = [content_tokens(t) for t in right]
            if left_tfidf is None:
                left_tfidf = self._weights(left, left_tokens)
            cosine = (left_tfidf @ self._weights(right, right_tokens).T).toarray()
            out.append((cosine + _dice(left_tokens, right_tokens)) / 2.0)
        return out

    def _weights(self, texts: list[str], tokens: list[list[str]]):
        return self._tfidf(tokens) if self._direct else self._vectorizer.transform(texts)

    def _tfidf(self, token_lists: list[list[str]]) -> csr_matrix:
        """sklearn's TfidfVectorizer.transform (sublinear tf, l2), step by step, on tokenised texts."""
        vocabulary = self._vocabulary
        indices: list[int] = []
        counts: list[int] = []
        indptr = [0]
        for tokens in token_lists:
            counter: dict[int, int] = {}
            for token in tokens:
                j = vocabulary.get(token)
                if j is not None:
                    counter[j] = counter.get(j, 0) + 1
            indices.extend(counter)
            counts.extend(counter.values())
            indptr.append(len(indices))
        matrix = csr_matrix((np.asarray(counts, dtype=np.float64), np.asarray(indices, dtype=np.int32),
                             np.asarray(indptr, dtype=np.int32)), shape=(len(token_lists), len(vocabulary)))
        matrix.sort_indices()
        np.log(matrix.data, matrix.data)
        matrix.data += 1.0
        matrix.data *= self._idf[matrix.indices]
        return normalize(matrix, norm="l2", copy=False)


def _same_csr(a, b) -> bool:
    a, b = csr_matrix(a), csr_matrix(b)
    return (a.shape == b.shape and np.array_equal(a.indptr, b.indptr) and np.array_equal(a.indices, b.indices)
            and np.array_equal(a.data, b.data))


def _dice(left: list[list[str]], right: list[list[str]]) -> np.ndarray:
    """Dice overlap of the token sets, 2|A & B| / (|A| + |B|), from exact integer counts."""
    vocab: dict[str, int] = {}

    def binary(token_lists: list[list[str]]) -> csr_matrix:
        rows, cols = [], []
        for i, tokens in enumerate(token_lists):
            for token in set(tokens):
                rows.append(i)
                cols.append(vocab.setdefault(token, len(vocab)))
        return rows, cols

    lr, lc = binary(left)
    rr, rc = binary(right)
    shape_cols = max(len(vocab), 1)
    a = csr_matrix((np.ones(len(lr)), (lr, lc)), shape=(len(left), shape_cols))
    b = csr_matrix((np.ones(len(rr)), (rr, rc)), shape=(len(right), shape_cols))
    inter = (a @ b.T).toarray()  # sparse product: no BLAS threads, which stall on a busy machine
    sizes = np.bincount(lr, minlength=len(left))[:, None] + np.bincount(rr, minlength=len(right))[None, :]
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
    texts, gold_texts = list(predictions), [g.text for g in gold]
    with_excluded = bool(excluded_sentences) and bool(texts)
    several = getattr(similarity, "matrices", None)  # one pass over the predictions for both matrices
    if getattr(similarity, "prefilter", None) is not None:  # costly per pair: asked only about pairs worth asking
        sim, excluded_sim = _asked_similarities(texts, gold, list(excluded_sentences) if with_excluded else None,
                                                similarity, threshold, set(vetoes))
    elif several is not None and with_excluded:
        sim, excluded_sim = several(texts, [gold_texts, list(excluded_sentences)])
    else:
        sim = similarity.matrix(texts, gold_texts)
        excluded_sim = similarity.matrix(texts, list(excluded_sentences)) if with_excluded else None
    allowed, veto_kind = _apply_vetoes(predictions, gold, sim, threshold, set(vetoes))
    usable = np.where(allowed, sim, 0.0)
    pairs: dict[int, int] = {}
    if usable.size:
        rows, cols = linear_sum_assignment(usable, maximize=True)
        pairs = {int(r): int(c) for r, c in zip(rows, cols) if usable[r, c] >= threshold}
    excluded_hits = _excluded_hits(excluded_sim, threshold, sim)
    if gold:  # per prediction: its most similar gold claim, and whether any allowed pair passes
        best_of = sim.argmax(axis=1)
        best_scores = sim[np.arange(len(texts)), best_of].tolist()
        best_of = best_of.tolist()
        passes = (allowed.any(axis=1) & (usable.max(axis=1) >= threshold)).tolist()
    decisions = []
    tp = fp = duplicates = excluded = 0
    for i in range(len(predictions)):
        best = best_of[i] if gold else None
        best_id = gold[best].id if best is not None else None
        best_score = best_scores[i] if best is not None else 0.0
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
        elif best is not None and passes[i]:
            duplicates += 1
            outcome = "duplicate"
        elif best is not None and best_score >= threshold and veto_kind[i][best]:
            outcome = f"veto:{veto_kind[i][best]}"
        else:
            outcome = "below_threshold"
        decisions.append(Decision(i, None, best_score, outcome, best_id))
    return _counts(gold, pairs, usable, threshold, tp, fp, duplicates, excluded, len(predictions), decisions)


def _asked_similarities(texts, gold, excluded, similarity, threshold, active):
    """The pre-filter's pairs that survive the vetoes; excluded content only for predictions no claim took."""
    plausible = similarity.prefilter(texts, [g.text for g in gold])
    ask, _ = _apply_vetoes(texts, gold, plausible.astype(float), 1.0, active)
    sim = similarity.matrix(texts, [g.text for g in gold], ask=ask)
    if excluded is None:
        return sim, None
    unmatched = ~(sim >= threshold).any(axis=1)[:, None]
    return sim, similarity.matrix(texts, excluded, ask=similarity.prefilter(texts, excluded) & unmatched)


def _apply_vetoes(predictions, gold, sim, threshold, active):
    allowed = sim >= threshold
    kinds = [[None] * len(gold) for _ in predictions]
    pred_features = {}
    gold_features = {}
    rows, cols = np.nonzero(allowed)
    for i, j in zip(rows.tolist(), cols.tolist()):
        if i not in pred_features:
            pred_features[i] = features.extract(predictions[i])
        if j not in gold_features:
            gold_features[j] = features.extract(gold[j].text)
        kind = features.veto(pred_features[i], gold_features[j])
        if kind in active:
            allowed[i, j] = False
            kinds[i][j] = kind
    return allowed, kinds


def _excluded_hits(excluded_sim, threshold, gold_sim) -> set[int]:
    """Predictions closer to excluded page content (captions, tweets, related stories) than to any gold claim."""
    if excluded_sim is None:
        return set()
    ex = excluded_sim.max(axis=1)
    best_gold = gold_sim.max(axis=1) if gold_sim.size else np.zeros(len(ex))
    return {i for i in range(len(ex)) if ex[i] >= threshold and ex[i] > best_gold[i]}


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
