"""The gold corpus and its validator, exporter and loader."""

import hashlib
import json
import re
from pathlib import Path

import pytest

from harness import gold
from tests.conftest import GOLD, run_cli


def _yaml_claim_ids(path: Path) -> list[str]:
    return re.findall(r"^- id: (c\d+)$", path.read_text(), flags=re.M)


def test_bundled_corpus_is_valid_and_complete(corpus):
    _, origins = gold.load(GOLD)
    assert gold.validate(corpus, origins) == []
    assert [d.doc_id for d in corpus.documents] == sorted(p.stem for p in (GOLD / "articles").glob("*.txt"))
    for doc in corpus.documents:
        # counted from the YAML text itself, not through the loader
        assert [c.id for c in doc.claims] == _yaml_claim_ids(GOLD / "annotations" / f"{doc.doc_id}.yaml")
        assert {s.length for s in doc.summaries} == {"headline", "short", "long"}
    full = corpus.by_id()["000_15d33b86afb41c0d"]
    assert len(full.claims) > 50


def test_articles_are_the_seeds_byte_for_byte():
    seeds = GOLD.parent.parent / "shared" / "seeds"
    if not seeds.exists():
        pytest.skip("shared/seeds not beside this checkout")
    for seed in seeds.glob("*.txt"):
        assert (GOLD / "articles" / seed.name).read_bytes() == seed.read_bytes()


def test_manifest_hashes_match_articles():
    manifest = (GOLD / "manifest.yaml").read_text()
    for article in (GOLD / "articles").glob("*.txt"):
        assert hashlib.sha256(article.read_bytes()).hexdigest() in manifest


def test_every_evidence_quote_is_the_text_it_points_to(corpus):
    for doc in corpus.documents:
        for claim in doc.claims:
            assert claim.spans, claim.id
            for (start, end), quote in zip(claim.spans, claim.evidence):
                assert doc.text[start:end] == quote


def test_excluded_content_is_not_story(corpus):
    doc = corpus.by_id()["002_6b974652a62947d2"]
    story = doc.story_text()
    assert "pic.twitter.com" not in story          # the embedded post
    assert "Israel attacks Iran" not in story      # related articles
    assert "Russia launched 63 drones" in story


def test_validate_cli_prints_hash(corpus):
    result = run_cli("gold", "validate")
    assert result.returncode == 0, result.stderr
    assert f"gold sha256: {corpus.sha256}" in result.stdout


def _edit(path: Path, old: str, new: str, count: int = 1) -> None:
    text = path.read_text()
    assert old in text, old
    path.write_text(text.replace(old, new, count))


def _problems(folder: Path) -> list[str]:
    corpus, origins = gold.load(folder)
    return [str(p) for p in gold.validate(corpus, origins)]


def test_bad_offset_is_reported(gold_copy):
    ann = gold_copy / "annotations" / "003_448a3b4a6da84435.yaml"
    _edit(ann, "spans: [[", "spans: [[1", 1)   # shifts the first claim's start
    problems = _problems(gold_copy)
    assert any("003_448a3b4a6da84435 claim c001" in p and "evidence" in p for p in problems), problems
    result = run_cli("gold", "validate", "--gold", str(gold_copy))
    assert result.returncode == 2
    assert "003_448a3b4a6da84435.yaml:" in result.stderr and "Traceback" not in result.stderr


def test_duplicate_id_is_reported(gold_copy):
    ann = gold_copy / "annotations" / "001_52e54b49f32cf5ad.yaml"
    _edit(ann, "- id: c002\n", "- id: c001\n")
    problems = _problems(gold_copy)
    assert any("claim c001: id: duplicate claim id" in p for p in problems), problems


def test_number_absent_from_span_is_reported(gold_copy):
    ann = gold_copy / "annotations" / "000_15d33b86afb41c0d.yaml"
    text = ann.read_text()
    _edit(ann, "{text: '45,100'", "{text: '41,500'")
    problems = _problems(gold_copy)
    assert any("numbers: number '41,500' does not occur" in p for p in problems), problems


