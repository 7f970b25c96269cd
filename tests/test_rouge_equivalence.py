"""rouge-score-rs and the harness's fast paths against rouge-score, the reference, on edge cases.

Every expected number comes from rouge-score called directly in this process. The fallback is
exercised for real: a subprocess in which rouge_score_rs cannot be imported, and a subprocess that
finds a build of it whose stemmer is switched off (so it genuinely disagrees with rouge-score).
"""

import json
import subprocess
import sys
import textwrap
from pathlib import Path
from statistics import fmean

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rouge_score import rouge_scorer

from harness.errors import UserError
from harness.scoring.rouge import ROUGE_TYPES, SELF_CHECK_PAIRS, RougeScorer
from harness.scoring.rouge_selfcheck import EXPECTED
from harness.cli import main as cli_main
from harness.scoring.stream import score_stream

ROOT = Path(__file__).resolve().parent.parent
STEMMED = rouge_scorer.RougeScorer(list(ROUGE_TYPES), use_stemmer=True)
UNSTEMMED = rouge_scorer.RougeScorer(list(ROUGE_TYPES), use_stemmer=False)

EDGE_CASES = SELF_CHECK_PAIRS + (
    ("", ""),
    ("   \n\n  ", "Kyiv said nothing."),
    ("A", "a"),
    ("a b c d e f g", "g f e d c b a"),
    ("The U.S. economy grew 3.5% in Q2 2024.", "US economy grew 3.5 percent in the second quarter of 2024."),
    ("Line one\r\nLine two\tend", "line one\nline two end"),
    ("a " * 300, "a " * 299 + "b"),
    ("caf\udce9 ok, caf\udce9s", "caf ok cafes"),  # lone surrogates (surrogateescape-decoded input)
    ("Київ заявив про атаку.", "Kyiv reported an attack."),
    ("ﬁnancial ﬂows", "financial flows"),  # ligatures do not lowercase to ASCII
    ("1990s 2,000,000 10th 2024", "1990 2000000 tenth 2024s"),
    ("runs ran sing sings sung", "run running sang singing"),
    ("state-of-the-art don't won't", "state of the art dont wont"),
    ("generalization agreed conditional relational", "general agree condition relate"),
    ("— \n !!! \n ok", "ok"),
    ("ΣΊΣΥΦΟΣ Σ", "σίσυφος ς"),  # context-dependent final sigma: still no ASCII
    ("x" * 40 + " " + "y" * 3, "x" * 40),
    ("a | b || c\n|\nd?e", "a|b c?d\n| e"),  # pipes and question marks are plain separators
)


def _direct(scorer, reference: str, prediction: str) -> dict:
    raw = scorer.score(reference, prediction)
    return {t: (float(raw[t].precision), float(raw[t].recall), float(raw[t].fmeasure)) for t in ROUGE_TYPES}


def _plain(scores: dict) -> dict:
    return {t: (scores[t].precision, scores[t].recall, scores[t].fmeasure) for t in ROUGE_TYPES}


# ------------------------------------------------------------------ rouge-score-rs itself


@pytest.mark.parametrize("use_stemmer", [True, False])
def test_recorded_self_check_numbers_are_rouge_scores(use_stemmer):
    reference_scorer = STEMMED if use_stemmer else UNSTEMMED
    assert [_direct(reference_scorer, r, p) for r, p in SELF_CHECK_PAIRS] == list(EXPECTED[use_stemmer])


def test_rouge_score_rs_equals_rouge_score_on_the_edge_cases():
    from rouge_score_rs import RougeScorer as NativeScorer

    native = NativeScorer(list(ROUGE_TYPES), use_stemmer=True)
    for reference, prediction in EDGE_CASES:
        assert _direct(native, reference, prediction) == _direct(STEMMED, reference, prediction), (reference, prediction)
    batch = native.score_batch([r for r, _ in EDGE_CASES], [p for _, p in EDGE_CASES])
    assert [_plain(b) for b in batch] == [_direct(STEMMED, r, p) for r, p in EDGE_CASES]


# ------------------------------------------------------------------ the harness, both engines


@pytest.mark.parametrize("backend", ["auto", "python"])
@pytest.mark.parametrize("use_stemmer", [True, False])
def test_every_path_equals_rouge_score_on_the_edge_cases(backend, use_stemmer):
    reference_scorer = STEMMED if use_stemmer else UNSTEMMED
    scorer = RougeScorer(use_stemmer=use_stemmer, backend=backend)
    assert scorer.backend == ("rouge-score-rs" if backend == "auto" else "rouge-score")
    expected = [_direct(reference_scorer, r, p) for r, p in EDGE_CASES]
    assert [_plain(scorer.score(r, p)) for r, p in EDGE_CASES] == expected
    # second pass: references now come from the cache
    assert [_plain(scorer.score_multi([r], p)) for r, p in EDGE_CASES] == expected
    assert [_plain(s) for s in scorer.score_pairs([r for r, _ in EDGE_CASES], [p for _, p in EDGE_CASES])] == expected


