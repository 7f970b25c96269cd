"""The model-based judge, in-process: the yes/no parser, the top-k pre-filter, and the judge against a real HTTP
server on 127.0.0.1 (tests/tools/fault_server.py) playing a deterministic model, so every request can be counted
and faults produced on demand. The real llama.cpp server is exercised in test_judge_llm.py."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest

from harness.cli import main
from harness.errors import UserError
from harness.matcher_eval import metrics_by_category, spread_over_categories
from harness.scoring.judge import JudgeSimilarity, parse_verdict, top_k_mask
from harness.scoring.matching import ClaimMatcher, GoldItem
from harness.scoring.settings import MATCHER_THRESHOLDS, ScoreSettings
from tests.tools import fault_server as fs

SECRET = "sk-judge-0123456789-never-written"
DOC0 = "000_15d33b86afb41c0d"
DRONES = "Russia launched 63 drones at Ukraine overnight."
NATO = "NATO leaders met in Rome on Thursday."


@pytest.fixture
def server():
    servers = []

    def start(behaviour) -> fs.FaultServer:
        s = fs.FaultServer(behaviour)
        servers.append(s)
        return s

    yield start
    for s in servers:
        s.close()


def pair_of(request: dict) -> tuple[str, str]:
    """(candidate, fact) from the judge's prompt."""
    prompt = request["messages"][-1]["content"]
    return re.search(r"^Candidate: (.*)$", prompt, re.M).group(1), re.search(r"^Fact: (.*)$", prompt, re.M).group(1)


def substring_model(request: dict, n: int) -> fs.Fault:
    """Says yes when the candidate (without its full stop) is part of the fact; "Maybe." to a question mark."""
    candidate, fact = pair_of(request)
    if candidate.endswith("?"):
        return fs.ok("Maybe.")
    return fs.ok("Yes." if candidate.rstrip(".").lower() in fact.lower() else "No.")


def judge(url: str, gold: list[str], cache_dir: Path | None = None, **options) -> JudgeSimilarity:
    return JudgeSimilarity(gold, url, options.pop("model", "stub-model"), cache_dir=cache_dir, **options)


# --------------------------------------------------------------------------- the answer parser


@pytest.mark.parametrize("answer, verdict", [
    ("yes", True), ("No", False), ("Yes.", True), ("  **NO**", False), ("No, the figures differ.", False),
    ("Answer: yes", True), ("The answer is no.", False), ("yes or no", True),
    ("I cannot tell, yes or no.", None), ("", None), ("Nope", None), ("yesterday", None), ("Not sure", None),
])
def test_parse_verdict(answer, verdict):
    assert parse_verdict(answer) is verdict


# --------------------------------------------------------------------------- the top-k pre-filter


def test_top_k_mask_keeps_the_k_best_above_the_floor():
    lexical = np.array([[0.5, 0.2, 0.9, 0.05],
                        [0.3, 0.3, 0.3, 0.3],     # ties: the earlier columns
                        [0.0, 0.09, 0.0, 0.0]])   # nothing reaches the floor
    assert top_k_mask(lexical, k=2, floor=0.1).tolist() == [[True, False, True, False],
                                                            [True, True, False, False],
                                                            [False, False, False, False]]
    assert top_k_mask(lexical, k=4, floor=0.1).tolist()[0] == [True, True, True, False]  # 0.05 < floor
    assert top_k_mask(np.zeros((2, 0)), k=3).shape == (2, 0)


def test_prefilter_ranks_with_the_lexical_similarity(server):
    s = server(substring_model)
    gold = [DRONES, NATO, "Ukrainian drones hit a Russian refinery overnight.", "Apples grow in Kent."]
    j = judge(s.url, gold, top_k=2)
    mask = j.prefilter([DRONES, "Bananas are yellow."], gold)
    # The identical text ranks first, the refinery claim (drones, overnight) second; NATO and Kent share no
    # content word with it; the bananas share none with anything.
    assert mask.tolist() == [[True, False, True, False], [False, False, False, False]]
    assert judge(s.url, gold, top_k=1).prefilter([DRONES], gold).tolist() == [[True, False, False, False]]
    assert s.requests == []


# --------------------------------------------------------------------------- through the matching engine


def test_the_engine_asks_only_plausible_unvetoed_pairs(server):
    s = server(substring_model)
    gold = [GoldItem("g0", DRONES), GoldItem("g1", NATO)]
    excluded = ["Bananas are yellow and sweet."]
    predictions = ["Russia launched 36 drones at Ukraine overnight.",  # vetoed against g0 (36 vs 63)
                   DRONES, NATO, "Bananas are yellow."]
    texts = [g.text for g in gold] + excluded
    matcher = ClaimMatcher(texts, 0.5, similarity=judge(s.url, texts))
    counts = matcher.match(predictions, gold, excluded_sentences=excluded)
    asked = sorted(pair_of(r) for r in s.requests)
    # The vetoed pair and pairs sharing no content word are not asked at all; excluded page content is found
    # by the lexical recall, never asked about.
    assert asked == sorted([(DRONES, DRONES), (NATO, NATO)])
    assert (counts.tp, counts.fp, counts.fn, counts.excluded) == (2, 2, 0, 1)
    assert [d.outcome for d in counts.decisions] == ["below_threshold", "matched", "matched", "excluded_content"]
    assert all(r["temperature"] == 0 and r["max_tokens"] <= 8 and r["model"] == "stub-model" for r in s.requests)