def test_span_in_excluded_region_is_reported(gold_copy, corpus):
    doc = corpus.by_id()["002_6b974652a62947d2"]
    caption = next(r for r in doc.regions if r.label == "caption")
    ann = gold_copy / "annotations" / "002_6b974652a62947d2.yaml"
    first = doc.claims[0]
    old = f"spans: [[{first.spans[0][0]}, {first.spans[0][1]}]"
    quote = doc.text[caption.start:caption.start + 20]
    text = ann.read_text().replace(old, f"spans: [[{caption.start}, {caption.start + 20}]", 1)
    ann.write_text(text)
    problems = _problems(gold_copy)
    assert any("c001" in p and "not inside a headline/body region" in p for p in problems), problems
    assert quote  # the span itself is inside the text


def test_changed_article_breaks_manifest_hash(gold_copy):
    article = gold_copy / "articles" / "004_dab4977225331039.txt"
    article.write_bytes(article.read_bytes() + b" ")
    assert any("sha256" in p for p in _problems(gold_copy))


def test_malformed_yaml_names_file_and_line(gold_copy):
    ann = gold_copy / "annotations" / "000_15d33b86afb41c0d.yaml"
    lines = ann.read_text().split("\n")
    lines[5] = "  - {start: [unclosed"
    ann.write_text("\n".join(lines))
    result = run_cli("gold", "validate", "--gold", str(gold_copy))
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1
    assert "000_15d33b86afb41c0d.yaml:" in result.stderr and "malformed YAML" in result.stderr


def test_unknown_field_in_claim_is_named(gold_copy):
    ann = gold_copy / "annotations" / "000_15d33b86afb41c0d.yaml"
    _edit(ann, "  salience: core\n", "  salence: core\n")
    result = run_cli("gold", "validate", "--gold", str(gold_copy))
    assert result.returncode == 2
    assert "salence" in result.stderr and "unknown field" in result.stderr


def test_jsonl_export_round_trip(tmp_path, corpus):
    out = tmp_path / "gold.jsonl"
    assert run_cli("gold", "export", "--format", "jsonl", str(out)).returncode == 0
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert [line["doc_id"] for line in lines] == [d.doc_id for d in corpus.documents]
    assert set(lines[0]) >= {"doc_id", "outlet", "text", "regions", "claims", "summaries"}
    assert set(lines[0]["claims"][0]) >= {"id", "text", "spans", "numbers", "speaker", "salience", "key", "optional"}
    back, origins = gold.load(out)
    assert back.sha256 == corpus.sha256
    assert back.documents == tuple(
        d.__class__(**{**d.__dict__, "claims": tuple(c.__class__(**{**c.__dict__, "evidence": ()}) for c in d.claims)})
        for d in corpus.documents)
    assert gold.validate(back, origins) == []
    result = run_cli("gold", "validate", "--gold", str(out))
    assert result.returncode == 0 and corpus.sha256 in result.stdout


def test_hf_export_round_trip(tmp_path, corpus):
    import datasets

    out = tmp_path / "hf"
    assert run_cli("gold", "export", "--format", "hf", str(out)).returncode == 0
    loaded = datasets.load_from_disk(str(out))
    assert isinstance(loaded, datasets.DatasetDict)
    rows = loaded["test"]
    assert rows.num_rows == len(corpus.documents)
    for row, doc in zip(rows, corpus.documents):
        assert row["doc_id"] == doc.doc_id and row["text"] == doc.text
        assert [c["id"] for c in row["claims"]] == [c.id for c in doc.claims]
        assert [tuple(s) for s in row["claims"][0]["spans"]] == list(doc.claims[0].spans)
        assert [s["text"] for s in row["summaries"]] == [s.text for s in doc.summaries]


def test_user_corpus_without_claims_or_summaries_loads(tmp_path):
    path = tmp_path / "mine.jsonl"
    path.write_text(json.dumps({"doc_id": "a", "text": "Cats sleep. Dogs bark.",
                                "summaries": [{"id": "s", "length": "free", "text": "Cats sleep."}]}) + "\n"
                    + json.dumps({"doc_id": "b", "text": "Rain fell.", "claims": [
                        {"id": "c1", "text": "Rain fell.", "spans": [[0, 10]]}]}) + "\n")
    corpus, origins = gold.load(path)
    assert gold.validate(corpus, origins) == []
    assert corpus.by_id()["a"].claims == () and corpus.by_id()["b"].summaries == ()
