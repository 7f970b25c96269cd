"""Claim precision/recall on hand-computed worked examples, and properties that must always hold."""

import json
import random
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harness import aggregate
from harness.evaluate import evaluate
from harness.records import Prediction
from harness.scoring.matching import ClaimMatcher, GoldItem
from harness.scoring.scorer import DocScore
from tests.conftest import run_cli

BODY = ("Russia launched 63 drones and decoys at Ukraine overnight. Air defenses destroyed 28 drones while "
        "another 21 were jammed. Kharkiv Mayor Ihor Terekhov said Russian drones targeted kindergartens. "
        "Germany will allocate about 9 billion euros ($10.3 billion) for Ukraine this year.")
RELATED = "Israel attacked Iran's nuclear sites, prompting drone retaliation."
TEXT = BODY + "\n\nRelated Articles\n" + RELATED
GOLD_CLAIMS = [
    ("g1", "Russia launched 63 drones and decoys at Ukraine overnight.", False),
    ("g2", "Air defenses destroyed 28 drones.", False),
    ("g3", "Another 21 drones were jammed.", False),
    ("g4", "Kharkiv Mayor Ihor Terekhov said Russian drones targeted kindergartens.", False),
    ("g5", "The 9 billion euros Germany will allocate are worth $10.3 billion.", True),
]


@pytest.fixture
def worked_gold(tmp_path):
    claims = [{"id": cid, "text": text, "spans": [[0, 10]], "optional": opt, "salience": "major"}
              for cid, text, opt in GOLD_CLAIMS]
    doc = {"doc_id": "worked", "text": TEXT,
           "regions": [{"start": 0, "end": len(BODY), "label": "body"},
                       {"start": TEXT.index(RELATED), "end": len(TEXT), "label": "related"}],
           "claims": claims, "summaries": []}
    path = tmp_path / "gold.jsonl"
    path.write_text(json.dumps(doc) + "\n")
    return path