words = st.sampled_from(["running", "runs", "ran", "agreed", "the", "The", "US", "U.S.", "3.5", "45,100", "€9bn",
                         "Kyiv", "Київ", "İstanbul", "\u212aelvin", "don't", "—", "caf\udce9", "generalization",
                         "a", "I", "troops", "killed", "1990s", "x", "|", "a|b", "?", "é"])
separators = st.sampled_from([" ", " ", " ", "\n", "\n\n", ", ", ". ", "\t", "\r\n"])
texts = st.lists(st.tuples(words, separators), max_size=30).map(lambda parts: "".join(w + s for w, s in parts))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(reference=texts, prediction=texts)
def test_random_texts_equal_rouge_score_on_both_engines(reference, prediction):
    expected = _direct(STEMMED, reference, prediction)
    for backend in ("auto", "python"):
        scorer = RougeScorer(backend=backend)
        assert _plain(scorer.score(reference, prediction)) == expected
        assert _plain(scorer.score_multi([reference, reference], prediction)) == expected


def test_multi_reference_ties_pick_the_first_like_rouge_score():
    # "a b c d" and "a" both give F = 2/3 for rouge1 (P and R swapped): rouge-score's argmax keeps the first.
    refs = ["c", "a b c d", "a"]
    pred = "a b"
    expected = STEMMED.score_multi(refs, pred)
    got = RougeScorer().score_multi(refs, pred)
    assert _plain(got) == {t: tuple(float(x) for x in expected[t]) for t in ROUGE_TYPES}
    assert got["rouge1"].precision == 1.0 and got["rouge1"].recall == 0.5


def test_multi_reference_mean_is_the_mean_of_rouge_score_values():
    refs = ["Drones struck Kharkiv.\nEighteen were hurt.", "Eighteen people were injured in Kharkiv.", ""]
    pred = "Drones injured eighteen people in Kharkiv."
    got = RougeScorer(multi_ref="mean", backend="auto").score_multi(refs, pred)
    for t in ROUGE_TYPES:
        per_ref = [STEMMED.score(r, pred)[t] for r in refs]
        assert (got[t].precision, got[t].recall, got[t].fmeasure) == (
            fmean(s.precision for s in per_ref), fmean(s.recall for s in per_ref), fmean(s.fmeasure for s in per_ref))


# ------------------------------------------------------------------ tokenised once


def test_each_reference_is_tokenised_once_across_systems():
    refs = {"d1": ["Russia lost troops.", "Troops were lost."], "d2": ["Kyiv was hit.\nPower failed.", "Kyiv hit."]}
    systems = {"s1": "Russia lost many troops.", "s2": "Kyiv lost power.", "s3": "Nothing happened."}
    scorer = RougeScorer()
    for prediction in systems.values():
        for doc_refs in refs.values():
            got = scorer.score_multi(doc_refs, prediction)
            assert _plain(got) == {t: tuple(float(x) for x in STEMMED.score_multi(doc_refs, prediction)[t])
                                   for t in ROUGE_TYPES}
    stats = scorer.stats()
    # 4 distinct references, 3 systems x 2 documents = 6 calls: by hand, 4 tokenisations and 4 x 2 reuses.
    assert (stats.reference_tokenisations, stats.reference_cache_hits) == (4, 8)
    assert stats.prediction_tokenisations == 6  # once per call, not once per reference (12)


def test_cache_is_bounded_and_still_exact():
    scorer = RougeScorer(cache_size=2)
    pairs = [(f"reference number {i} says {i * 7}", f"prediction {i} says {i * 7}") for i in range(5)]
    for _ in range(2):
        assert [_plain(scorer.score(r, p)) for r, p in pairs] == [_direct(STEMMED, r, p) for r, p in pairs]
    stats = scorer.stats()
    assert stats.cached_references == 2
    assert (stats.reference_tokenisations, stats.reference_cache_hits) == (8, 2)  # 2 admitted, then reused once


# ------------------------------------------------------------------ fallback, in real subprocesses

PROBE = textwrap.dedent("""
    import json, sys
    {block}
    from harness.scoring.rouge import RougeScorer
    pairs = json.loads(sys.stdin.read())
    scorer = RougeScorer()
    out = {{"backend": scorer.backend,
           "single": [{{t: [s.precision, s.recall, s.fmeasure] for t, s in scorer.score(r, p).items()}} for r, p in pairs],
           "batch": [{{t: [s.precision, s.recall, s.fmeasure] for t, s in d.items()}}
                     for d in scorer.score_pairs([r for r, _ in pairs], [p for _, p in pairs])]}}
    try:
        RougeScorer(backend="rust")
        out["rust"] = "accepted"
    except RuntimeError as err:
        out["rust"] = str(err)
    print(json.dumps(out))
""")

JSON_SAFE_CASES = [(r, p) for r, p in EDGE_CASES if "\udce9" not in r + p]


