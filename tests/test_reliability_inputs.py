"""Bad gold files, bad run configs and hostile YAML end in one line naming file, line and field, and exit 2;
every command's --help documents its exit codes; hypothesis feeds random configs, YAML and predictions files.

(Bad predictions files, one case each, are in test_bad_predictions.py.)"""

from __future__ import annotations

import argparse
import json
import math
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harness import gold
from harness.cli import _parser, main
from harness.errors import UserError

ROOT = Path(__file__).resolve().parent.parent
DOC0, DOC1, DOC2, DOC3 = "000_15d33b86afb41c0d", "001_52e54b49f32cf5ad", "002_6b974652a62947d2", "003_448a3b4a6da84435"


def one_line_error(capsys, argv: list[str]) -> str:
    """Run the real command line in-process; it must exit 2 with exactly one line on stderr, no traceback."""
    assert main(argv) == 2
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("harness: error: ") and "Traceback" not in err
    return lines[0][len("harness: error: "):]


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


# --------------------------------------------------------------------------- gold folders

def _missing_manifest(g: Path) -> None:
    (g / "manifest.yaml").unlink()


def _missing_article(g: Path) -> None:
    (g / "articles" / f"{DOC2}.txt").unlink()


def _missing_annotation(g: Path) -> None:
    (g / "annotations" / f"{DOC3}.yaml").unlink()


def _manifest_malformed(g: Path) -> None:
    edit(g / "manifest.yaml", f"- doc_id: {DOC1}", f"- doc_id: [{DOC1}")


def _manifest_unknown_entry_key(g: Path) -> None:
    edit(g / "manifest.yaml", "  sha256: fa4f", "  sha265: fa4f")


def _manifest_unknown_top_key(g: Path) -> None:
    edit(g / "manifest.yaml", "schema_version: 1", "schema_versoin: 1")


def _manifest_duplicate_doc(g: Path) -> None:
    edit(g / "manifest.yaml", f"- doc_id: {DOC1}", f"- doc_id: {DOC0}")


def _manifest_entry_not_mapping(g: Path) -> None:
    edit(g / "manifest.yaml", "documents:\n", "documents:\n- just a string\n")


def _manifest_no_documents(g: Path) -> None:
    (g / "manifest.yaml").write_text("schema_version: 1\ndocuments: []\n", encoding="utf-8")


def _manifest_bad_date(g: Path) -> None:
    edit(g / "manifest.yaml", "  date: '2025-06-13'", "  date: 2025-06-31")


def _manifest_headline_wrong_type(g: Path) -> None:
    edit(g / "manifest.yaml", "  headline: Russia's military casualties top 1 million in 3-year-old war, Ukraine says",
         "  headline: [a, list]")


def _annotation_unknown_top_key(g: Path) -> None:
    path = g / "annotations" / f"{DOC0}.yaml"
    path.write_text(path.read_text(encoding="utf-8") + "claimz: []\n", encoding="utf-8")


def _annotation_wrong_type(g: Path) -> None:
    edit(g / "annotations" / f"{DOC0}.yaml", "  salience: core", "  salience: [core]")


def _annotation_region_wrong_type(g: Path) -> None:
    edit(g / "annotations" / f"{DOC0}.yaml", "- {start: 0, end: 77, label: headline}",
         "- {start: zero, end: 77, label: headline}")


def _annotation_duplicate_key(g: Path) -> None:
    edit(g / "annotations" / f"{DOC0}.yaml", "  salience: core\n", "  salience: core\n  salience: minor\n")


def _annotation_python_tag(g: Path) -> None:
    edit(g / "annotations" / f"{DOC0}.yaml", "  salience: core", "  salience: !!python/object/apply:os.system [touch PWNED]")


def _annotation_invalid_utf8(g: Path) -> None:
    path = g / "annotations" / f"{DOC0}.yaml"
    path.write_bytes(path.read_bytes().replace(b"salience: core", b"salience: \xff\xfe", 1))


def _annotation_wrong_doc(g: Path) -> None:
    edit(g / "annotations" / f"{DOC0}.yaml", f"doc_id: {DOC0}", f"doc_id: {DOC1}")


def _keys_not_mapping(g: Path) -> None:
    (g / "keys.yaml").write_text("- a\n- b\n", encoding="utf-8")


def _conflicts_not_list(g: Path) -> None:
    (g / "conflicts.yaml").write_text("key: value\n", encoding="utf-8")


