"""`harness compare` on real runs: an identical run passes, an injected regression fails, mismatches are refused."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from dataclasses import dataclass

import pytest

from tests.report_helpers import damaged, dropped_ids, export_gold, harness, perfect, score_many, write_jsonl

DROP_BASE = 2  # beta leaves out this many gold claims per document in every run
DROP_REGRESSED = 4  # alpha leaves out this many in the regressed candidate


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("compare")
    gold_path = root / "gold.jsonl"
    corpus = export_gold(gold_path)
    base_rows = perfect(corpus, "alpha") + damaged(corpus, "beta", DROP_BASE, junk=False)
    base = write_jsonl(root / "base.jsonl", base_rows)
    regressed = write_jsonl(root / "regressed.jsonl",
                            damaged(corpus, "alpha", DROP_REGRESSED, junk=False) + damaged(corpus, "beta", DROP_BASE,
                                                                                             junk=False))
    # the same corpus with one gold claim reworded: a different gold hash
    lines = gold_path.read_text(encoding="utf-8").splitlines()
    first = json.loads(lines[0])
    first["claims"][0]["text"] += " Officials repeated this."
    other_gold = root / "other_gold.jsonl"
    other_gold.write_text("\n".join([json.dumps(first)] + lines[1:]) + "\n", encoding="utf-8")
    names = ["base", "again", "regressed", "other_gold"]
    for name in names:
        (root / name).mkdir()
    jobs = [(base, root / "base" / "run", gold_path, ()),
            (base, root / "again" / "run", gold_path, ()),
            (regressed, root / "regressed" / "run", gold_path, ()),
            (base, root / "other_gold" / "run", other_gold, ())]
    results = score_many(jobs)
    paths = {name: root / name / "run" / "results.json" for name in names}
    # the signature is all compare reads of the settings: the same run as if scored at threshold 0.5
    text = paths["base"].read_text(encoding="utf-8")
    assert "|thr:0.45|" in text
    paths["threshold"] = root / "threshold.json"
    paths["threshold"].write_text(text.replace("|thr:0.45|", "|thr:0.50|"), encoding="utf-8")
    return {"root": root, "corpus": corpus, "paths": paths, "results": dict(zip(names, results))}


def compare(runs, *args):
    """The real command line in a subprocess (exit codes as CI sees them)."""
    return harness("compare", *args, cwd=runs["root"])


@dataclass
class Done:
    returncode: int
    stdout: str
    stderr: str


@pytest.fixture
def cli(capsys):
    """The same command line in this process (faster, for the many output checks)."""
    from harness.cli import main

    def call(*args) -> Done:
        capsys.readouterr()
        try:
            code = main(["compare", *map(str, args)])
        except SystemExit as stop:
            code = stop.code
        out = capsys.readouterr()
        return Done(code, out.out, out.err)

    return call


def compare_json(runs, a: str, b: str, *args) -> dict:
    from harness.compare import CompareOptions, compare_results
    from harness.results.reader import load_results

    assert not args
    return json.loads(json.dumps(compare_results(load_results(runs["paths"][a]), load_results(runs["paths"][b]),
                                                 CompareOptions())))


# --------------------------------------------------------------------------- the gate

def test_identical_run_passes(runs):
    proc = compare(runs, runs["paths"]["base"], runs["paths"]["again"], "--fail-on-regression")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "result: no regression" in proc.stdout
    data = compare_json(runs, "base", "again")
    assert data["regressions"] == [] and data["marks"] == []
    for system in data["systems"].values():
        assert all(row["delta"] == 0.0 for row in system["metrics"] if row["delta"] is not None)
        assert system["flipped"] == {"matched_to_missed": [], "missed_to_matched": []}


def test_injected_regression_fails_with_exit_1(runs):
    proc = compare(runs, runs["paths"]["base"], runs["paths"]["regressed"], "--fail-on-regression")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "REGRESSION" in proc.stdout and "alpha claims.f1" in proc.stdout
    data = compare_json(runs, "base", "regressed")
    failed = {(r["system"], r["metric"]) for r in data["regressions"]}
    assert {("alpha", "claims.recall"), ("alpha", "claims.f1")} <= failed
    assert not [r for r in data["regressions"] if r["system"] == "beta"]
    assert not [m for s, m in failed if m.startswith("summary.")]


def test_regression_details_match_hand_computation(runs):
    corpus = runs["corpus"]
    data = compare_json(runs, "base", "regressed")
    alpha = data["systems"]["alpha"]
    expected_lost = [{"doc_id": d.doc_id, "gold_id": g} for d in corpus.documents
                     for g in sorted(dropped_ids(d, DROP_REGRESSED))]
    assert alpha["flipped"]["matched_to_missed"] == expected_lost
    assert alpha["flipped"]["missed_to_matched"] == []
    k = len(expected_lost)
    test = alpha["claim_test"]
    assert (test["only_baseline"], test["only_candidate"]) == (k, 0)
    assert test["p_value"] == pytest.approx(2 * 0.5 ** k)  # exact two-sided binomial with all k discordant one way
    # every document's recall fell: of the 2^5 sign flips only all-minus and all-plus are as extreme
    n_docs = len(corpus.documents)
    recall = next(r for r in alpha["metrics"] if r["metric"] == "claims.recall")
    assert recall["test"] == "exact sign-flip permutation" and recall["p_value"] == pytest.approx(2 / 2 ** n_docs)
    n_scored = sum(1 for d in corpus.documents for c in d.claims if not c.optional)
    assert recall["baseline"] == 1.0
    assert recall["candidate"] == pytest.approx((n_scored - k) / n_scored)
    assert recall["delta"] == pytest.approx(-k / n_scored)
    assert any(f"smallest possible p = {2 / 2 ** n_docs:.3g}" in note for note in data["notes"])


def test_regression_without_gate_exits_0(runs, cli):
    proc = cli(runs["paths"]["base"], runs["paths"]["regressed"])
    assert proc.returncode == 0
    assert "REGRESSION" in proc.stdout


def test_tolerances_from_flags_and_file(runs, cli):
    a, b = runs["paths"]["base"], runs["paths"]["regressed"]
    assert cli(a, b, "--fail-on-regression", "--tolerance", "default=0.5").returncode == 0
    tol = runs["root"] / "tolerances.yaml"
    tol.write_text("default: 0.5\nclaims.f1: 0.02\nsummary.rougeL: 0.01\n", encoding="utf-8")
    drop = runs["results"]["base"]["systems"]["alpha"]["claims"]["f1"] - \
        runs["results"]["regressed"]["systems"]["alpha"]["claims"]["f1"]
    assert drop > 0.02  # so the file's claims.f1 tolerance fails it
    proc = cli(a, b, "--fail-on-regression", "--tolerances", tol, "--json")
    assert proc.returncode == 1
    assert [(r["system"], r["metric"]) for r in json.loads(proc.stdout)["regressions"]] == [("alpha", "claims.f1")]
    proc = cli(a, b, "--fail-on-regression", "--tolerances", tol, "--tolerance", "claims.f1=off")
    assert proc.returncode == 0, proc.stdout
    proc = cli(a, b, "--fail-on-regression", "--tolerances", tol, "--tolerance", f"claims.f1={drop + 1e-6}")
    assert proc.returncode == 0, proc.stdout


def test_require_significance_uses_the_claim_test(runs, cli):
    # the claim-level McNemar test is significant here, although 5 documents cannot make the document test so
    proc = cli(runs["paths"]["base"], runs["paths"]["regressed"], "--fail-on-regression",
                   "--require-significance")
    assert proc.returncode == 1, proc.stdout
    assert "cannot reach p < 0.05" in proc.stdout


def test_require_significance_spares_an_unprovable_summary_drop(runs, tmp_path, cli):
    baseline = runs["results"]["base"]
    candidate = json.loads(json.dumps(baseline))
    alpha = candidate["systems"]["alpha"]
    for entry in alpha["per_doc"].values():
        entry["summary"]["rougeL"]["fmeasure"] -= 0.1
    alpha["summary"]["rougeL"]["fmeasure"] -= 0.1
    path = tmp_path / "candidate.json"
    path.write_text(json.dumps(candidate), encoding="utf-8")
    plain = cli(runs["paths"]["base"], path, "--fail-on-regression")
    assert plain.returncode == 1 and "alpha summary.rougeL" in plain.stdout
    strict = cli(runs["paths"]["base"], path, "--fail-on-regression", "--require-significance")
    assert strict.returncode == 0, strict.stdout
    assert "drop, not significant" in strict.stdout
    assert "smallest possible p = 0.0625" in strict.stdout


# --------------------------------------------------------------------------- refusals

def test_refuses_different_gold(runs, cli):
    proc = compare(runs, runs["paths"]["base"], runs["paths"]["other_gold"], "--fail-on-regression")
    assert proc.returncode == 2
    assert proc.stdout == ""
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "different gold" in lines[0] and "--allow-different-gold" in lines[0]
    allowed = cli(runs["paths"]["base"], runs["paths"]["other_gold"], "--allow-different-gold")
    assert allowed.returncode == 0
    assert "WARNING: DIFFERENT GOLD" in allowed.stdout


def test_refuses_different_signature(runs, cli):
    proc = cli(runs["paths"]["base"], runs["paths"]["threshold"])
    assert proc.returncode == 2
    assert "thr:0.45 vs thr:0.50" in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
    allowed = cli(runs["paths"]["base"], runs["paths"]["threshold"], "--allow-different-signature",
                      "--format", "md")
    assert allowed.returncode == 0
    assert "DIFFERENT SCORING SIGNATURE" in allowed.stdout


@pytest.mark.parametrize("content, message", [
    (None, "file not found"),
    ("{not json", "not valid JSON"),
    ('{"systems": {}}', "signature: missing or not a string (is this a harness results.json?)"),
])
def test_bad_input_is_one_line_and_exit_2(runs, tmp_path, content, message, cli):
    path = tmp_path / "candidate.json"
    if content is not None:
        path.write_text(content, encoding="utf-8")
    proc = cli(runs["paths"]["base"], path)
    assert proc.returncode == 2
    assert len(proc.stderr.strip().splitlines()) == 1 and message in proc.stderr


@pytest.mark.parametrize("flag", ["claims.nope=0.1", "claims.f1=-1", "claims.f1", "default=off"])
def test_bad_tolerance_is_exit_2(runs, flag, cli):
    proc = cli(runs["paths"]["base"], runs["paths"]["again"], "--tolerance", flag)
    assert proc.returncode == 2
    assert len(proc.stderr.strip().splitlines()) == 1 and "--tolerance" in proc.stderr


def test_help_documents_exit_codes(runs, cli):
    proc = cli("--help")
    assert proc.returncode == 0
    for line in ("0  no regression", "1  regression found", "2  usage or input error"):
        assert line in proc.stdout


# --------------------------------------------------------------------------- outputs

def test_markdown_junit_and_json_agree(runs, tmp_path, cli):
    md_path, junit_path = tmp_path / "compare.md", tmp_path / "junit.xml"
    proc = cli(runs["paths"]["base"], runs["paths"]["regressed"], "--format", "md", "--markdown", md_path,
                   "--junit", junit_path)
    assert proc.returncode == 0
    assert md_path.read_text(encoding="utf-8") == proc.stdout
    data = compare_json(runs, "base", "regressed")
    assert json.loads(cli(runs["paths"]["base"], runs["paths"]["regressed"], "--json").stdout) == {
        **data, "baseline": {**data["baseline"], "label": str(runs["paths"]["base"])},
        "candidate": {**data["candidate"], "label": str(runs["paths"]["regressed"])}}
    assert proc.stdout.startswith(f"## Comparison: ❌ {len(data['regressions'])} regression(s)")
    for system, s in data["systems"].items():
        for row in s["metrics"]:
            cells = f"| {system} | {row['metric']} | {_num(row['baseline'])} | {_num(row['candidate'])} | " \
                    f"{row['delta']:+.3f} |"
            assert cells in proc.stdout
    suite = ET.parse(junit_path).getroot().find("testsuite")
    cases = suite.findall("testcase")
    assert len(cases) == sum(len(s["metrics"]) for s in data["systems"].values())
    failed = {(c.get("classname").rsplit(".", 1)[1], c.get("name")) for c in cases if c.find("failure") is not None}
    assert failed == {(r["system"], r["metric"]) for r in data["regressions"]}
    assert suite.get("failures") == str(len(failed))


def test_text_table_matches_json(runs, cli):
    proc = cli(runs["paths"]["base"], runs["paths"]["regressed"])
    data = compare_json(runs, "base", "regressed")
    lines = proc.stdout.splitlines()
    for system, s in data["systems"].items():
        for row in s["metrics"]:
            line = next(x for x in lines if x.split()[:2] == [system, row["metric"]])
            assert line.split()[2:5] == [_num(row['baseline']), _num(row['candidate']), f"{row['delta']:+.3f}"]


def test_compare_results_on_loaded_dicts(runs):
    """The seam other baselines (e.g. from the history database) use: two dicts in, the comparison out."""
    from harness.compare import CompareOptions, compare_results
    from harness.results.reader import load_results

    baseline = load_results(runs["paths"]["base"].parent)  # a run folder works as well as its results.json
    candidate = json.loads(json.dumps(baseline))
    del candidate["systems"]["beta"]
    out = compare_results(baseline, candidate, CompareOptions(), ("tag v1", "tag v2"))
    assert out["only_in_baseline"] == ["beta"]
    assert out["regressions"] == [{"system": "beta", "metric": None, "baseline": None, "candidate": None,
                                   "delta": None, "tolerance": None, "p_value": None,
                                   "reason": "system missing from the candidate"}]
    assert out["baseline"]["label"] == "tag v1"
    only_alpha = compare_results(baseline, candidate, CompareOptions(systems=("alpha",)))
    assert only_alpha["regressions"] == [] and list(only_alpha["systems"]) == ["alpha"]


def _num(value) -> str:
    """Counts print as integers, rates with three decimals (the tables' convention)."""
    return str(value) if isinstance(value, int) else f"{value:.3f}"


# --------------------------------------------------------------------------- two systems of one run


def test_two_systems_of_one_run_are_paired_like_two_runs(runs, cli):
    """alpha gives every gold claim, beta all but DROP_BASE per document: hand-computed values and tests."""
    corpus = runs["corpus"]
    done = cli("--systems", "beta", "alpha", runs["paths"]["base"], "--json")
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert (result["a"], result["b"], result["documents"]) == ("beta", "alpha", 5)
    rows = {r["metric"]: r for r in result["metrics"]}
    n_gold = sum(len([c for c in d.claims if not c.optional]) for d in corpus.documents)
    dropped = DROP_BASE * len(corpus.documents)
    recall = (n_gold - dropped) / n_gold
    f1 = rows["claims.f1"]
    assert f1["a"] == pytest.approx(2 * recall / (1 + recall)) and f1["b"] == 1.0
    # every document moves the same way: the exact sign-flip test's p is its floor, 2 / 2^5
    assert f1["p_value"] == pytest.approx(2 / 2 ** 5) and f1["p_floor"] == pytest.approx(2 / 2 ** 5)
    # McNemar: 10 claims matched only by alpha, none only by beta: p = 2 * 0.5^10
    assert result["claim_test"]["only_a"] == 0 and result["claim_test"]["only_b"] == dropped
    assert result["claim_test"]["p_value"] == pytest.approx(2 * 0.5 ** dropped)
    assert f1["significant_by"] == ["claims"] and f1["better"] == "alpha"
    assert rows["claims.precision"]["delta"] == 0 and rows["claims.precision"]["better"] is None
    assert rows["summary.rougeL"]["delta"] == 0  # the same summaries
    only_alpha = {(x["doc_id"], x["gold_id"]) for x in result["matched_only_by"]["b"]}
    assert only_alpha == {(d.doc_id, g) for d in corpus.documents for g in dropped_ids(d, DROP_BASE)}
    assert "with 5 paired documents the document-level test cannot reach p < 0.05 (smallest possible p = 0.0625)" \
        in result["notes"]


def test_two_systems_text_and_refusals(runs, cli):
    done = compare(runs, "--systems", "beta", "alpha", runs["paths"]["base"])
    assert done.returncode == 0, done.stderr
    assert "alpha against beta, paired over 5 documents" in done.stdout
    assert done.stdout.strip().endswith("result: better: alpha on claims.recall (claims); alpha on claims.f1 (claims); "
                                        "alpha on claims.macro_f1 (claims); alpha on claims.weighted_recall (claims); "
                                        "alpha on claims.version_weighted_recall (claims)")
    assert "  delta      alpha minus beta" in done.stdout
    for args, message in [
        (("--systems", "beta", "alpah", runs["paths"]["base"]), "unknown system 'alpah'; did you mean 'alpha'?"),
        (("--systems", "beta", "alpha", runs["paths"]["base"], "--fail-on-regression"),
         "--fail-on-regression compares two runs"),
        (("--systems", "beta", "alpha", runs["paths"]["base"], runs["paths"]["again"]), "give only RUN"),
    ]:
        refused = cli(*args)
        assert refused.returncode == 2 and message in refused.stderr and len(refused.stderr.splitlines()) == 1
