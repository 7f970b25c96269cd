"""Scoring at scale gives the numbers the straightforward way gives.

The vectorised bootstrap is checked against the plain per-resample loops the harness used before
(written out here, seed for seed); scoring on several processes against scoring in one; the number
finder's targeted scan against the pattern's full scan; the streamed pairs mode against rouge-score.
"""

import json
import re
from functools import partial
import subprocess
import sys
from statistics import fmean

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rouge_score import rouge_scorer

from harness import aggregate, evaluate as evaluate_module, numbers
from harness.cli import main as cli_main
from harness.evaluate import evaluate
from harness.scoring.jobs import worker_scorer
from harness.parallel import Workers
from harness.records import PredictedClaim, Prediction
from harness.scoring.rouge import ROUGE_TYPES
from harness.scoring.scorer import Scorer, ScoreSettings, matcher_name
from tests.conftest import run_cli

# --------------------------------------------------------------------------- the loops the bootstrap replaced


def _loop_interval(values, statistic, n, seed):
    rng = np.random.default_rng(seed)
    picks = rng.integers(0, len(values), size=(n, len(values)))
    estimates = np.array([statistic([values[i] for i in row]) for row in picks])
    return [float(np.percentile(estimates, 2.5)), float(np.percentile(estimates, 97.5))]


def _f1(p, r):
    return 2 * p * r / (p + r) if p + r else 0.0


def _ratio(a, b):
    return a / b if b else 0.0


def _loop_micro_f1(rows):
    tp, fp, fn = (sum(r[k] for r in rows) for k in range(3))
    return _f1(_ratio(tp, tp + fp), _ratio(tp, tp + fn))


def _loop_two_level(rows, n, seed):
    rng = np.random.default_rng(seed)
    estimates = []
    for _ in range(n):
        tp_p = tp_g = n_pred = n_gold = 0
        for i in rng.integers(0, len(rows), size=len(rows)):
            tp, fp, fn = rows[i]
            if tp + fp:
                tp_p += rng.binomial(tp + fp, tp / (tp + fp))
                n_pred += tp + fp
            if tp + fn:
                tp_g += rng.binomial(tp + fn, tp / (tp + fn))
                n_gold += tp + fn
        estimates.append(_f1(_ratio(tp_p, n_pred), _ratio(tp_g, n_gold)))
    return [float(np.percentile(estimates, 2.5)), float(np.percentile(estimates, 97.5))]


def _loop_paired_p(diffs, n_boot, seed):
    rng = np.random.default_rng(seed)
    diffs = np.asarray(diffs, dtype=float)
    centred = diffs - diffs.mean()
    boots = np.abs(centred[rng.integers(0, len(diffs), size=(n_boot, len(diffs)))].mean(axis=1))
    return float((np.sum(boots >= abs(diffs.mean())) + 1) / (n_boot + 1))


@pytest.fixture(params=[aggregate.RESAMPLE_BLOCK, 64], ids=["default-blocks", "many-small-blocks"])
def block(request, monkeypatch):
    monkeypatch.setattr(aggregate, "RESAMPLE_BLOCK", request.param)


@pytest.mark.parametrize("n_docs,n_boot,seed", [(2, 50, 0), (5, 1000, 12345), (37, 300, 7), (400, 200, 99)])
def test_mean_intervals_equal_the_per_resample_loop(block, n_docs, n_boot, seed):
    rng = np.random.default_rng(n_docs)
    columns = [rng.random(n_docs) for _ in range(4)]
    got = aggregate.mean_intervals(columns, n_boot, seed)
    for column, interval in zip(columns, got):
        expected = _loop_interval(list(column), lambda xs: float(np.mean(xs)), n_boot, seed)
        assert interval == pytest.approx(expected, abs=1e-12)