def _conflicts_values_not_mapping(g: Path) -> None:
    (g / "conflicts.yaml").write_text("- key: k\n  kind: x\n  values: [a, b]\n", encoding="utf-8")


GOLD_FOLDER_CASES = [
    # name, mutation, expected (file relative to the gold folder, then the rest of the line)
    ("missing manifest", _missing_manifest, "manifest.yaml: file not found"),
    ("missing article", _missing_article, f"articles/{DOC2}.txt: article file not found"),
    ("missing annotation", _missing_annotation, f"annotations/{DOC3}.yaml: annotation file not found for document "
                                                f"{DOC3}"),
    ("malformed manifest YAML", _manifest_malformed, "manifest.yaml:10: malformed YAML: expected ',' or ']'"),
    ("unknown key in a manifest entry", _manifest_unknown_entry_key,
     "manifest.yaml:4: sha265: documents[0]: unknown field"),
    ("unknown top-level manifest key", _manifest_unknown_top_key, "manifest.yaml:2: schema_versoin: manifest: unknown field"),
    ("same document twice", _manifest_duplicate_doc,
     f"manifest.yaml:9: doc_id: duplicate document '{DOC0}' (first on line 4)"),
    ("manifest entry not a mapping", _manifest_entry_not_mapping, "manifest.yaml:2: documents[0]: expected a mapping"),
    ("no documents", _manifest_no_documents, ": no documents"),
    ("impossible date", _manifest_bad_date,
     "manifest.yaml:7: malformed YAML: '2025-06-31' is not a valid timestamp (day is out of range for month)"),
    ("headline of the wrong type", _manifest_headline_wrong_type,
     f"manifest.yaml:4: headline: document {DOC0}: expected a string, got list"),
    ("unknown top-level annotation key", _annotation_unknown_top_key, f"annotations/{DOC0}.yaml:1: claimz: document: unknown field"),
    ("claim field of the wrong type", _annotation_wrong_type,
     f"annotations/{DOC0}.yaml:16: salience: claim c001: expected a string, got list"),
    ("region field of the wrong type", _annotation_region_wrong_type,
     f"annotations/{DOC0}.yaml:3: start: regions[0]: expected int, got str"),
    ("repeated key", _annotation_duplicate_key, f"annotations/{DOC0}.yaml:25: malformed YAML: duplicate key 'salience'"),
    ("python tag", _annotation_python_tag,
     f"annotations/{DOC0}.yaml:24: malformed YAML: tag 'tag:yaml.org,2002:python/object/apply:os.system' is not allowed"),
    ("invalid UTF-8", _annotation_invalid_utf8, f"annotations/{DOC0}.yaml: not valid UTF-8"),
    ("annotation for another document", _annotation_wrong_doc, f"annotations/{DOC0}.yaml:1: doc_id: doc_id must be {DOC0}"),
    ("keys.yaml not a mapping", _keys_not_mapping, "keys.yaml:1: expected a mapping of fact keys"),
    ("conflicts.yaml not a list", _conflicts_not_list, "conflicts.yaml:1: expected a list of conflicts"),
    ("conflict values not a mapping", _conflicts_values_not_mapping,
     "conflicts.yaml:1: values: conflicts[0]: expected a mapping of doc_id: wording"),
]


@pytest.mark.parametrize("name, mutate, expected", GOLD_FOLDER_CASES, ids=[c[0] for c in GOLD_FOLDER_CASES])
def test_bad_gold_folder_is_one_line_exit_2(gold_copy, tmp_path, monkeypatch, capsys, name, mutate, expected):
    monkeypatch.chdir(tmp_path)
    mutate(gold_copy)
    line = one_line_error(capsys, ["gold", "validate", "--gold", str(gold_copy)])
    assert line.startswith(str(gold_copy)), line
    assert expected in line, line
    assert not (tmp_path / "PWNED").exists()


@pytest.mark.parametrize("doc_id", ["../../etc/passwd", "..\\x", "/etc/passwd", ".hidden", "a/b"])
def test_document_ids_that_would_name_files_outside_the_gold_folder_are_refused(gold_copy, monkeypatch, capsys,
                                                                                doc_id):
    monkeypatch.chdir(gold_copy)
    edit(gold_copy / "manifest.yaml", f"- doc_id: {DOC0}", f"- doc_id: {json.dumps(doc_id)}")
    line = one_line_error(capsys, ["gold", "validate", "--gold", str(gold_copy)])
    assert line.startswith(f"{gold_copy / 'manifest.yaml'}:4: doc_id: {doc_id!r} cannot name a file"), line