def _score(tmp_path, gold_path, claims):
    preds = tmp_path / "preds.jsonl"
    preds.write_text(json.dumps({"doc_id": "worked", "system": "s", "claims": claims}) + "\n")
    result = run_cli("score", "--predictions", str(preds), "--gold", str(gold_path), "--json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)["systems"]["s"]["claims"]


def test_worked_example_duplicates_wrong_number_unrelated_optional(tmp_path, worked_gold):
    claims = [
        "Russia launched 63 drones and decoys at Ukraine overnight.",   # matches g1
        "Overnight, Russia launched 63 drones and decoys at Ukraine.",  # same fact again: duplicate, FP
        "Air defenses destroyed 82 drones.",                            # g2 with a wrong number: vetoed, FP
        "Israel attacked Iran's nuclear sites.",                        # the unrelated story: FP, excluded content
        "The 9 billion euros Germany will allocate are worth $10.3 billion.",  # optional g5: neither
    ]
    c = _score(tmp_path, worked_gold, claims)
    # By hand: TP = {g1}; FP = 3 (duplicate, wrong number, unrelated); FN = {g2, g3, g4}; g5 optional.
    assert (c["tp"], c["fp"], c["fn"]) == (1, 3, 3)
    assert c["precision"] == pytest.approx(1 / 4)
    assert c["recall"] == pytest.approx(1 / 4)
    assert c["f1"] == pytest.approx(2 * (1 / 4) * (1 / 4) / (1 / 4 + 1 / 4))
    assert c["excluded_content"] == 1
    assert c["duplicate_rate"] == pytest.approx(1 / 5)


def test_worked_example_split_claim(tmp_path, worked_gold):
    # One prediction that merges g2 and g3 can match only one of them one-to-one.
    c = _score(tmp_path, worked_gold, ["Air defenses destroyed 28 drones while another 21 were jammed."])
    assert (c["tp"], c["fp"], c["fn"]) == (1, 0, 3)
    assert c["lenient_recall"] == pytest.approx(2 / 4)  # lenient: both halves covered by the one prediction


def test_worked_example_perfect_and_empty(tmp_path, worked_gold):
    perfect = _score(tmp_path, worked_gold, [text for _, text, _ in GOLD_CLAIMS])
    assert (perfect["tp"], perfect["fp"], perfect["fn"]) == (4, 0, 0) and perfect["f1"] == 1.0
    empty = _score(tmp_path, worked_gold, [])
    assert (empty["tp"], empty["fp"], empty["fn"]) == (0, 0, 4) and empty["f1"] == 0.0


def test_decision_log_names_the_reason(corpus):
    from harness.scoring.scorer import Scorer

    scorer = Scorer(corpus)
    doc = corpus.by_id()["000_15d33b86afb41c0d"]
    gold63 = next(c for c in doc.claims if c.key == "drones_launched_63")
    wrong = gold63.text.replace("63", "36")  # 36 is stated nowhere in the article
    counts = scorer.matcher.match([gold63.text, wrong], scorer.gold_items(doc.doc_id), scorer.story(doc.doc_id))
    outcomes = {d.prediction: d for d in counts.decisions}
    assert outcomes[0].outcome == "matched" and outcomes[0].gold_id == gold63.id
    assert outcomes[1].outcome == "veto:number_changed" and outcomes[1].best_gold == gold63.id


# --------------------------------------------------------------------------- properties

@pytest.fixture(scope="module")
def claim_pool(corpus):
    texts = sorted({c.text for d in corpus.documents for c in d.claims if not c.optional})
    return texts, ClaimMatcher(texts)


def _items(texts):
    return [GoldItem(f"g{i}", t) for i, t in enumerate(texts)]


def _prf(counts):
    p = counts.tp / (counts.tp + counts.fp) if counts.tp + counts.fp else 0.0
    r = counts.tp / (counts.tp + counts.fn) if counts.tp + counts.fn else 0.0
    return p, r


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_properties_of_claim_matching(claim_pool, data):
    """Identical claims score 1; every claim twice halves precision; off-topic claims lower precision exactly."""
    texts, matcher = claim_pool
    gold = data.draw(st.lists(st.sampled_from(texts), min_size=1, max_size=8, unique=True))
    same = matcher.match(gold, _items(gold))
    assert (same.tp, same.fp, same.fn) == (len(gold), 0, 0)
    twice = matcher.match(gold + gold, _items(gold))
    assert (twice.tp, twice.fp, twice.fn, twice.duplicates) == (len(gold), len(gold), 0, len(gold))
    assert _prf(twice) == (0.5, 1.0)
    noise = data.draw(st.lists(st.text(alphabet="qxz jkv", min_size=1, max_size=30), min_size=5, max_size=5))
    off_topic = matcher.match(gold + noise, _items(gold))
    assert _prf(off_topic) == (pytest.approx(len(gold) / (len(gold) + 5)), 1.0)
    counts = matcher.match(gold + noise, _items(gold))
    assert counts.tp + counts.fp == len(gold) + 5 and counts.tp + counts.fn == len(gold)


WORDS = {"one": "eight", "two": "nine", "three": "eleven", "four": "twelve", "six": "thirteen", "seven": "fifteen"}


def _change_every_number(text: str) -> str:
    text = re.sub(r"\d+", lambda m: str(int(m.group(0)) * 7 + 3), text)
    return re.sub(r"\b(" + "|".join(WORDS) + r")\b", lambda m: WORDS[m.group(1)], text)


def test_every_number_changed_stops_those_claims_matching(corpus):
    """Each gold claim that states a number, with every number changed, no longer matches that claim;
    the same claims unchanged all match."""
    from harness.scoring.scorer import Scorer

    scorer = Scorer(corpus)
    for doc in corpus.documents:
        items = scorer.gold_items(doc.doc_id)
        with_numbers = [g for g in items if not g.optional and g.text != _change_every_number(g.text)]
        changed = [_change_every_number(g.text) for g in with_numbers]
        counts = scorer.matcher.match(changed, items, scorer.story(doc.doc_id))
        own = {d.prediction: d.gold_id for d in counts.decisions}
        assert all(own[i] != g.id for i, g in enumerate(with_numbers)), doc.doc_id
        kept = scorer.matcher.match([g.text for g in with_numbers], items, scorer.story(doc.doc_id))
        assert kept.tp == len(with_numbers), doc.doc_id


@settings(max_examples=25, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 30), st.integers(0, 30), st.integers(0, 30)), min_size=1, max_size=8))
def test_micro_f1_is_f1_of_summed_counts(rows):
    from harness.scoring.matching import ClaimCounts

    scores = aggregate.SystemScores()
    for i, (tp, fp, fn) in enumerate(rows):
        scores.add(DocScore(f"d{i}", "s", None, ClaimCounts(tp, fp, fn, tp + fp, 0, 0, 0, tp + fn, 0, 0, 0, 0)))
    got = scores.claims(n_boot=0, seed=0)
    tp, fp, fn = (sum(r[k] for r in rows) for k in range(3))
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    assert got["f1"] == pytest.approx(2 * p * r / (p + r) if p + r else 0.0)
    assert 0.0 <= got["f1"] <= 1.0 and 0.0 <= got["macro_f1"] <= 1.0