@pytest.mark.parametrize("n_docs,n_boot,seed", [(2, 50, 1), (5, 1000, 12345), (60, 300, 3)])
def test_claim_intervals_equal_the_per_resample_loops(block, n_docs, n_boot, seed):
    rng = np.random.default_rng(seed)
    rows = [tuple(int(x) for x in rng.integers(0, 9, size=3)) for _ in range(n_docs)]
    rows[0] = (0, 0, 0)  # a document with neither predictions nor gold: no draw at all
    tp, fp, fn = (np.array([r[k] for r in rows], dtype=np.int64) for k in range(3))
    assert aggregate.micro_f1_interval(tp, fp, fn, n_boot, seed) == pytest.approx(
        _loop_interval(rows, _loop_micro_f1, n_boot, seed), abs=1e-12)
    assert aggregate.two_level_f1_ci(tp, fp, fn, n_boot, seed) == pytest.approx(
        _loop_two_level(rows, n_boot, seed), abs=1e-12)


def test_paired_bootstrap_equals_the_full_matrix(block):
    diffs = np.random.default_rng(4).normal(0.01, 0.1, size=40)
    got = aggregate.paired_test(np.zeros(40), diffs, n_boot=3000, seed=11)
    assert got["test"] == "paired bootstrap"
    assert got["p_value"] == pytest.approx(_loop_paired_p(diffs, 3000, 11), abs=1e-12)


def test_streamed_intervals_depend_on_seed_and_rows_not_on_chunking(monkeypatch):
    monkeypatch.setattr(aggregate, "RESAMPLE_BLOCK", 400 * 30)  # blocks of 30 rows, none aligned with the pieces
    rows = np.random.default_rng(8).random((500, 2)).tolist()
    whole = aggregate.StreamingBootstrap(2, 400, 5)
    whole.add(rows)
    pieces = aggregate.StreamingBootstrap(2, 400, 5)
    for start in range(0, 500, 7):
        pieces.add(rows[start:start + 7])
    assert np.allclose(pieces.intervals(), whole.intervals(), rtol=0, atol=1e-12)
    lo, hi = whole.intervals()[0]
    mean, sd = np.mean([r[0] for r in rows]), np.std([r[0] for r in rows]) / np.sqrt(len(rows))
    assert lo < mean < hi and hi - lo == pytest.approx(2 * 1.96 * sd, rel=0.2)  # the normal approximation


def test_streamed_intervals_of_a_constant_are_that_constant():
    boot = aggregate.StreamingBootstrap(1, 200, 1)
    boot.add([[0.25]] * 30)
    assert boot.intervals() == [[0.25, 0.25]]
    single = aggregate.StreamingBootstrap(1, 200, 1)
    single.add([[0.5]])
    assert single.intervals() == [None]


# --------------------------------------------------------------------------- one process or several


@pytest.mark.parametrize("started_first", [False, True], ids=["started-on-need", "started-up-front"])
def test_several_processes_give_exactly_the_results_of_one(corpus, monkeypatch, started_first):
    """Scored with a worker process from the first chunk on: the same result object, bit for bit."""
    predictions = []
    for k in range(7):
        for doc in corpus.documents:
            sentences = doc.story_text().split(". ")
            summary = ". ".join(sentences[k:k + 3])
            claims = tuple(PredictedClaim(c.text) for c in doc.claims[k::5])
            predictions.append(Prediction(doc.doc_id, f"system-{k}", summary, claims if k % 2 else None))
    settings_ = ScoreSettings(bootstrap=200)
    monkeypatch.setattr(evaluate_module, "CHUNK", 4)
    monkeypatch.setattr(evaluate_module, "PARALLEL_FROM", 0)
    one = evaluate(corpus, predictions, settings_).results
    with Workers(1, partial(worker_scorer, settings_)) as worker:
        if started_first:
            worker.start()
        two = evaluate(corpus, predictions, settings_, workers=worker).results
        assert worker.started
    assert json.dumps(two, sort_keys=True) == json.dumps(one, sort_keys=True)
    assert one["systems"]["system-1"]["claims"]["tp"] > 0 and one["systems"]["system-0"]["claims"] is None
    sensitivity = one["sensitivity"]["systems"]  # counted per document on the workers, summed in this process
    assert set(sensitivity) == {"system-1", "system-3", "system-5"}
    assert len({row["tp"] for row in sensitivity["system-1"]}) > 1  # the thresholds change the counts