# --------------------------------------------------------------------------- gold JSONL


@pytest.fixture
def gold_lines(corpus) -> list[str]:
    return [json.dumps(gold.document_record(d), ensure_ascii=False) for d in corpus.documents]


def _with(lines: list[str], index: int, change) -> list[str]:
    out = list(lines)
    record = json.loads(out[index])
    change(record)
    out[index] = json.dumps(record, ensure_ascii=False)
    return out


GOLD_JSONL_CASES = [
    ("line not JSON", lambda ls: [ls[0], '{"doc_id": "x", ', *ls[2:]], ":2: not valid JSON"),
    ("line not an object", lambda ls: [ls[0], "[1, 2]", *ls[2:]], ":2: each line must be a JSON object"),
    ("missing text", lambda ls: _with(ls, 1, lambda r: r.pop("text")), ":2: text: document: missing required field"),
    ("unknown field", lambda ls: _with(ls, 0, lambda r: r.update(extra=1)), ":1: extra: document: unknown field"),
    ("claims not a list", lambda ls: _with(ls, 0, lambda r: r.update(claims="c1")),
     f":1: claims: {DOC0}: expected a list"),
    ("claim text wrong type", lambda ls: _with(ls, 0, lambda r: r["claims"][0].update(text=7)),
     ":1: text: claim c001: expected str, got int"),
    ("same document twice", lambda ls: [*ls, ls[2]], f":6: doc_id: duplicate document '{DOC2}' (first on line 3)"),
    ("lone surrogate escape", lambda ls: [ls[0], ls[1].replace('"text": "', '"text": "\\udc80', 1), *ls[2:]],
     ":2: text: not valid Unicode"),
    ("empty file", lambda ls: [], "no documents in file"),
]


@pytest.mark.parametrize("name, change, expected", GOLD_JSONL_CASES, ids=[c[0] for c in GOLD_JSONL_CASES])
def test_bad_gold_jsonl_is_one_line_exit_2(tmp_path, monkeypatch, capsys, gold_lines, name, change, expected):
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "gold.jsonl"
    lines = change(gold_lines)
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    line = one_line_error(capsys, ["gold", "validate", "--gold", str(path)])
    assert line.startswith(str(path)) and expected in line, line


# --------------------------------------------------------------------------- run configs


