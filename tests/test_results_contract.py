"""The results contract: one reader for compare and history, the signature's round trip, one regression rule."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from harness.cli import main
from harness.results.signature import Signature
from tests.conftest import ROOT

BASELINE = ROOT / "results" / "baseline" / "results.json"
BASELINE_SIGNATURE = ("harness:0.1.0|gold:a0fe6e1ebb2e|rouge:rouge1+rouge2+rougeL+rougeLsum|tok:rouge-score-default|"
                      "stem:porter|multiref:max|impl:rouge-score-0.1.2|split:pysbd-0.3.4|matcher:lexical(concept-recall)+rules3|"
                      "thr:0.45|veto:number,negation,time,place,speaker,actor|cov:matcher|covthr:0.45|boot:1000|"
                      "seed:12345")


def run(capsys, *argv: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def baseline() -> dict:
    return json.loads(BASELINE.read_text(encoding="utf-8"))


# --------------------------------------------------------------------------- signature

def test_the_committed_baseline_signature_parses_and_formats_to_the_same_string():
    assert baseline()["signature"] == BASELINE_SIGNATURE  # the string this test was written against
    signature = Signature.parse(BASELINE_SIGNATURE)
    assert (signature.harness, signature.gold, signature.matcher) == ("0.1.0", "a0fe6e1ebb2e", "lexical(concept-recall)+rules3")
    assert signature.rouge == ("rouge1", "rouge2", "rougeL", "rougeLsum")
    assert signature.vetoes == ("number", "negation", "time", "place", "speaker", "actor")
    assert (signature.threshold, signature.coverage_threshold, signature.bootstrap, signature.seed) == \
        (0.45, 0.45, 1000, 12345)
    assert str(signature) == BASELINE_SIGNATURE and f"{signature}" == BASELINE_SIGNATURE


def test_a_signature_round_trips_through_its_string():
    judge = Signature(harness="9.9.9", gold="0123456789ab", rouge=("rouge1", "rougeL"), tokenizer="rouge-score-default",
                      stemmer="no", multi_ref="mean", rouge_impl="rouge-score-0.1.2", splitter="pysbd-0.3.4",
                      matcher="judge(SmolLM2-135M-Instruct,prompt:0123abcd,top3>=0.10)", threshold=0.5, vetoes=(),
                      coverage="matcher", coverage_threshold=0.3, bootstrap=0, seed=7)
    text = ("harness:9.9.9|gold:0123456789ab|rouge:rouge1+rougeL|tok:rouge-score-default|stem:no|multiref:mean|"
            "impl:rouge-score-0.1.2|split:pysbd-0.3.4|matcher:judge(SmolLM2-135M-Instruct,prompt:0123abcd,top3>=0.10)|"
            "thr:0.50|veto:none|cov:matcher|covthr:0.30|boot:0|seed:7")
    assert str(judge) == text
    assert Signature.parse(format(judge)) == judge
    lexical = Signature.parse(BASELINE_SIGNATURE)
    assert Signature.parse(str(lexical)) == lexical


def test_differences_name_each_setting_and_leave_the_gold_out():
    a = Signature.parse(BASELINE_SIGNATURE)
    b = Signature.parse(BASELINE_SIGNATURE.replace("gold:a0fe6e1ebb2e", "gold:ffffffffffff")
                        .replace("|thr:0.45|", "|thr:0.50|").replace("seed:12345", "seed:1"))
    assert a.differences(b) == ["thr:0.45 vs thr:0.50", "seed:12345 vs seed:1"]


@pytest.mark.parametrize("text", ["sig", BASELINE_SIGNATURE.replace("|thr:", "|threshold:"),
                                  BASELINE_SIGNATURE.replace("boot:1000", "boot:many")])
def test_a_malformed_signature_is_refused(text):
    with pytest.raises(ValueError, match="not a harness scoring signature"):
        Signature.parse(text)


def test_the_scorer_builds_the_committed_signature(corpus):
    from harness.scoring.scorer import Scorer, ScoreSettings

    assert Scorer(corpus, ScoreSettings()).signature() == BASELINE_SIGNATURE


# --------------------------------------------------------------------------- one reader for compare and history

def _without_n_documents(r: dict) -> dict:
    del r["n_documents"]
    return r


def _without_per_doc(r: dict) -> dict:
    del r["systems"]["lead-3"]["per_doc"]
    return r


MALFORMED = [
    (lambda text: json.dumps(_without_n_documents(json.loads(text))),
     "bad.json: n_documents: missing or not a whole number (is this a harness results.json?)"),
    (lambda text: json.dumps(_without_per_doc(json.loads(text))),
     "bad.json: systems.lead-3.per_doc: no per-document scores (is this a harness results.json?)"),
    (lambda text: "[1, 2]", "bad.json: expected a JSON object (is this a harness results.json?)"),
    (lambda text: '{"signature": "x",\n', "bad.json:2: not valid JSON (Expecting property name enclosed in double "
                                          "quotes)"),
]


@pytest.mark.parametrize("damage, message", MALFORMED, ids=["n_documents", "per_doc", "not an object", "not JSON"])
def test_a_malformed_results_file_is_the_same_one_line_error_in_compare_and_history(tmp_path, monkeypatch, capsys,
                                                                                     damage, message):
    monkeypatch.chdir(tmp_path)
    Path("bad.json").write_text(damage(BASELINE.read_text(encoding="utf-8")), encoding="utf-8")
    compared = run(capsys, "compare", str(BASELINE), "bad.json")
    imported = run(capsys, "history", "import", "bad.json", "--db", "h.sqlite")
    for code, out, err in (compared, imported):
        assert (code, out, err) == (2, "", f"harness: error: {message}\n")
    assert not Path("h.sqlite").exists()


def test_compare_refuses_a_signature_it_cannot_read_naming_the_file(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    Path("bad.json").write_text(json.dumps({**baseline(), "signature": "sig"}), encoding="utf-8")
    code, out, err = run(capsys, "compare", str(BASELINE), "bad.json")
    assert code == 2 and out == ""
    assert err.startswith("harness: error: bad.json: signature: not a harness scoring signature: expected 15 ")
    assert len(err.splitlines()) == 1


def test_results_written_before_the_sensitivity_was_scored_are_still_read(tmp_path, monkeypatch, capsys):
    """A results.json without `sensitivity` (older files): compare, history and the report tables take it."""
    from harness.report import plots, run_tables

    monkeypatch.chdir(tmp_path)
    older = baseline()
    del older["sensitivity"]
    Path("older.json").write_text(json.dumps(older), encoding="utf-8")
    code, out, err = run(capsys, "compare", str(BASELINE), "older.json", "--fail-on-regression")
    assert (code, err) == (0, "") and "REGRESSION" not in out
    assert run(capsys, "history", "import", "older.json", "--db", "h.sqlite")[0] == 0
    code, out, _ = run(capsys, "history", "--db", "h.sqlite", "--system", "sentence-claims", "--json")
    (series,) = json.loads(out)
    assert code == 0 and series["points"][0]["value"] == older["systems"]["sentence-claims"]["claims"]["f1"]
    assert "n/a: these results hold no threshold sensitivity." in run_tables.sensitivity_markdown(older)
    assert run_tables.sensitivity_csv(older).strip() == ",".join(run_tables.SENSITIVITY_COLUMNS)
    assert plots.sensitivity(older) is None


# --------------------------------------------------------------------------- one regression rule

@pytest.mark.parametrize("key, change, regressed", [
    ("duplicate_rate", +0.05, True),  # lower is better: a rise is the regression
    ("duplicate_rate", -0.005, False),
    ("f1", -0.05, True),  # higher is better: a fall is
    ("f1", +0.05, False),
])
def test_compare_and_history_agree_which_way_is_worse(tmp_path, monkeypatch, capsys, key, change, regressed):
    monkeypatch.chdir(tmp_path)
    base = baseline()
    candidate = copy.deepcopy(base)
    candidate["systems"]["sentence-claims"]["claims"][key] += change
    candidate["manifest"]["started_at"] = "2026-12-03T00:00:00+00:00"  # recorded after the baseline
    Path("base.json").write_text(json.dumps(base), encoding="utf-8")
    Path("cand.json").write_text(json.dumps(candidate), encoding="utf-8")
    metric = f"claims.{key}"

    code, out, _ = run(capsys, "compare", "base.json", "cand.json", "--system", "sentence-claims", "--json",
                       "--fail-on-regression")
    assert code == (1 if regressed else 0)
    assert [r["metric"] for r in json.loads(out)["regressions"]] == ([metric] if regressed else [])

    assert run(capsys, "history", "import", "base.json", "cand.json", "--db", "h.sqlite")[0] == 0
    code, out, _ = run(capsys, "history", "--db", "h.sqlite", "--metric", metric, "--system", "sentence-claims",
                       "--json")
    (series,) = json.loads(out)
    assert code == 0 and [p["regression"] for p in series["points"]] == [False, regressed]


def test_the_smallest_reachable_p_is_worked_out_once():
    """Hand values: the exact sign-flip test over n documents reaches 2 / 2^n at best (5 documents: 2/32)."""
    from harness.aggregate import paired_test
    from harness.compare import CompareOptions, paired_comparison
    from harness.results.regression import smallest_reachable_p

    assert smallest_reachable_p(5) == 0.0625
    assert smallest_reachable_p(5, n_differing=3) == 0.25  # two documents did not move: 2 / 2^3
    assert smallest_reachable_p(5, n_differing=0) == 1.0
    assert smallest_reachable_p(0) is None
    assert smallest_reachable_p(17, n_boot=999) == 0.001
    # every difference positive: only the all-plus and all-minus signs reach the observed mean, 2 of 32
    test = paired_test([0.0] * 5, [0.1, 0.2, 0.3, 0.4, 0.5])
    assert test["p_value"] == test["p_floor"] == 0.0625
    system = baseline()["systems"]["sentence-claims"]
    assert paired_comparison(system, system, CompareOptions())["document_test_floor"] == 0.0625