def test_a_corpus_without_gold_claims_fits_nothing_and_reports_coverage_as_not_measured(tmp_path):
    gold = tmp_path / "gold.jsonl"
    gold.write_text(json.dumps({"doc_id": "a", "text": "Russia launched 63 drones.\nAir defenses destroyed 28.",
                                "summaries": [{"id": "r", "text": "Russia launched 63 drones."}]}) + "\n")
    preds = tmp_path / "p.jsonl"
    preds.write_text(json.dumps({"doc_id": "a", "system": "s", "summary": "Russia launched 36 drones."}) + "\n")
    code = ("import sys; from harness.cli import main; main(['score', '--gold', sys.argv[1], '--predictions', "
            "sys.argv[2], '--json', '--no-progress']); print(sorted(m for m in ('sklearn', 'scipy') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code, str(gold), str(preds)], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    *result, imported = done.stdout.strip().splitlines()
    assert imported == "[]"  # no claim matcher, no TF-IDF: scikit-learn and scipy are never loaded
    summary = json.loads("\n".join(result))["systems"]["s"]["summary"]
    assert summary["claim_coverage"] is None and summary["numeric_faithfulness"] == 0.0


def test_the_signature_names_the_matcher_without_building_it(corpus):
    scorer = Scorer(corpus)
    assert "|matcher:lexical(concept-recall)+rules3|" in scorer.signature() and scorer._matcher is None
    assert matcher_name(scorer.settings) == scorer.matcher.name  # the name it gives equals the built one's


# --------------------------------------------------------------------------- numbers


_PIECES = ["one", "Two", "ﬁve", "fıve", "ſix", "İ", "twenty-one", "hundred", "million", "bn", "m", "k", "K", "$", "€",
           "£", " ", "\n", "-", ",", ".", "_", "a", "and", "0", "7", "12", "1,000", "3.5", "٣", "x"]


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(_PIECES), max_size=40))
def test_the_targeted_number_scan_finds_what_the_full_scan_finds(pieces):
    text = "".join(pieces)
    assert [(m.span(), m.group(0)) for m in numbers._matches(text)] == \
           [(m.span(), m.group(0)) for m in numbers._PATTERN.finditer(text)]


def test_the_number_scan_on_the_gold_articles(corpus):
    for doc in corpus.documents:
        found = [m.span() for m in numbers._matches(doc.text)]
        assert found == [m.span() for m in numbers._PATTERN.finditer(doc.text)] and len(found) > 20


# --------------------------------------------------------------------------- harness score --pairs


