"""Every malformed predictions file ends in one line naming file, line and field, and exit code 2."""

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harness.errors import UserError
from harness.predictions import read_predictions
from tests.conftest import run_cli

DOC = "000_15d33b86afb41c0d"
GOOD = json.dumps({"doc_id": DOC, "system": "s", "summary": "Russia's losses top 1 million."})


def _run(tmp_path, payload: bytes, *extra: str):
    path = tmp_path / "preds.jsonl"
    path.write_bytes(payload)
    return path, run_cli("score", "--predictions", str(path), "--bootstrap", "0", *extra)


CASES = [
    ("not JSON", b'{"doc_id": \n', ":1: not valid JSON"),
    ("not an object", b'[1, 2]\n', ":1: expected a JSON object, got list"),
    ("missing doc_id", b'{"system": "s", "summary": "x"}\n', ":1: doc_id: missing"),
    ("unknown doc_id", b'{"doc_id": "nope", "system": "s", "summary": "x"}\n', ":1: doc_id: unknown document 'nope'"),
    ("same doc and system twice", (GOOD + "\n" + GOOD + "\n").encode(), ":2: doc_id: second prediction"),
    ("claims not a list", json.dumps({"doc_id": DOC, "system": "s", "claims": "a claim"}).encode() + b"\n",
     ":1: claims: expected a list, got str"),
    ("claim not a string or object", json.dumps({"doc_id": DOC, "system": "s", "claims": [3]}).encode() + b"\n",
     ":1: claims[0]: a claim is a string or an object"),
    ("span outside the text", json.dumps({"doc_id": DOC, "system": "s", "claims": [{"text": "x", "span": [0, 10**6]}]}).encode()
     + b"\n", ":1: claims[0].span: span [0, 1000000] is outside the document"),
    ("reversed span", json.dumps({"doc_id": DOC, "system": "s", "claims": [{"text": "x", "span": [9, 3]}]}).encode() + b"\n",
     ":1: claims[0].span: span [9, 3] is reversed"),
    ("10 MB summary", json.dumps({"doc_id": DOC, "system": "s", "summary": "a " * 5_000_000}).encode() + b"\n",
     ":1: summary: 10,000,000 characters; the limit is 200,000"),
    ("invalid UTF-8", b'{"doc_id": "' + DOC.encode() + b'", "system": "s", "summary": "\xff\xfe"}\n', ":1: not valid UTF-8"),
    ("NUL byte", GOOD.encode() + b"\n\x00\n", ":2: contains a NUL byte"),
    ("empty file", b"", "no predictions (the file is empty)"),
    ("summary not a string", json.dumps({"doc_id": DOC, "system": "s", "summary": ["x"]}).encode() + b"\n",
     ":1: summary: expected a string, got list"),
    ("no system", json.dumps({"doc_id": DOC, "summary": "x"}).encode() + b"\n", ":1: system: missing"),
    ("misspelt field", json.dumps({"doc_id": DOC, "system": "s", "summmary": "x"}).encode() + b"\n",
     ":1: summmary: unknown field"),
]


@pytest.mark.parametrize("name,payload,message", CASES, ids=[c[0] for c in CASES])
def test_bad_input_is_one_line_and_exit_2(tmp_path, name, payload, message):
    path, result = _run(tmp_path, payload)
    assert result.returncode == 2, (name, result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert lines[0].startswith(f"harness: error: {path}")
    assert message in lines[0], lines[0]


def test_bom_and_windows_line_endings_are_accepted(tmp_path):
    payload = b"\xef\xbb\xbf" + GOOD.encode() + b"\r\n" + json.dumps(
        {"doc_id": "001_52e54b49f32cf5ad", "system": "s", "summary": "x"}).encode() + b"\r\n"
    _, result = _run(tmp_path, payload, "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["systems"]["s"]["summary"]["n_documents"] == 5


def test_empty_summary_scores_zero_documented_lenient(tmp_path):
    _, result = _run(tmp_path, json.dumps({"doc_id": DOC, "system": "s", "summary": ""}).encode() + b"\n", "--json")
    assert result.returncode == 0, result.stderr
    per_doc = json.loads(result.stdout)["systems"]["s"]["per_doc"][DOC]["summary"]
    assert per_doc["rouge1"]["fmeasure"] == 0.0 and per_doc["claim_coverage"] == 0.0


def test_system_flag_names_lines_without_system(tmp_path):
    _, result = _run(tmp_path, json.dumps({"doc_id": DOC, "summary": "x"}).encode() + b"\n", "--system", "mine", "--json")
    assert result.returncode == 0 and "mine" in json.loads(result.stdout)["systems"]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.one_of(
    st.binary(max_size=60),
    st.text(max_size=60).map(str.encode),
    st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=10),
                 lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
                     st.sampled_from(["doc_id", "system", "summary", "claims", "text", "span", "x"]), inner, max_size=4),
                 max_leaves=8).map(lambda o: json.dumps(o).encode()),
), max_size=4))
def test_parser_accepts_or_rejects_cleanly(tmp_path_factory, corpus, lines):
    path = tmp_path_factory.mktemp("fuzz") / "p.jsonl"
    path.write_bytes(b"\n".join(lines))
    try:
        read_predictions(path, corpus)
    except UserError as err:
        assert str(err).startswith(str(path))
        assert "\n" not in str(err)
