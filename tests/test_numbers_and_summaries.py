"""Number normalisation, numeric faithfulness and claim coverage of summaries."""

import re

import pytest

from harness import numbers
from harness.records import Prediction
from harness.scoring.scorer import Scorer


@pytest.mark.parametrize("text,value", [
    ("1 million", 1_000_000), ("1,000,000", 1_000_000), ("one million", 1_000_000), ("1m", 1_000_000),
    ("$10.3 billion", 10_300_000_000), ("10.3bn", 10_300_000_000), ("€9 billion", 9_000_000_000),
    ("2-year-old", 2), ("45,100", 45_100), ("forty-one", 41), ("1,000-kilometer", 1_000), ("three", 3),
])
def test_one_quantity(text, value):
    found = numbers.find_quantities(text)
    assert [q.value for q in found] == [value]


def test_not_quantities():
    assert numbers.find_quantities("the 30th brigade, pic.twitter.com/bilj1zC19o, second-largest") == []


def test_faithful_counts():
    source = "Russia launched 63 drones; 28 were destroyed and about 390,000 were injured. Germany: €9 billion."
    assert numbers.faithful_counts("63 drones, 28 destroyed, 390,000 injured, nine billion euros", source) == (4, 4)
    assert numbers.faithful_counts("36 drones, 82 destroyed", source) == (0, 2)


def test_changing_every_number_keeps_rouge_but_loses_faithfulness(corpus):
    scorer = Scorer(corpus)
    doc = corpus.by_id()["000_15d33b86afb41c0d"]
    good = doc.summaries[2].text                      # the long reference, numbers as the article writes them
    bad = re.sub(r"\d", lambda m: str((int(m.group()) + 3) % 10), good)
    g = scorer.score(Prediction(doc.doc_id, "s", good, None)).summary
    b = scorer.score(Prediction(doc.doc_id, "s", bad, None)).summary
    assert g.numbers_stated == b.numbers_stated > 5
    assert g.numbers_faithful == g.numbers_stated
    assert b.numbers_faithful <= 2                    # an altered figure may still occur elsewhere by chance
    assert b.rouge["rougeL"].fmeasure > 0.8 * g.rouge["rougeL"].fmeasure


def test_reference_summary_covers_most_of_its_labelled_claims(corpus):
    scorer = Scorer(corpus)
    for doc in corpus.documents:
        long = next(s for s in doc.summaries if s.length == "long")
        got = scorer.score(Prediction(doc.doc_id, "s", long.text, None)).summary.coverage
        labelled = set(long.claims) - {c.id for c in doc.claims if c.optional}
        assert len(set(got.covered) & labelled) >= 0.7 * len(labelled), doc.doc_id


def test_empty_summary_scores_zero(corpus):
    scorer = Scorer(corpus)
    doc = corpus.documents[0]
    s = scorer.score(Prediction(doc.doc_id, "s", "", None)).summary
    assert s.rouge["rouge1"].fmeasure == 0.0 and s.coverage.covered == () and s.numbers_stated == 0