def test_pairs_mode_scores_every_line_like_rouge_score(tmp_path, capsys):
    scorer = rouge_scorer.RougeScorer(list(ROUGE_TYPES), use_stemmer=True)
    pairs = [("Russia launched 63 drones.\nKyiv was hit.", "Russia fired 63 drones.\nKyiv was struck."),
             ("Germany pledged aid.", "Germany pledged military aid to Ukraine."),
             ("NATO met in The Hague.", "Allies met.")] * 3
    path = tmp_path / "pairs.jsonl"
    path.write_text("".join(json.dumps({"id": f"p{i}", "reference": r, "prediction": p}) + "\n"
                            for i, (r, p) in enumerate(pairs)))
    assert cli_main(["score", "--pairs", str(path), "--out", str(tmp_path / "out"), "--json", "--no-progress",
                     "--system", "mine"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed == json.loads((tmp_path / "out" / "results.json").read_text())
    rows = [json.loads(line) for line in (tmp_path / "out" / "scores.jsonl").read_text().splitlines()]
    assert [row["id"] for row in rows] == [f"p{i}" for i in range(len(pairs))]
    for row, (reference, prediction) in zip(rows, pairs):
        expected = scorer.score(reference, prediction)
        assert {t: tuple(row[t].values()) for t in ROUGE_TYPES} == \
               {t: (expected[t].precision, expected[t].recall, expected[t].fmeasure) for t in ROUGE_TYPES}
    summary = printed["systems"]["mine"]["summary"]
    assert summary["n_documents"] == len(pairs) and summary["claim_coverage"] is None
    for t in ROUGE_TYPES:
        mean = fmean(scorer.score(r, p)[t].fmeasure for r, p in pairs)
        assert summary[t]["fmeasure"] == pytest.approx(mean, abs=1e-15)
        lo, hi = summary[t]["ci95"]
        assert lo <= mean <= hi
    assert re.search(r"\|boot:1000\(poisson\)\|seed:12345$", printed["signature"])


def test_pairs_mode_refuses_a_gold(tmp_path, capsys):
    path = tmp_path / "pairs.jsonl"
    path.write_text(json.dumps({"reference": "a", "prediction": "a"}) + "\n")
    assert cli_main(["score", "--pairs", str(path), "--gold", str(path)]) == 2
    assert capsys.readouterr().err.strip() == "harness: error: --gold: --gold does not apply to --pairs (each line " \
                                              "carries its own references)"


def test_no_progress_also_silences_the_datasets_library(tmp_path):
    """`gold export --format hf` saves through datasets, which draws its own progress bars on stderr."""
    quiet = run_cli("gold", "export", "--format", "hf", str(tmp_path / "quiet"), "--no-progress")
    loud = run_cli("gold", "export", "--format", "hf", str(tmp_path / "loud"))
    assert quiet.returncode == loud.returncode == 0, quiet.stderr + loud.stderr
    assert "examples/s" in loud.stderr  # the bar is there without the flag
    assert quiet.stderr == ""


def test_coverage_remembered_per_sentence_equals_coverage_of_the_whole_summary(corpus):
    """Verdicts remembered per distinct sentence give what judging all the summary's sentences together gives."""
    from harness.text import split_sentences

    scorer = Scorer(corpus)
    matcher = scorer.matcher
    for doc in corpus.documents:
        gold = [g for g in scorer.gold_items(doc.doc_id) if not g.optional]
        story = split_sentences(doc.story_text())
        summaries = [split_sentences(s.text) for s in doc.summaries] + [story[k:k + 4] for k in range(0, 12, 2)]
        for sentences in summaries:
            together = matcher._expressed_together(sentences, gold, doc.story_text(), matcher.threshold)
            assert matcher.expressed(sentences, gold, doc.story_text()) == together
        assert any(matcher.expressed(s, gold, doc.story_text()) for s in summaries)


def test_claim_counts_at_several_thresholds_equal_matching_at_each(corpus):
    """The sensitivity's one-pass counts equal a full match at every threshold (baseline extractions and the
    gold claims with a number changed, a negation added or words dropped)."""
    import re as _re

    from tests.conftest import ROOT

    scorer = Scorer(corpus)
    matcher = scorer.matcher
    thresholds = [0.3, 0.4, 0.5, 0.6, 0.7]
    predictions = [json.loads(line) for line in (ROOT / "results" / "baseline" / "predictions.jsonl").open()]
    cases = [(p["doc_id"], [c if isinstance(c, str) else c["text"] for c in p["claims"]])
             for p in predictions if p.get("claims")]
    for doc in corpus.documents:
        texts = [c.text for c in doc.claims]
        cases.append((doc.doc_id, [_re.sub(r"\d+", "7", t, count=1) for t in texts[::3]]
                      + [t.replace(" was ", " was not ") for t in texts[1::3]]
                      + [" ".join(t.split()[::2]) for t in texts[2::3]]))
    for doc_id, texts in cases:
        gold, story = scorer.gold_items(doc_id), scorer.story(doc_id)
        expected = [(c.tp, c.fp, c.fn) for c in (matcher.match(texts, gold, story, (), t) for t in thresholds)]
        assert matcher.counts_at(texts, gold, story, thresholds) == expected
    assert len(cases) == 20