def _probe(block: str, env_extra: dict | None = None) -> dict:
    import os

    env = {**os.environ, **(env_extra or {})}
    proc = subprocess.run([sys.executable, "-c", PROBE.format(block=block)], input=json.dumps(JSON_SAFE_CASES),
                          capture_output=True, text=True, cwd=ROOT, env=env, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def _expected_lists() -> list[dict]:
    return [{t: list(v) for t, v in _direct(STEMMED, r, p).items()} for r, p in JSON_SAFE_CASES]


def test_native_backend_is_used_when_present():
    out = _probe("")
    assert out["backend"] == "rouge-score-rs" and out["rust"] == "accepted"
    assert out["single"] == _expected_lists() and out["batch"] == _expected_lists()


def test_native_path_does_not_load_rouge_score_or_nltk():
    # They cost seconds and ~190 MB per process; the native path and its self-check need neither.
    code = ("import sys; from harness.scoring.rouge import RougeScorer; s = RougeScorer(); s.score('a b', 'a');"
            "s.score_pairs(['a'], ['b']); print(s.backend, 'rouge_score' in sys.modules, 'nltk' in sys.modules)")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert proc.stdout.split() == ["rouge-score-rs", "False", "False"], proc.stderr


def test_falls_back_to_rouge_score_when_the_native_module_is_missing():
    out = _probe("sys.modules['rouge_score_rs'] = None  # import now raises ImportError")
    assert out["backend"] == "rouge-score"
    assert out["rust"] == "rouge-score-rs is not installed or disagrees with rouge-score"
    assert out["single"] == _expected_lists() and out["batch"] == _expected_lists()


DISAGREEING_BUILD = textwrap.dedent('''
    """A build of the extension whose Porter stemmer is off: real native code, different numbers."""
    import importlib.machinery, importlib.util, os
    _path = os.environ["REAL_ROUGERS"]
    _loader = importlib.machinery.ExtensionFileLoader("real_build._rougers", _path)
    _real = importlib.util.module_from_spec(importlib.util.spec_from_file_location("real_build._rougers", _path,
                                                                                  loader=_loader))
    _loader.exec_module(_real)

    def tokenize(text, use_stemmer, profile="rouge-score"):
        return _real.tokenize(text, False, profile)

    def Scorer(rouge_types, use_stemmer, profile="rouge-score", score_class=None):
        return _real.Scorer(rouge_types, False, profile, score_class)
''')


def test_falls_back_to_rouge_score_when_the_native_module_disagrees(tmp_path):
    import rouge_score_rs._rougers as real

    package = tmp_path / "rouge_score_rs"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "_native.py").write_text("def call(method, *args):\n    return method(*args)\n")
    (package / "_rougers.py").write_text(DISAGREEING_BUILD)
    # The build really disagrees: its tokens are unstemmed.
    check = subprocess.run([sys.executable, "-c", "import rouge_score_rs._rougers as r; print(r.tokenize('running', True))"],
                           capture_output=True, text=True, env={"PYTHONPATH": str(tmp_path), "REAL_ROUGERS": real.__file__},
                           timeout=60)
    assert check.stdout.strip() == "['running']"
    out = _probe("", {"PYTHONPATH": str(tmp_path), "REAL_ROUGERS": real.__file__})
    assert out["backend"] == "rouge-score"
    assert out["single"] == _expected_lists() and out["batch"] == _expected_lists()


# ------------------------------------------------------------------ streaming


def test_stream_scores_every_line_exactly_and_in_order(tmp_path):
    pairs_path, out_path = tmp_path / "pairs.jsonl", tmp_path / "scores.jsonl"
    lines = [{"id": i, "reference": r, "prediction": p} for i, (r, p) in enumerate(EDGE_CASES)]
    lines.append({"references": ["Drones struck.", "Missiles struck Kyiv."], "prediction": "Missiles struck."})
    pairs_path.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    result = score_stream(pairs_path, out_path, chunk_size=4)
    rows = [json.loads(x) for x in out_path.read_text(encoding="utf-8").splitlines()]
    assert result.n_pairs == len(lines) == len(rows)
    assert [row["line"] for row in rows] == list(range(1, len(lines) + 1))
    for row, (reference, prediction) in zip(rows, EDGE_CASES):
        assert {t: tuple(row[t].values()) for t in ROUGE_TYPES} == _direct(STEMMED, reference, prediction)
    best = STEMMED.score_multi(lines[-1]["references"], lines[-1]["prediction"])
    assert rows[-1]["rouge1"]["fmeasure"] == best["rouge1"].fmeasure
    assert result.means["rouge1"].fmeasure == pytest.approx(fmean(row["rouge1"]["fmeasure"] for row in rows))


def test_stream_rejects_a_bad_line_naming_it(tmp_path, capsys):
    path = tmp_path / "pairs.jsonl"
    path.write_text('{"reference": "a", "prediction": "a"}\n{"reference": "a", "prediction": 7}\n')
    with pytest.raises(UserError) as err:
        score_stream(path)
    assert (err.value.line, err.value.field) == (2, "prediction")
    assert cli_main(["score", "--pairs", str(path), "--out", str(tmp_path / "out"), "--no-progress"]) == 2
    assert capsys.readouterr().err.strip() == f"harness: error: {path}:2: prediction: expected a string, got int"
    assert not (tmp_path / "out" / "scores.jsonl").exists()  # nothing half-written
