"""ROUGE numbers must be rouge-score's: every expected value comes from rouge-score called directly."""

import pytest
from rouge_score import rouge_scorer

from harness.scoring.rouge import ROUGE_TYPES, RougeScorer
from harness.text import one_sentence_per_line

REFERENCE = rouge_scorer.RougeScorer(list(ROUGE_TYPES), use_stemmer=True)


def _direct(reference: str, prediction: str) -> dict:
    raw = REFERENCE.score(reference, prediction)
    return {t: (raw[t].precision, raw[t].recall, raw[t].fmeasure) for t in ROUGE_TYPES}


def _ours(scorer, reference, prediction) -> dict:
    got = scorer.score(reference, prediction)
    return {t: (got[t].precision, got[t].recall, got[t].fmeasure) for t in ROUGE_TYPES}


@pytest.mark.parametrize("backend", ["auto", "python"])
def test_gold_summaries_score_exactly_as_rouge_score(corpus, backend):
    scorer = RougeScorer(backend=backend)
    for doc in corpus.documents:
        refs = [one_sentence_per_line(s.text) for s in doc.summaries]
        for ref in refs:
            for pred in refs + [one_sentence_per_line(doc.story_text()[:600])]:
                assert _ours(scorer, ref, pred) == _direct(ref, pred)


def test_multi_reference_takes_best_f_per_metric():
    refs = ["Russia lost a million troops.", "Ukraine says Russian losses top 1 million.\nThe UK agrees."]
    pred = "Ukraine says Russia lost 1 million troops.\nBritain agrees."
    got = RougeScorer().score_multi(refs, pred)
    for t in ROUGE_TYPES:
        candidates = [REFERENCE.score(r, pred)[t] for r in refs]
        best = max(candidates, key=lambda s: s.fmeasure)
        assert (got[t].precision, got[t].recall, got[t].fmeasure) == (best.precision, best.recall, best.fmeasure)


def test_lsum_needs_sentences_on_lines():
    # The pitfall: without newlines rouge-score's Lsum silently equals L.
    pred = "The UK agreed. Russia lost troops."
    ref = "Russia lost troops. The UK agreed."
    flat = REFERENCE.score(ref, pred)
    assert flat["rougeLsum"].fmeasure == flat["rougeL"].fmeasure
    split = RougeScorer().score(one_sentence_per_line(ref), one_sentence_per_line(pred))
    assert split["rougeLsum"].fmeasure == 1.0 and split["rougeL"].fmeasure < 1.0


def test_tokenizer_pitfalls_are_rouge_scores():
    # Non-ASCII letters vanish and "$10.3" becomes "10 3": kept identical, which is why numbers are judged elsewhere.
    ref, pred = "Germany pledged €9 billion ($10.3 billion).", "Germany pledged 9 billion (10 3 billion)."
    assert _ours(RougeScorer(), ref, pred) == _direct(ref, pred)
    assert _direct(ref, pred)["rouge1"][2] == 1.0


def test_argument_order_is_reference_then_prediction():
    ref = "Russia launched 63 drones and decoys overnight at Ukraine."
    pred = "Russia launched 63 drones."
    got = RougeScorer().score(ref, pred)["rouge1"]
    assert got.precision == 1.0 and got.recall == pytest.approx(4 / 9)
