"""Adapters: registration through entry points, closed typed options, the baselines' outputs."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from rouge_score import rouge_scorer

from harness import gold
from harness.adapters import registry
from harness.adapters.base import Adapter, AdapterError, BadOutput, MissingDependency, require
from harness.adapters.baselines import (
    LeadAdapter, OracleAdapter, SentenceClaimsAdapter, TextRankAdapter, sentences, textrank_scores,
)
from harness.errors import UserError
from harness.records import Document, PredictedClaim, Region, Summary

ROOT = Path(__file__).resolve().parent.parent
CORPUS, _ = gold.load()
BUILT_IN = {"lead": ("summary",), "textrank": ("summary",), "sentence-claims": ("claims",),
            "oracle": ("summary", "claims"), "replay": ("summary", "claims"), "command": ("summary", "claims"),
            "openai-compatible": ("summary", "claims")}


def cli(*args: str, cwd: Path = ROOT, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "harness.cli", *args], capture_output=True, text=True, cwd=cwd,
                          env=env, timeout=300)


# --------------------------------------------------------------------------- registry


def test_every_built_in_is_registered_with_its_tasks():
    infos = {i.name: i for i in registry.describe()}
    for name, tasks in BUILT_IN.items():
        assert infos[name].tasks == tasks, name
        assert infos[name].package == "harness" and infos[name].version == "0.1.0"
        assert infos[name].error is None


def test_adapters_list_command():
    done = cli("adapters", "list")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].split() == ["adapter", "tasks", "package", "version", "entry", "point"]
    row = next(line for line in lines if line.startswith("sentence-claims "))
    assert row.split()[:4] == ["sentence-claims", "claims", "harness", "0.1.0"]
    listed = json.loads(cli("adapters", "list", "--json").stdout)
    assert {x["name"] for x in listed} >= set(BUILT_IN)


def test_unknown_adapter_suggests_nearest():
    with pytest.raises(UserError, match=r"unknown adapter 'textrnk'; did you mean 'textrank'\?"):
        registry.load_class("textrnk")


def test_heavy_libraries_are_not_imported_with_the_adapters():
    code = ("import sys; from harness.adapters import registry; registry.describe(); "
            "print(sorted(m for m in ('httpx', 'sklearn', 'datasets', 'llama_cpp', 'matplotlib') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_missing_dependency_is_a_pip_hint():
    with pytest.raises(MissingDependency) as err:
        require("harness_no_such_module", "harness-no-such-package", "adapter demo")
    assert str(err.value) == ("adapter demo needs the 'harness_no_such_module' module: "
                              "pip install harness-no-such-package")


def test_plugin_whose_import_fails_gets_a_one_line_hint(tmp_path: Path):
    """A real entry point (a dist-info folder on the path) whose module imports a missing library."""
    site = tmp_path / "site"
    (site / "broken_plugin-1.0.dist-info").mkdir(parents=True)
    (site / "broken_plugin-1.0.dist-info" / "METADATA").write_text("Metadata-Version: 2.1\nName: broken-plugin\n"
                                                                   "Version: 1.0\n")
    (site / "broken_plugin-1.0.dist-info" / "entry_points.txt").write_text(
        "[harness.adapters]\nbroken = broken_plugin:Broken\n")
    (site / "broken_plugin.py").write_text("import fancy_model_lib_not_installed\n")
    env = {"PYTHONPATH": str(site), "PATH": "/usr/bin:/bin"}
    listed = cli("adapters", "list", env=env)
    assert listed.returncode == 0, listed.stderr
    row = next(line for line in listed.stdout.splitlines() if line.startswith("broken "))
    assert "pip install fancy_model_lib_not_installed" in row and "broken-plugin" in row
    config = tmp_path / "c.yaml"
    config.write_text("systems:\n  - adapter: broken\n")
    done = cli("run", "--config", str(config), "--no-progress", cwd=tmp_path, env=env)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        f"harness: error: {config}:2: system broken: adapter broken (broken_plugin:Broken) needs the "
        "'fancy_model_lib_not_installed' module: pip install fancy_model_lib_not_installed"]


# --------------------------------------------------------------------------- options


def test_options_are_closed_and_typed():
    with pytest.raises(UserError, match=r"unknown option for adapter lead 'kk'; did you mean 'k'\?"):
        LeadAdapter(kk=2)
    with pytest.raises(UserError, match="expected int, got bool True"):
        LeadAdapter(k=True)
    with pytest.raises(UserError, match="must be at least 1"):
        LeadAdapter(k=0)
    with pytest.raises(UserError, match=r"'rwa' is not one of story, raw; did you mean 'raw'\?"):
        LeadAdapter(text="rwa")
    assert LeadAdapter(k=2).settings == {"k": 2, "text": "story"}
    assert TextRankAdapter(damping=1).settings["damping"] == 1.0  # an int where a float is asked is fine


def test_options_hash_follows_options():
    assert LeadAdapter(k=2).options_hash() == LeadAdapter(k=2).options_hash()
    assert LeadAdapter(k=2).options_hash() != LeadAdapter(k=3).options_hash()


def test_output_checks_reject_bad_types_and_spans():
    class Wrong(Adapter):
        name = "wrong"
        tasks = ("summary", "claims")

        def summarize(self, doc):
            return ["not", "a", "string"]

        def extract_claims(self, doc):
            return [PredictedClaim("x", (0, len(doc.text) + 1))]

    doc = Document("d", "short text")
    with pytest.raises(BadOutput, match="a summary must be a string, got list"):
        Wrong().run(doc, "summary")
    with pytest.raises(BadOutput, match=r"span \(0, 11\) is not inside the document \(10 characters\)"):
        Wrong().run(doc, "claims")
    with pytest.raises(AdapterError, match="does not do task"):
        LeadAdapter().run(doc, "claims")


# --------------------------------------------------------------------------- baselines

STORY_TEXT = ("HOME | NEWS | SPORT\n\nFlood hits town\n\nThe river flooded the town on Monday. Ten homes were damaged.\n"
              "Officials said rain will continue. Schools are closed.\n\nPhoto: a flooded street (Reuters)\n")


def _region(first: str, last: str, label: str) -> Region:
    start = STORY_TEXT.index(first)
    return Region(start, STORY_TEXT.index(last, start) + len(last), label)


STORY = Document(
    "toy", STORY_TEXT,
    regions=(_region("HOME", "SPORT", "navigation"), _region("Flood", "town", "headline"),
             _region("The river", "closed.", "body"), _region("Photo", "(Reuters)", "caption")),
    summaries=(Summary("s", "short", "The river flooded the town on Monday, damaging ten homes."),),
)


def test_sentences_keep_offsets_into_the_text():
    found = sentences(STORY)
    assert [s.text for s in found] == ["Flood hits town", "The river flooded the town on Monday.",
                                       "Ten homes were damaged.", "Officials said rain will continue.",
                                       "Schools are closed."]
    for s in found:
        assert STORY.text[s.start:s.end] == s.text
    raw = [s.text for s in sentences(STORY, "raw")]
    assert raw[0] == "HOME | NEWS | SPORT" and raw[-1] == "Photo: a flooded street (Reuters)"


def test_lead_reads_the_story_unless_told_raw():
    assert LeadAdapter(k=2).summarize(STORY) == "Flood hits town The river flooded the town on Monday."
    assert LeadAdapter(k=2, text="raw").summarize(STORY) == "HOME | NEWS | SPORT Flood hits town"
    assert LeadAdapter(k=2).summarize(Document("plain", "One. Two. Three.")) == "One. Two."


def test_lead_on_gold_skips_the_dateline_unless_raw():
    doc = CORPUS.by_id()["001_52e54b49f32cf5ad"]
    headline = "Russia\u2019s military deaths and injuries in Ukraine top 1 million, officials say"
    second_headline = "Russia\u2019s Military Losses Surpass 1 Million, Ukraine Says"
    first_body = ("Ukrainian military officials have made a staggering claim about the human cost of Russia's "
                  "ongoing invasion.")
    assert LeadAdapter(k=3).summarize(doc) == f"{headline} {second_headline} {first_body}"
    assert LeadAdapter(k=3, text="raw").summarize(doc) == f"{headline} June 13, 2025 {second_headline}"


def test_textrank_scores_match_a_hand_computed_pagerank():
    # Three sentences; A and B share "river flood", C shares nothing. A and B link only to each other; C has
    # no edges, so (the usual dangling-node rule) it spreads its score evenly over all three. With d = 0.85:
    #   c = (1 - d)/3 + d * c/3   =>   c = 0.05 / (1 - 0.85/3) = 0.0697674...;   a = b = (1 - c) / 2.
    texts = ["river flood town", "river flood homes", "budget council vote"]
    scores = textrank_scores(texts, damping=0.85)
    c = 0.05 / (1 - 0.85 / 3)
    assert scores[2] == pytest.approx(c, abs=1e-9)
    assert scores[0] == pytest.approx((1 - c) / 2, abs=1e-9)
    assert scores[1] == pytest.approx((1 - c) / 2, abs=1e-9)


def test_textrank_picks_central_sentences_in_document_order():
    doc = Document("t", "Rain fell on the river town all week long.\n\nThe river town flooded after the rain fell.\n\n"
                        "A cat sat quietly on a warm mat today.\n\nFloods in the river town followed the rain.")
    summary = TextRankAdapter(k=2, min_words=0).summarize(doc)
    assert "cat" not in summary
    assert summary.count(".") == 2


def test_sentence_claims_have_spans():
    claims = SentenceClaimsAdapter(min_words=4).extract_claims(STORY)
    assert [c.text for c in claims] == ["The river flooded the town on Monday.", "Ten homes were damaged.",
                                        "Officials said rain will continue."]
    for c in claims:
        assert STORY.text[c.span[0]:c.span[1]] == c.text


def test_oracle_beats_lead_and_returns_gold_claims():
    scorer = rouge_scorer.RougeScorer(["rouge1", "rouge2"], use_stemmer=True)

    def best(summary: str, doc: Document) -> float:
        values = [scorer.score(s.text, summary) for s in doc.summaries]
        return max((v["rouge1"].fmeasure + v["rouge2"].fmeasure) / 2 for v in values)

    oracle, lead = OracleAdapter(), LeadAdapter(k=3)
    for doc in CORPUS.documents:
        assert best(oracle.summarize(doc), doc) >= best(lead.summarize(doc), doc) - 1e-9
        assert [c.text for c in oracle.extract_claims(doc)] == [c.text for c in doc.claims]
    toy = OracleAdapter(max_sentences=1).summarize(STORY)
    assert toy == "The river flooded the town on Monday."
    with pytest.raises(AdapterError, match="no reference summary"):
        OracleAdapter().summarize(Document("none", "Text without references."))


# --------------------------------------------------------------------------- the plugin example


def _install_plugin(target: Path) -> None:
    import shutil

    source = target.parent / "adapter-plugin"  # a copy: building writes build/ and egg-info beside the sources
    shutil.copytree(ROOT / "examples" / "adapter-plugin", source,
                    ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__"))
    base = [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(target), str(source)]
    attempts = [base[:4] + ["--no-build-isolation"] + base[4:], base]  # offline first; else build in isolation
    errors = []
    for argv in attempts:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=300)
        if done.returncode == 0:
            return
        errors.append(done.stderr[-1500:])
    pytest.fail("pip could not install examples/adapter-plugin:\n" + "\n".join(errors))


def test_plugin_example_installs_and_runs(tmp_path: Path):
    target = tmp_path / "site"
    _install_plugin(target)
    env = {"PYTHONPATH": str(target), "PATH": "/usr/bin:/bin"}
    listed = cli("adapters", "list", env=env)
    row = next(line for line in listed.stdout.splitlines() if line.startswith("first-words "))
    assert row.split()[:4] == ["first-words", "summary", "harness-example-adapter", "0.1.0"]
    done = cli("run", "--config", str(ROOT / "examples" / "adapter-plugin" / "run.yaml"), "--out", "out",
               "--no-progress", cwd=tmp_path, env=env)
    assert done.returncode == 0, done.stderr
    assert "first-40-words" in done.stdout
    rows = [json.loads(line) for line in (tmp_path / "out" / "predictions.jsonl").read_text().splitlines()]
    ours = {r["doc_id"]: r["summary"] for r in rows if r["system"] == "first-40-words"}
    for doc in CORPUS.documents:
        assert ours[doc.doc_id] == " ".join(doc.story_text().split()[:40])
    results = json.loads((tmp_path / "out" / "results.json").read_text())
    assert results["manifest"]["systems"]["first-40-words"]["package"] == "harness-example-adapter"
    # The plugin passes the conformance kit too.
    check = ("import sys; sys.path.insert(0, sys.argv[1]); from harness_example_adapter import FirstWordsAdapter; "
             "from harness.adapters.conformance import check_adapter; print(check_adapter(FirstWordsAdapter()).calls)")
    kit = subprocess.run([sys.executable, "-c", check, str(target)], capture_output=True, text=True, timeout=300)
    assert kit.returncode == 0, kit.stderr
    assert kit.stdout.strip() == "6"


def test_adapters_do_not_load_the_run_config_loader():
    """An adapter's options are its own contract (harness.options); the config loader stays out of its imports,
    and the older import path still names the same class."""
    from harness.config import Option as FromConfig
    from harness.options import Option

    assert FromConfig is Option
    modules = ("base", "baselines", "command", "openai_compatible", "replay", "registry", "conformance")
    code = ("import sys\n" + "".join(f"import harness.adapters.{m}\n" for m in modules)
            + "print(sorted(m for m in sys.modules if m in ('harness.config', 'harness.runner', 'harness.options')))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert done.stdout.strip() == "['harness.options']"