def test_an_ask_mask_is_obeyed_exactly(server):
    s = server(substring_model)
    j = judge(s.url, [DRONES, NATO])
    scores = j.matrix([DRONES, "Bananas are yellow."], [DRONES, NATO], ask=np.array([[False, True], [True, False]]))
    assert scores.tolist() == [[0.0, 0.0], [0.0, 0.0]]
    assert sorted(pair_of(r) for r in s.requests) == sorted([(DRONES, NATO), ("Bananas are yellow.", DRONES)])


# --------------------------------------------------------------------------- cache, retries, failures, the key


def test_answers_are_cached_retried_and_keyed_by_model(server, tmp_path, monkeypatch):
    monkeypatch.setenv("JUDGE_KEY", SECRET)
    s = server(lambda request, n: fs.status(503, "loading", **{"Retry-After": "0"}) if n == 0
               else substring_model(request, n))
    first = judge(s.url, [DRONES, NATO], tmp_path, api_key_env="JUDGE_KEY")
    assert first.matrix([DRONES], [DRONES, NATO]).tolist() == [[1.0, 0.0]]
    assert len(s.requests) == 2  # the 503, then its retry
    assert s.headers[-1]["Authorization"] == f"Bearer {SECRET}"
    assert first.stats()["requests"] == 1 and first.stats()["from_cache"] == 0

    again = judge(s.url, [DRONES, NATO], tmp_path, api_key_env="JUDGE_KEY")
    assert again.matrix([DRONES], [DRONES, NATO]).tolist() == [[1.0, 0.0]]
    assert len(s.requests) == 2 and again.stats()["requests"] == 0 and again.stats()["from_cache"] == 1

    other = judge(s.url, [DRONES, NATO], tmp_path, model="other-model")
    other.matrix([DRONES], [DRONES])
    assert len(s.requests) == 3 and s.requests[-1]["model"] == "other-model"
    files = list(tmp_path.rglob("*.json"))
    assert len(files) == 2 and not any(SECRET in f.read_text() for f in files)


def test_unparseable_answers_are_no_and_counted(server, tmp_path):
    s = server(substring_model)
    question = "Did Russia launch 63 drones at Ukraine overnight?"
    j = judge(s.url, [DRONES], tmp_path)
    assert j.matrix([question, DRONES], [DRONES]).tolist() == [[0.0], [1.0]]
    assert j.stats()["unparseable"] == 1
    from_cache = judge(s.url, [DRONES], tmp_path)
    assert from_cache.matrix([question], [DRONES]).tolist() == [[0.0]]
    assert from_cache.stats() | {"url": None} == {"model": "stub-model", "url": None, "pairs": 1, "requests": 0,
                                                  "from_cache": 1, "unparseable": 1, "seconds_per_request": None}


def test_a_failure_that_persists_stops_with_the_endpoint_named_and_nothing_cached(server, tmp_path):
    s = server(lambda request, n: fs.status(503, "overloaded", **{"Retry-After": "0"}))
    j = judge(s.url, [DRONES], tmp_path)
    with pytest.raises(UserError) as caught:
        j.matrix([DRONES], [DRONES])
    assert str(caught.value) == f"the judge endpoint {s.url} (model stub-model) failed: HTTP 503: overloaded"
    assert len(s.requests) == 4  # the first try and 3 retries
    assert not list(tmp_path.rglob("*.json"))