def _config(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "run.yaml"
    path.write_text(text, encoding="utf-8")
    return path


LEAD = "systems:\n  - name: lead-3\n    adapter: lead\n"
CONFIG_CASES = [
    ("malformed YAML", "tasks: [summary\nsystems: []\n", ":2: malformed YAML"),
    ("python tag", "systems: !!python/object/apply:os.system ['touch PWNED']\n",
     ":1: malformed YAML: tag 'tag:yaml.org,2002:python/object/apply:os.system' is not allowed"),
    ("python name tag", "systems:\n  - adapter: !!python/name:os.system\n", ":2: malformed YAML: tag"),
    ("repeated key", LEAD + "systems: []\n", ":4: malformed YAML: duplicate key 'systems'"),
    ("empty file", "", ":1: a run config is a mapping with 'systems'"),
    ("not a mapping", "- lead\n", ":1: a run config is a mapping with 'systems'"),
    ("systems not a list", "systems: {adapter: lead}\n", ":1: systems: needs a non-empty list of systems"),
    ("options not a mapping", LEAD + "    options: [k, 3]\n", ":2: options: system lead-3: options must be a mapping"),
    ("impossible date", "description: 2024-13-45\n" + LEAD, ":1: malformed YAML: '2024-13-45' is not a valid timestamp (month must be in 1..12)"),
    ("unknown task", "tasks: [sumary]\n" + LEAD, ":1: tasks: unknown task 'sumary'; did you mean 'summary'?"),
    ("NaN threshold", LEAD + "scoring: {threshold: .nan}\n", ":4: threshold: scoring: expected a finite number, got nan"),
    ("negative seed", LEAD + "scoring: {seed: -1}\n", ":4: seed: scoring: must be at least 0, got -1"),
    ("absurd bootstrap", LEAD + "scoring: {bootstrap: 1000000000000}\n",
     ":4: bootstrap: scoring: must be at most 100000, got 1000000000000"),
    ("infinite timeout", LEAD + "    timeout: .inf\n", ":2: timeout: system lead-3: timeout is seconds per document"),
    ("zero timeout", LEAD + "    timeout: 0\n", ":2: timeout: system lead-3: timeout is seconds per document"),
    ("option of the wrong type", LEAD + "    options: {k: 2.5}\n", ":2: k: system lead-3: adapter lead: expected int"),
    ("NUL in an option", "systems:\n  - adapter: command\n    options: {argv: [\"py\\0thon\"]}\n",
     ":2: argv: system command: command: program not found: py\\x00thon"),
    ("base_url without a scheme", "systems:\n  - name: llm\n    adapter: openai-compatible\n"
                                  "    options: {base_url: '127.0.0.1:8080/v1', model: m}\n",
     ":2: base_url: system llm: openai-compatible: base_url must start with http:// or https://"),
    ("missing prompt template", "systems:\n  - name: llm\n    adapter: openai-compatible\n"
                                "    options: {base_url: 'http://127.0.0.1:9/v1', model: m, summary_prompt: no/such.txt}\n",
     ":2: summary_prompt: system llm: openai-compatible: prompt template not found: 'no/such.txt'"),
    ("missing replay file", "systems:\n  - name: r\n    adapter: replay\n    options: {path: nowhere.jsonl}\n",
     ":2: path: system r: replay: predictions file not found: nowhere.jsonl"),
]


@pytest.mark.parametrize("name, text, expected", CONFIG_CASES, ids=[c[0] for c in CONFIG_CASES])
def test_bad_run_config_is_one_line_exit_2(tmp_path, monkeypatch, capsys, name, text, expected):
    monkeypatch.chdir(tmp_path)
    config = _config(tmp_path, text)
    line = one_line_error(capsys, ["run", "--config", str(config), "--no-progress"])
    assert line.startswith(f"{config}{expected}"), line
    assert not (tmp_path / "PWNED").exists() and not (tmp_path / "results").exists()


def test_missing_directory_or_unreadable_config(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert one_line_error(capsys, ["run", "--config", "nope.yaml"]) == \
        "nope.yaml: file not found (bundled configs: default, local-llm; e.g. --config default)"
    assert one_line_error(capsys, ["run", "--config", str(tmp_path)]) == f"{tmp_path}: is a directory, expected a file"
    (tmp_path / "latin1.yaml").write_bytes(b"description: caf\xe9\n" + LEAD.encode())
    assert one_line_error(capsys, ["run", "--config", "latin1.yaml"]) == "latin1.yaml: not valid UTF-8 (byte 16)"


def test_a_bad_line_in_a_replay_file_names_that_file_and_line(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "preds.jsonl").write_text(json.dumps({"doc_id": DOC0, "system": "x", "summary": "s"}) + "\n{oops\n",
                                          encoding="utf-8")
    config = _config(tmp_path, "systems:\n  - name: r\n    adapter: replay\n    options: {path: preds.jsonl}\n")
    line = one_line_error(capsys, ["run", "--config", str(config)])
    assert line.startswith("preds.jsonl:2: system r: not valid JSON"), line


@pytest.mark.parametrize("flags, expected", [
    (["--seed", "-1"], "seed: must be a whole number >= 0, got -1"),
    (["--bootstrap", "-5"], "bootstrap: must be a whole number from 0 to 100,000, got -5"),
    (["--threshold", "nan"], "threshold: must be a finite number >= 0, got nan"),
    (["--coverage-threshold", "-0.1"], "coverage_threshold: must be a finite number >= 0, got -0.1"),
])
def test_bad_scoring_flags_are_one_line_exit_2(tmp_path, monkeypatch, capsys, flags, expected):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "p.jsonl").write_text(json.dumps({"doc_id": DOC0, "system": "s", "summary": "x"}) + "\n")
    assert one_line_error(capsys, ["score", "--predictions", "p.jsonl", *flags]) == expected


def test_lone_surrogate_in_predictions_is_one_line_not_a_crash_when_writing(tmp_path, monkeypatch, capsys):
    """JSON allows "\\ud800" but no UTF-8 file can hold it: refused on reading, before anything is written."""
    monkeypatch.chdir(tmp_path)
    good = json.dumps({"doc_id": DOC0, "system": "s", "summary": "fine"})
    bad = json.dumps({"doc_id": DOC1, "system": "s", "claims": ["ok", "half \ud800 a pair"]})
    assert "\\ud800" in bad
    (tmp_path / "p.jsonl").write_text(good + "\n" + bad + "\n", encoding="utf-8")
    line = one_line_error(capsys, ["score", "--predictions", "p.jsonl", "--bootstrap", "0", "--out", "out"])
    assert line == "p.jsonl:2: claims[1]: not valid Unicode: a \\u escape names half a surrogate pair"
    assert not (tmp_path / "out").exists()


# --------------------------------------------------------------------------- --help documents exit codes


def _commands(parser: argparse.ArgumentParser, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    found = [prefix]
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                found += _commands(sub, prefix + (name,))
    return found


COMMANDS = _commands(_parser())


def test_every_command_is_covered():
    assert {"gold", "score", "run", "compare", "history", "matcher", "adapters"} <= {c[0] for c in COMMANDS if c}
    assert ("history", "import") in COMMANDS and ("gold", "validate") in COMMANDS


@pytest.mark.parametrize("command", COMMANDS, ids=[" ".join(c) or "harness" for c in COMMANDS])
def test_help_documents_exit_codes(capsys, command):
    with pytest.raises(SystemExit) as stop:
        main([*command, "--help"])
    assert stop.value.code == 0
    text = " ".join(capsys.readouterr().out.split())
    assert re.search(r"exit codes: 0 (ok|no regression)\b.* 2 (bad input|usage or input error)", text), text
    if command[:1] != ("compare",):
        assert "130 interrupted (Ctrl-C), 143 terminated (SIGTERM)" in text


def test_help_in_a_real_process():
    done = subprocess.run([sys.executable, "-m", "harness.cli", "run", "--help"], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0
    assert "exit codes: 0 ok; 1 regression found (compare only); 2 bad input" in " ".join(done.stdout.split())


# --------------------------------------------------------------------------- property-based


YAML_PIECES = ["a", "b: ", "- ", "[", "]", "{", "}", ", ", ": ", "\n", "  ", "&x ", "*x", "<<: ", "!!python/object ",
               "!!binary ", "!!timestamp ", "2024-13-45", "2024-02-29", "? ", "'", '"', "\\", "#", "|", ">", "%YAML 1.1\n",
               "---\n", "...\n", "\t", "\x00", "\ufeff", "1e999", "0x", "~", "null", ".nan", "\ud800"]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.sampled_from(YAML_PIECES) | st.text(max_size=6), max_size=30).map("".join))
def test_any_yaml_text_is_read_or_refused_in_one_line(tmp_path_factory, text):
    from harness.io import read_yaml

    path = tmp_path_factory.mktemp("yaml") / "x.yaml"
    path.write_bytes(text.encode("utf-8", "surrogatepass"))
    try:
        read_yaml(path)
    except UserError as err:
        assert str(err).startswith(str(path)) and "\n" not in str(err)


def _adapter_options() -> dict[str, list[str]]:
    from harness.adapters import registry

    return {name: [o.name for o in registry.load_class(name).options]
            for name in ("lead", "textrank", "sentence-claims", "oracle", "replay", "command", "openai-compatible")}


ADAPTER_OPTIONS = _adapter_options()
_WORDS = ["summary", "claims", "story", "raw", "gold", "dataset", "json", "python3", "http://127.0.0.1:9/v1",
          "../../etc/x", "..\\x", "/abs/x", "", " ", "a\x00b", "line\nbreak", "é", "auto", "max", "mean"]
_scalars = (st.none() | st.booleans() | st.integers(-2**70, 2**70) | st.integers(-3, 5) | st.floats()
            | st.sampled_from(_WORDS) | st.text(max_size=5) | st.dates())


def _nest(inner):
    return st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(_WORDS), inner, max_size=3)


