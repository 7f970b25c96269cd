"""Does a candidate state a gold claim? One matcher for claim extraction and for summary coverage.

The score is how much of the gold claim's content the candidate carries: the IDF-weighted share of
the claim's concepts (stemmed words with synonyms folded, parties, numbers as values; its
attribution set apart) found in the candidate's best window (the whole candidate, one sentence or
one clause). A fragment that shares two rare words with a long claim scores low. Named rules
(harness.scoring.rules) then veto pairs that share the words but not the fact: another number, a
number nobody stated, the opposite polarity, another time, place, speaker or actor.

Claims are assigned one-to-one (`scipy.optimize.linear_sum_assignment`); coverage asks, for each
gold claim, whether any window of the summary states it (many-to-one).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from harness.scoring import features as F
from harness.scoring import rules
from harness.scoring.settings import DEFAULT_THRESHOLD

FRAGMENT_FLOOR = 0.4  # model-based similarities must still see this share of the claim's content
MEMO_GOLD_SETS = 100  # coverage verdicts remembered for this many documents' gold claims
MEMO_SENTENCES = 2_000  # and this many distinct summary sentences of each (at most 200,000 in all)


@dataclass(frozen=True)
class GoldItem:
    id: str
    text: str
    optional: bool = False
    salience_weight: float = 1.0
    version_weight: float = 1.0
    speaker: str = "narrator"


@dataclass(frozen=True)
class Decision:
    """What happened to one prediction, for the decision log."""

    prediction: int
    gold_id: str | None
    score: float
    outcome: str  # matched | optional | below_threshold | veto:<rule> | duplicate | excluded_content
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


# --------------------------------------------------------------------------- similarity


class LexicalSimilarity:
    """The share of each gold claim's content a candidate carries (IDF-weighted, best window).

    IDF is fitted on gold text only (claims and story sentences), never on system output.
    `matrix(candidates, gold)` is asymmetric: rows are candidates, columns gold claims.
    """

    name = "lexical(concept-recall)"

    def __init__(self, gold_texts: Sequence[str], featurizer: F.Featurizer | None = None):
        self.featurizer = featurizer or F.Featurizer()
        documents = [self.featurizer(t).whole.all_units for t in dict.fromkeys(gold_texts)]
        df: dict[str, int] = {}
        for units in documents:
            for unit in units:
                df[unit] = df.get(unit, 0) + 1
        n = max(1, len(documents))
        self._idf = {u: math.log((1 + n) / (1 + c)) + 1.0 for u, c in df.items()}
        self._max_idf = math.log(1 + n) + 1.0
        self._siblings: dict[tuple[str, ...], dict[str, float]] = {}

    def __getstate__(self) -> dict:
        return {**self.__dict__, "_siblings": {}}  # a cache: rebuilt where it is used

    def weight(self, unit: str) -> float:
        return self._max_idf if unit.startswith("#") else self._idf.get(unit, self._max_idf)

    def sibling_weights(self, gold_texts: Sequence[str]) -> dict[str, float]:
        """How much each concept tells the claims of one document apart (an IDF over that document's claims):
        a word every claim of the story shares ("Russian", "drones") says less than "grandmother"."""
        key = tuple(gold_texts)
        cached = self._siblings.get(key)
        if cached is None:
            df: dict[str, int] = {}
            for text in gold_texts:
                for unit in self.featurizer(text).whole.units:
                    df[unit] = df.get(unit, 0) + 1
            n = max(1, len(gold_texts))
            cached = {u: math.log((1 + n) / (1 + c)) + 1.0 for u, c in df.items()}
            if len(self._siblings) < 10_000:
                self._siblings[key] = cached
        return cached

    def gold_weights(self, gold: F.Window, siblings: dict[str, float] | None = None) -> tuple[tuple, float]:
        """Each concept of the gold claim with its weight, and their sum.

        Sorted, and summed exactly: a set's order changes with the process's hash seed, a float sum's last bit
        with the order, and a tie between two claims must be broken the same way in every process."""
        siblings = siblings or {}
        weights = tuple((u, self.weight(u) * siblings.get(u, 1.0)) for u in sorted(gold.units))
        return weights, math.fsum(w for _, w in weights)

    def recalls(self, candidate: F.TextFeatures, gold: F.Window, siblings: dict[str, float] | None = None) -> list[float]:
        """For each window of the candidate, the share of the gold content it carries."""
        return _recalls(candidate, *self.gold_weights(gold, siblings))

    def recall(self, candidate: F.TextFeatures, gold: F.Window, siblings: dict[str, float] | None = None) -> float:
        return max(self.recalls(candidate, gold, siblings))

    def matrix(self, left: Sequence[str], right: Sequence[str]) -> np.ndarray:
        """Rows: candidates; columns: the gold claims of one document (which also weigh each other's words).

        Each gold claim's weights are worked out once, and a candidate sharing no concept with a claim scores
        0 without summing: the same numbers as `recall` pair by pair, for a fraction of the work."""
        out = np.zeros((len(left), len(right)))
        siblings = self.sibling_weights(list(right))
        gold = [self.gold_weights(self.featurizer(t).whole, siblings) for t in right]
        concepts = [frozenset(u for u, _ in weights) for weights, _ in gold]
        for i, text in enumerate(left):
            cand = self.featurizer(text)
            carried = frozenset().union(*(window.all_units for window in cand.finest))
            for j, (weights, total) in enumerate(gold):
                if not concepts[j].isdisjoint(carried):
                    out[i, j] = max(_recalls(cand, weights, total))
        return out


def _recalls(candidate: F.TextFeatures, weights: tuple, total: float) -> list[float]:
    if not total:
        return [0.0] * len(candidate.finest)
    return [math.fsum(w for u, w in weights if u in window.all_units) / total for window in candidate.finest]


# --------------------------------------------------------------------------- the matcher


@dataclass(frozen=True)
class PairDecision:
    score: float  # the similarity the threshold is applied to
    recall: float  # share of the gold content carried
    rule: str | None  # the rule that vetoed the pair, if any
    window: int


class ClaimMatcher:
    """Similarity + rules, with parsed texts cached per distinct text for the matcher's lifetime."""

    def __init__(self, gold_texts: Sequence[str], threshold: float = DEFAULT_THRESHOLD,
                 vetoes: Sequence[str] = rules.VETOES, similarity=None):
        self.lexical = LexicalSimilarity(gold_texts)
        self.featurizer = self.lexical.featurizer
        self.similarity = similarity  # None: the lexical recall is the score
        self.threshold = threshold
        self.vetoes = frozenset(vetoes)
        self._speakers: dict[str, F.Speaker] = {}
        self._sources: dict[str, rules.Source] = {}
        self._expressed: dict[tuple, dict[str, frozenset[str]]] = {}  # (gold, source, threshold) → sentence → ids

    def __getstate__(self) -> dict:
        return {**self.__dict__, "_speakers": {}, "_sources": {}, "_expressed": {}}  # caches: rebuilt where used

    @property
    def name(self) -> str:
        """The similarity's name and the rules' version (the signature's matcher field)."""
        from harness.scoring.settings import RULES_VERSION

        return f"{self.similarity.name if self.similarity is not None else self.lexical.name}+{RULES_VERSION}"

    def gold_speaker(self, item: GoldItem) -> F.Speaker:
        """The annotated speaker when the gold names one; else the one its text attributes it to."""
        key = f"{item.speaker}\0{item.text}"
        speaker = self._speakers.get(key)
        if speaker is None:
            speaker = (F.speaker_of([item.speaker]) if item.speaker and item.speaker != "narrator"
                       else self.featurizer(item.text).whole.speaker)
            self._speakers[key] = speaker
        return speaker

    def decide(self, candidate: str, gold: GoldItem, source_numbers: rules.Source | None,
               threshold: float | None = None, score: float | None = None,
               whole_candidate_numbers: bool = True, siblings: Sequence[GoldItem] = ()) -> PairDecision:
        """Whether `candidate` states `gold`: the windows that carry enough of its content, best first, until
        one passes every rule. `score` is a model-based similarity, when one decides instead of the recall."""
        threshold = self.threshold if threshold is None else threshold
        cand = self.featurizer(candidate)
        gold_window = self.featurizer(gold.text).whole
        recalls = self.lexical.recalls(cand, gold_window,
                                       self.lexical.sibling_weights([g.text for g in siblings]) if siblings else None)
        floor = threshold if score is None else FRAGMENT_FLOOR
        order = sorted(range(len(recalls)), key=lambda i: (-recalls[i], -i))  # ties: the shorter, later window
        first = None
        for where in order:
            if recalls[where] < floor - 1e-12:
                break
            window = cand.finest[where]
            numbers = cand.whole.quantities if whole_candidate_numbers else window.quantities
            rule = rules.first_rule(window, numbers, gold_window, self.gold_speaker(gold), source_numbers,
                                    self.vetoes)
            decision = PairDecision(recalls[where] if score is None else score, recalls[where], rule, where)
            if rule is None:
                return decision
            first = first or decision
        if first is not None:
            return first
        best = order[0]
        fragment = "fragment" if score is not None and score >= threshold else None
        return PairDecision(recalls[best] if score is None else score, recalls[best], fragment, best)

    def scores(self, candidates: Sequence[str], gold: Sequence[GoldItem], source: rules.Source | None = None,
               threshold: float | None = None) -> np.ndarray:
        """The similarity the threshold is applied to. A costly model (one with a `prefilter`: the judge) is asked
        only about the pairs worth asking: those its pre-filter keeps that carry enough of the claim's content
        and that no rule refuses."""
        texts = [g.text for g in gold]
        if self.similarity is None:
            return self.lexical.matrix(candidates, texts)
        if getattr(self.similarity, "prefilter", None) is None:
            return self.similarity.matrix(list(candidates), texts)
        ask = self.similarity.prefilter(candidates, texts)
        for i, j in zip(*np.nonzero(ask)):
            decision = self.decide(candidates[i], gold[j], source, threshold, score=1.0, siblings=gold)
            ask[i, j] = decision.rule is None
        return self.similarity.matrix(list(candidates), texts, ask=ask)

    # ---------------------------------------------------------------- claims, one-to-one

    def match(self, predictions: Sequence[str], gold: Sequence[GoldItem], source: str | None = None,
              excluded_sentences: Sequence[str] = (), threshold: float | None = None) -> ClaimCounts:
        """One document: optimal one-to-one matching of predictions to gold claims, with a decision log."""
        from scipy.optimize import linear_sum_assignment

        threshold = self.threshold if threshold is None else threshold
        source_numbers = self.source_numbers(source)
        n, m = len(predictions), len(gold)
        sim = self.scores(predictions, gold, source_numbers, threshold) if n and m else np.zeros((n, m))
        allowed = sim >= threshold
        lenient = allowed.copy()
        rule_of: dict[tuple[int, int], str] = {}
        for i, j in zip(*np.nonzero(allowed)):
            decision = self.decide(predictions[i], gold[j], source_numbers, threshold,
                                   None if self.similarity is None else float(sim[i, j]), siblings=gold)
            if decision.rule is not None:
                allowed[i, j] = False
                rule_of[(int(i), int(j))] = decision.rule
                lenient[i, j] = decision.rule in rules.LENIENT_RULES
        usable = np.where(allowed, sim + 1e-3 * _tightness(sim), 0.0)
        pairs: dict[int, int] = {}
        if usable.size:
            rows, cols = linear_sum_assignment(usable, maximize=True)
            pairs = {int(r): int(c) for r, c in zip(rows, cols) if allowed[r, c]}
        excluded_hits = self._excluded_hits(predictions, excluded_sentences, sim, threshold)
        decisions, tp, fp, duplicates, excluded = [], 0, 0, 0, 0
        for i in range(n):
            best = int(sim[i].argmax()) if m else None
            best_id = gold[best].id if best is not None else None
            best_score = float(sim[i, best]) if best is not None else 0.0
            if i in pairs:
                g = gold[pairs[i]]
                tp += not g.optional
                decisions.append(Decision(i, g.id, float(sim[i, pairs[i]]), "optional" if g.optional else "matched",
                                          best_id))
                continue
            fp += 1
            if i in excluded_hits:
                excluded += 1
                outcome = "excluded_content"
            elif best is not None and allowed[i].any():
                duplicates += 1
                outcome = "duplicate"
            elif best is not None and best_score >= threshold and (i, best) in rule_of:
                outcome = f"veto:{rule_of[(i, best)]}"
            else:
                outcome = "below_threshold"
            decisions.append(Decision(i, None, best_score, outcome, best_id))
        return _counts(gold, pairs, lenient, tp, fp, duplicates, excluded, n, decisions)

    def counts_at(self, predictions: Sequence[str], gold: Sequence[GoldItem], source: str | None,
                  thresholds: Sequence[float]) -> list[tuple[int, int, int]]:
        """(tp, fp, fn) of `match` at each threshold, with the similarities and the rules worked out once.

        A pair passes at threshold t when one of the candidate's windows carrying at least t of the claim's
        content passes every rule (`decide` tries them best first), so the best such window's share answers
        for every t at once; a model's verdict on a pair does not depend on t at all."""
        if getattr(self.similarity, "prefilter", None) is not None:  # the judge: asked per threshold, as in a run
            return [_tp_fp_fn(self.match(predictions, gold, source, (), t)) for t in thresholds]
        n, m = len(predictions), len(gold)
        source_numbers = self.source_numbers(source)
        sim = self.scores(predictions, gold, source_numbers) if n and m else np.zeros((n, m))
        level = np.full((n, m), -np.inf)
        for i, j in zip(*np.nonzero(sim >= min(thresholds))):
            level[i, j] = self._passing_share(predictions[i], gold[j], source_numbers, min(thresholds),
                                              None if self.similarity is None else float(sim[i, j]), gold)
        tight = sim + 1e-3 * _tightness(sim)
        scored = [j for j, g in enumerate(gold) if not g.optional]
        out = []
        for t in thresholds:
            allowed = (sim >= t) & (level >= t - 1e-12)
            pairs: dict[int, int] = {}
            if allowed.any():
                from scipy.optimize import linear_sum_assignment

                rows, cols = linear_sum_assignment(np.where(allowed, tight, 0.0), maximize=True)
                pairs = {int(r): int(c) for r, c in zip(rows, cols) if allowed[r, c]}
            matched = set(pairs.values())
            tp = sum(1 for j in matched if not gold[j].optional)
            out.append((tp, n - len(pairs), sum(1 for j in scored if j not in matched)))
        return out

    def _passing_share(self, candidate: str, gold: GoldItem, source_numbers: rules.Source | None, floor: float,
                       score: float | None, siblings: Sequence[GoldItem]) -> float:
        """The largest share of `gold` carried by a window of `candidate` that passes every rule (-inf: none
        from `floor` up); +inf for a model's score when some window from FRAGMENT_FLOOR up passes (the model,
        not the share, then meets the threshold)."""
        if score is not None:
            return np.inf if self.decide(candidate, gold, source_numbers, floor, score, siblings=siblings).rule is None \
                else -np.inf
        decision = self.decide(candidate, gold, source_numbers, floor, siblings=siblings)
        return decision.recall if decision.rule is None else -np.inf

    def _excluded_hits(self, predictions, excluded_sentences, gold_sim, threshold) -> set[int]:
        """Predictions closer to excluded page content (captions, tweets, related stories) than to any gold claim
        (always by the lexical recall: no model is asked about page furniture)."""
        if not excluded_sentences or not predictions:
            return set()
        excluded_sim = self.lexical.matrix(predictions, list(excluded_sentences))
        ex = excluded_sim.max(axis=1)
        best_gold = gold_sim.max(axis=1) if gold_sim.size else np.zeros(len(ex))
        return {i for i in range(len(ex)) if ex[i] >= threshold and ex[i] > best_gold[i]}

    def source_numbers(self, source: str | None) -> rules.Source | None:
        """What the document states, for the number rules: every number and the sentences that state them."""
        if source is None:
            return None
        cached = self._sources.get(source)
        if cached is None:
            whole = self.featurizer.window(source)
            years = tuple(float(y) for y, _, _ in whole.times.dates if y)
            sentences = tuple(self.featurizer.window(s) for s in F.sentences_of(source) if any(c.isalnum() for c in s))
            cached = rules.Source(whole.quantities + years, sentences, self.featurizer)
            if len(self._sources) < 10_000:
                self._sources[source] = cached
        return cached

    # ---------------------------------------------------------------- coverage, many-to-one

    def expressed(self, summary_sentences: Sequence[str], gold: Sequence[GoldItem], source: str | None = None,
                  threshold: float | None = None) -> list[str]:
        """Ids of the gold claims some sentence (or clause) of the summary states, in gold order.

        A sentence's verdicts depend on the sentence and the gold alone (unless a pre-filter ranks the sentences
        against each other: the judge), so they are remembered per distinct sentence: the summaries of many
        systems or checkpoints of one document share most of their sentences."""
        threshold = self.threshold if threshold is None else threshold
        if not summary_sentences or not gold:
            return []
        if getattr(self.similarity, "prefilter", None) is not None:
            return self._expressed_together(summary_sentences, gold, source, threshold)
        memo = self._expressed.get((tuple(gold), source, threshold))
        if memo is None:
            if len(self._expressed) >= MEMO_GOLD_SETS:
                self._expressed.clear()
            memo = self._expressed[(tuple(gold), source, threshold)] = {}
        found: set[str] = set()
        for sentence in summary_sentences:
            ids = memo.get(sentence)
            if ids is None:
                ids = frozenset(self._expressed_together([sentence], gold, source, threshold))
                if len(memo) < MEMO_SENTENCES:
                    memo[sentence] = ids
            found |= ids
        return [g.id for g in gold if g.id in found]

    def _expressed_together(self, summary_sentences: Sequence[str], gold: Sequence[GoldItem], source: str | None,
                            threshold: float) -> list[str]:
        source_numbers = self.source_numbers(source)
        sim = self.scores(summary_sentences, gold, source_numbers, threshold)
        out = []
        for j, item in enumerate(gold):
            for i in np.argsort(-sim[:, j], kind="stable"):
                if sim[i, j] < threshold:
                    break
                decision = self.decide(summary_sentences[i], item, source_numbers, threshold,
                                       None if self.similarity is None else float(sim[i, j]),
                                       whole_candidate_numbers=False, siblings=gold)
                if decision.rule is None:
                    out.append(item.id)
                    break
        return out


def _tightness(sim: np.ndarray) -> np.ndarray:
    """A tie-break that prefers, among equally good pairs, the candidate closest to one gold claim."""
    if not sim.size:
        return sim
    return sim / np.maximum(sim.sum(axis=1, keepdims=True), 1e-9)


def _tp_fp_fn(counts: ClaimCounts) -> tuple[int, int, int]:
    return counts.tp, counts.fp, counts.fn


def _counts(gold, pairs, lenient, tp, fp, duplicates, excluded, n_pred, decisions) -> ClaimCounts:
    matched_gold = set(pairs.values())
    scored = [j for j, g in enumerate(gold) if not g.optional]
    covered = lenient.any(axis=0) if lenient.size else np.zeros(len(gold), dtype=bool)
    fn = sum(1 for j in scored if j not in matched_gold)
    return ClaimCounts(
        tp=tp, fp=fp, fn=fn, predictions=n_pred, duplicates=duplicates, excluded=excluded,
        lenient_covered=int(sum(bool(covered[j]) for j in scored)), gold_scored=len(scored),
        weighted_tp=sum(gold[j].salience_weight for j in scored if j in matched_gold),
        weighted_total=sum(gold[j].salience_weight for j in scored),
        version_tp=sum(gold[j].version_weight for j in scored if j in matched_gold),
        version_total=sum(gold[j].version_weight for j in scored),
        matched=tuple(sorted(gold[j].id for j in scored if j in matched_gold)),
        decisions=tuple(decisions),
    )