def test_document_order_does_not_change_results(corpus):
    preds = []
    for doc in corpus.documents:
        preds.append(Prediction(doc.doc_id, "a", doc.summaries[0].text, tuple()))
        preds.append(Prediction(doc.doc_id, "b", doc.story_text()[:400], None))
    from harness.records import Corpus, PredictedClaim

    preds = [Prediction(p.doc_id, p.system, p.summary,
                        tuple(PredictedClaim(c.text) for c in corpus.by_id()[p.doc_id].claims[:5]) if p.system == "a" else None)
             for p in preds]
    first = evaluate(corpus, preds).results
    shuffled = preds[:]
    random.Random(7).shuffle(shuffled)
    reordered = Corpus(tuple(reversed(corpus.documents)), corpus.sha256, corpus.source)
    second = evaluate(reordered, shuffled).results
    assert json.dumps(first, sort_keys=True) == json.dumps(second, sort_keys=True)


def test_every_similarity_satisfies_the_similarity_protocol():
    """The lexical, hybrid, embedding and judge similarities all offer what the matcher asks of one; only the judge
    has a pre-filter (the matcher asks it about fewer pairs)."""
    import numpy as np

    from harness.scoring.embedding import EmbeddingSimilarity, HybridSimilarity
    from harness.scoring.judge import JudgeSimilarity
    from harness.scoring.matching import LexicalSimilarity
    from harness.scoring.similarity import PrefilteredSimilarity, Similarity

    gold = ["Ukraine says Russia has lost 1 million troops.", "The war began in February 2022."]
    candidates = ["Russia has lost 1 million troops, Ukraine says.", "A drone hit a school."]
    lexical = LexicalSimilarity(gold)
    hybrid = HybridSimilarity(lexical, LexicalSimilarity(gold))
    judge = JudgeSimilarity(gold, "http://127.0.0.1:9/v1", "a-model", cache_dir=None)
    try:
        for similarity in (lexical, hybrid, judge):
            assert isinstance(similarity, Similarity), similarity
        assert isinstance(judge, PrefilteredSimilarity) and not isinstance(hybrid, PrefilteredSimilarity)
        # the mean of two equal parts is that part: the hybrid really is the mean of its parts' matrices
        np.testing.assert_array_equal(hybrid.matrix(candidates, gold), lexical.matrix(candidates, gold))
        assert lexical.matrix(candidates, gold).shape == (2, 2)
    finally:
        judge.close()
    assert EmbeddingSimilarity.name == "embedding(all-MiniLM-L6-v2)" and callable(EmbeddingSimilarity.matrix)