_values = st.recursive(_scalars, _nest, max_leaves=6)


def _system(adapter: str):
    """A system entry that is mostly well formed: the adapter's own option names, values of any shape."""
    names = ADAPTER_OPTIONS.get(adapter, ["k"]) + ["kk"]
    return st.fixed_dictionaries({"adapter": st.just(adapter)}, optional={
        "name": st.sampled_from(["a", "b", "../../etc/x", "..\\x", "/abs"]) | _scalars,
        "options": st.dictionaries(st.sampled_from(names), _values | st.lists(st.sampled_from(_WORDS), max_size=3),
                                   max_size=4),
        "tasks": st.sampled_from([["summary"], ["claims"], "summary", ["summary", "claims"]]) | _values,
        "timeout": st.floats() | st.integers(-1, 5) | _scalars})


_systems = st.lists(st.sampled_from(sorted(ADAPTER_OPTIONS) + ["leed"]).flatmap(_system), min_size=1, max_size=3)
_corpus = st.fixed_dictionaries({}, optional={
    "kind": st.sampled_from(["gold", "dataset", "datset"]) | _scalars, "path": _scalars,
    "format": st.sampled_from(["json", "csv", "parquet"]) | _scalars, "files": _values, "split": _scalars,
    "limit": _scalars, "columns": _values})