def test_score_with_a_failing_judge_is_one_line_exit_2(server, tmp_path, monkeypatch, capsys):
    s = server(lambda request, n: fs.status(404, "model 'nope' not found"))
    monkeypatch.chdir(tmp_path)
    from harness import gold

    corpus, _ = gold.load(None)
    claim = corpus.by_id()[DOC0].claims[0].text
    (tmp_path / "p.jsonl").write_text(json.dumps({"doc_id": DOC0, "system": "s", "claims": [claim]}) + "\n")
    assert main(["score", "--predictions", "p.jsonl", "--bootstrap", "0", "--matcher", "judge",
                 "--judge-url", s.url, "--judge-model", "nope"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"harness: error: the judge endpoint {s.url} (model nope) failed: HTTP 404: model 'nope' not found"]
    assert len(s.requests) == 1  # a client error is not retried


def test_run_keeps_the_judges_answers_in_its_cache_dir(server, tmp_path, monkeypatch, capsys, corpus):
    s = server(substring_model)
    monkeypatch.chdir(tmp_path)
    claim = corpus.by_id()[DOC0].claims[0].text
    (tmp_path / "p.jsonl").write_text(json.dumps({"doc_id": DOC0, "system": "r", "claims": [claim]}) + "\n")
    (tmp_path / "judge.yaml").write_text(json.dumps({
        "tasks": ["claims"], "systems": [{"name": "r", "adapter": "replay", "options": {"path": "p.jsonl"}}],
        "scoring": {"bootstrap": 0, "matcher": "judge", "judge_url": s.url, "judge_model": "stub-model"}}))
    run = ["run", "--config", "judge.yaml", "--no-progress", "--db", "h.sqlite"]
    assert main([*run, "--cache-dir", "c"]) == 0
    asked = len(s.requests)
    assert asked > 0 and len(list((tmp_path / "c" / "judge").rglob("*.json"))) == asked
    assert f"{asked} requests sent" in capsys.readouterr().err
    assert main([*run, "--cache-dir", "c"]) == 0 and len(s.requests) == asked
    assert main([*run, "--no-cache"]) == 0 and len(s.requests) == 2 * asked
    assert not (tmp_path / ".cache").exists() and len(list((tmp_path / "c").rglob("*.json"))) == asked


# --------------------------------------------------------------------------- settings


def test_judge_settings_are_checked_up_front(monkeypatch):
    assert ScoreSettings(matcher="judge", judge_url="http://127.0.0.1:9/v1", judge_model="m").threshold == 0.5
    assert ScoreSettings().threshold == MATCHER_THRESHOLDS["lexical"]
    assert ScoreSettings(matcher="hybrid").threshold == MATCHER_THRESHOLDS["hybrid"]
    cases = [({"matcher": "judge", "judge_model": "m"}, "judge_url: the judge matcher needs the endpoint root"),
             ({"matcher": "judge", "judge_url": "http://h/v1"}, "judge_model: the judge matcher needs the model name"),
             ({"matcher": "judge", "judge_url": "h:8080", "judge_model": "m"},
              "judge_url: must start with http:// or https://, got 'h:8080'"),
             ({"judge_url": "http://h/v1"}, "judge_url: only used with matcher judge (the matcher is lexical)"),
             ({"matcher": "judge", "judge_url": "http://h/v1", "judge_model": "m", "judge_api_key_env": "NO_SUCH_KEY"},
              "judge_api_key_env: environment variable NO_SUCH_KEY is not set (it holds the API key)"),
             ({"matcher": "jduge"}, "matcher: unknown matcher 'jduge'")]
    monkeypatch.delenv("NO_SUCH_KEY", raising=False)
    for options, message in cases:
        with pytest.raises(UserError) as caught:
            ScoreSettings(**options)
        assert str(caught.value).startswith(message), (options, str(caught.value))


def test_run_config_scoring_keys_select_the_judge(tmp_path):
    from harness.config import load_run_config

    path = tmp_path / "judge.yaml"
    path.write_text("systems:\n  - {adapter: lead}\nscoring:\n  matcher: judge\n  judge_model: m\n", encoding="utf-8")
    with pytest.raises(UserError) as caught:
        load_run_config(path)
    assert str(caught.value) == (f"{path}:4: judge_url: scoring: the judge matcher needs the endpoint root, "
                                 "e.g. http://127.0.0.1:8080/v1")
    path.write_text("systems:\n  - {adapter: lead}\nscoring:\n  matcher: judge\n  judge_model: m\n"
                    "  judge_url: http://127.0.0.1:9/v1\n", encoding="utf-8")
    settings = load_run_config(path).score_settings()
    assert (settings.matcher, settings.judge_url, settings.judge_model, settings.threshold) == \
        ("judge", "http://127.0.0.1:9/v1", "m", 0.5)


def test_the_signature_names_the_judge_model_and_prompt(server, corpus):
    from harness.scoring.scorer import Scorer

    s = server(substring_model)
    scorer = Scorer(corpus, ScoreSettings(matcher="judge", judge_url=s.url, judge_model="stub-model"))
    assert re.search(r"\|matcher:judge\(stub-model,prompt:[0-9a-f]{8},top3>=0\.10\)\+rules3\|thr:0\.50\|",
                     scorer.signature()), scorer.signature()


# --------------------------------------------------------------------------- calibration helpers


def test_metrics_by_category():
    rows = [(True, True, "paraphrase"), (True, False, "paraphrase"), (False, False, "negation"),
            (False, False, "negation"), (False, True, "negation"), (True, True, "exact")]
    assert metrics_by_category(rows) == {
        "exact": {"n": 1, "correct": 1, "accuracy": 1.0},
        "negation": {"n": 3, "correct": 2, "accuracy": 2 / 3},
        "paraphrase": {"n": 2, "correct": 1, "accuracy": 0.5}}


def test_spread_over_categories_takes_categories_in_turn_and_keeps_file_order():
    rows = [{"id": 1, "category": "a"}, {"id": 2, "category": "a"}, {"id": 3, "category": "a"},
            {"id": 4, "kind": "b"}, {"id": 5, "category": "c", "kind": "b"}, {"id": 6, "kind": "b"}]
    # categories in order of appearance: a (1, 2, 3), b (4, 6; "kind" when "category" is missing), c (5)
    assert [r["id"] for r in spread_over_categories(rows, 3)] == [1, 4, 5]
    assert [r["id"] for r in spread_over_categories(rows, 5)] == [1, 2, 4, 5, 6]
    assert spread_over_categories(rows, 10) == rows and spread_over_categories(rows, None) == rows