_scoring = st.dictionaries(st.sampled_from(["threshold", "coverage_threshold", "use_stemmer", "multi_ref",
                                            "bootstrap", "seed"]), st.floats() | _scalars, max_size=4)
_valid_ish = st.fixed_dictionaries({"systems": _systems}, optional={
    "tasks": st.sampled_from([["summary"], ["claims"], ["summary", "claims"]]) | _values,
    "corpus": _corpus, "scoring": _scoring, "description": _scalars})
CONFIGS = st.one_of(_valid_ish, _valid_ish.flatmap(  # and the same with one top-level key replaced by anything
    lambda raw: st.dictionaries(st.sampled_from(["systems", "tasks", "corpus", "scoring", "description", "sytems"]),
                                _values, min_size=1, max_size=1).map(lambda extra: {**raw, **extra})))


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(CONFIGS)
def test_any_run_config_is_accepted_or_refused_with_a_user_error(tmp_path_factory, monkeypatch, raw):
    """Random mappings through the whole config path: YAML, the config checks, adapter options and setup."""
    from harness.config import load_run_config
    from harness.runner import build_systems

    folder = tmp_path_factory.mktemp("config")
    monkeypatch.chdir(folder)
    path = folder / "c.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    try:
        config = load_run_config(path)
        build_systems(config, config.tasks)
        settings_ = config.score_settings()
    except UserError as err:
        assert "\n" not in str(err)
        return
    assert all(math.isfinite(v) for v in (settings_.threshold, settings_.coverage_threshold))
    assert settings_.seed >= 0 and 0 <= settings_.bootstrap <= 100_000


HOSTILE = st.one_of(
    st.binary(max_size=40),
    st.sampled_from([b"\xef\xbb\xbf", b"\r\n", b"\x00", b"\xff", b'"\\ud800"', b"[" * 3000, b"1" * 5000, b"{}",
                     b"null", b"\n\n"]),
    st.fixed_dictionaries({"doc_id": st.sampled_from([DOC0, DOC1, "../../etc/x", "", 3])},
                          optional={"system": st.sampled_from(["s", "..\\x", "/abs", "", None]),
                                    "summary": st.sampled_from(["", "Russia's losses top 1 million.", None, 5,
                                                                "\ud800"]),
                                    "claims": st.sampled_from([[], ["a claim"], [{"text": "t", "span": [0, 5]}],
                                                               [{"text": "t", "span": [5, 0]}], "x", [3]]),
                                    "failure": st.sampled_from(["timeout", 1]), "extra": st.just(1)}).map(
        lambda obj: json.dumps(obj).encode()),
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(HOSTILE, max_size=4))
def test_cli_accepts_or_rejects_any_predictions_file_cleanly(tmp_path_factory, lines):
    """The real command line in a subprocess: exit 0 with a table (3 when every line of a system is a failure
    with no output: its scores measure nothing), or exit 2 with one line; never a traceback."""
    folder = tmp_path_factory.mktemp("cli-fuzz")
    path = folder / "p.jsonl"
    path.write_bytes(b"\n".join(lines))
    done = subprocess.run([sys.executable, "-m", "harness.cli", "score", "--predictions", str(path),
                           "--bootstrap", "0", "--json"], capture_output=True, text=True, cwd=folder, timeout=300)
    assert "Traceback" not in done.stderr, done.stderr
    if done.returncode in (0, 3):
        assert set(json.loads(done.stdout)) >= {"signature", "gold_sha256", "systems"}
        assert (done.returncode == 3) == done.stderr.startswith("no usable output: "), done.stderr
    else:
        assert done.returncode == 2, done.stderr
        lines_out = done.stderr.strip().splitlines()
        assert len(lines_out) == 1 and lines_out[0].startswith(f"harness: error: {path}"), done.stderr
