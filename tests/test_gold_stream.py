"""The gold `harness score` streams against (harness.gold_stream): the same documents, hash, errors and results as
the whole corpus (harness.gold.load_valid), from a file in any order."""

import hashlib
import io
import json
import random
from pathlib import Path

import pytest

from harness import gold
from harness.errors import UserError
from harness.evaluate import evaluate
from harness.gold_stream import StreamedGold, load_for_scoring
from harness.predictions import read_predictions
from harness.scoring.settings import ScoreSettings
from tests.conftest import run_cli

# Non-ASCII on purpose: typographic quotes and accents (two bytes a character as a str), an astral emoji (one
# character, four UTF-8 bytes), numbers in words and figures for numeric faithfulness.
SENTENCES = [
    "The council approved a “€4.5 million” budget for Zürich’s tram line on Tuesday.",
    "Officials said 3 bridges would close for 12 weeks — from June to August.",
    "Protesters 🚋 gathered outside the hall, chanting « non au tram ».",
    "The mayor, Ana Núñez, called it “the biggest change in 40 years.”",
    "Critics warned the plan could cost twice as much, or about €9 million.",
    "Work starts on 1 July 2025 and is due to end in late 2027.",
    "Residents of Örlikon were told to expect noise at night.",
    "About 1,200 people signed a petition against the closures.",
]
CAPTION = "Photo: a tram in Zürich (© Stadt Zürich)."


def summary_only_record(i: int, rng: random.Random) -> dict:
    """A document without claims: four to eight sentences, one or two references, sometimes a caption region
    outside the story (so its story differs from its text)."""
    body = " ".join(rng.sample(SENTENCES, rng.randint(4, 8)))
    record = {"doc_id": f"doc-{i:04d}", "text": body, "outlet": "Téléjournal", "headline": "", "date": "2025-06-13",
              "summaries": [{"id": f"ref{j}", "length": "reference", "text": " ".join(rng.sample(SENTENCES, 2))}
                            for j in range(rng.randint(1, 2))]}
    if i % 3 == 0:
        record["text"] = f"{body}\n{CAPTION}"
        record["regions"] = [{"start": 0, "end": len(body), "label": "body"},
                             {"start": len(body) + 1, "end": len(body) + 1 + len(CAPTION), "label": "caption"}]
    return record


def write_jsonl(path: Path, records: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    return path


def predictions_for(records: list[dict], rng: random.Random) -> list[dict]:
    """Two systems: one summarising every document, one (with claims) skipping every fifth."""
    rows = []
    for k, record in enumerate(records):
        summary = " ".join(rng.sample(SENTENCES, 3)).replace("12", str(rng.randint(1, 20)))
        rows.append({"doc_id": record["doc_id"], "system": "alpha", "summary": summary})
        if k % 5:
            claims = [c["text"] for c in record.get("claims", [])[:4]] or [rng.choice(SENTENCES)]
            rows.append({"doc_id": record["doc_id"], "system": "beta", "summary": rng.choice(SENTENCES),
                         "claims": claims})
    return rows


def results_json(corpus, predictions_path: Path) -> str:
    evaluation = evaluate(corpus, read_predictions(predictions_path, corpus), ScoreSettings(bootstrap=50))
    out = io.StringIO()
    evaluation.write_json(out, {"gold": {"sha256": corpus.sha256, "n_documents": len(corpus.doc_ids())}})
    return evaluation.signature + "\n" + out.getvalue()


@pytest.fixture(scope="module")
def summary_only_records() -> list[dict]:
    rng = random.Random(7)
    return [summary_only_record(i, rng) for i in range(300)]


def test_a_claim_free_gold_in_any_order_scores_as_the_whole_corpus_does(tmp_path, summary_only_records):
    shuffled = list(summary_only_records)
    random.Random(3).shuffle(shuffled)
    sorted_path = write_jsonl(tmp_path / "sorted.jsonl", summary_only_records)
    unsorted_path = write_jsonl(tmp_path / "unsorted.jsonl", shuffled)
    predictions = write_jsonl(tmp_path / "predictions.jsonl", predictions_for(shuffled, random.Random(5)))

    whole = gold.load_valid(unsorted_path)
    streamed = load_for_scoring(unsorted_path)
    assert isinstance(streamed, StreamedGold) and not streamed.claimed and len(streamed.summary_only) == 300
    # the hash, computed here from the records themselves: canonical JSON lines in doc_id order
    expected = hashlib.sha256(b"".join(
        json.dumps(gold.document_record(whole.by_id()[r["doc_id"]]), sort_keys=True, separators=(",", ":"),
                   ensure_ascii=False).encode("utf-8") + b"\n"
        for r in summary_only_records)).hexdigest()
    assert streamed.sha256 == load_for_scoring(sorted_path).sha256 == whole.sha256 == expected
    assert streamed.source == whole.source and list(streamed.doc_ids()) == [r["doc_id"] for r in summary_only_records]
    for doc in whole.documents:
        assert streamed.story(doc.doc_id) == doc.story_text()
        assert streamed.references(doc.doc_id) == tuple(s.text for s in doc.summaries)
        assert streamed.text_length(doc.doc_id) == len(doc.text)
    assert results_json(streamed, predictions) == results_json(whole, predictions)


def test_claims_and_summaries_score_the_same_with_claim_free_documents_held_compactly(tmp_path, corpus,
                                                                                      summary_only_records):
    """The bundled documents (claims, regions, three references each) among claim-free ones: claim matching,
    coverage and the matcher's IDF (fitted on every story, the compact ones included) as with the whole corpus."""
    records = [gold.document_record(d) for d in corpus.documents] + summary_only_records[:60]
    random.Random(11).shuffle(records)
    path = write_jsonl(tmp_path / "mixed.jsonl", records)
    predictions = write_jsonl(tmp_path / "predictions.jsonl", predictions_for(records, random.Random(13)))
    streamed = load_for_scoring(path)
    assert sorted(streamed.claimed) == sorted(d.doc_id for d in corpus.documents)
    assert results_json(streamed, predictions) == results_json(gold.load_valid(path), predictions)


def test_the_command_line_prints_the_same_results_with_and_without_holding_the_gold_whole(tmp_path,
                                                                                        summary_only_records):
    path = write_jsonl(tmp_path / "gold.jsonl", summary_only_records[:40][::-1])
    predictions = write_jsonl(tmp_path / "predictions.jsonl", predictions_for(summary_only_records[:40],
                                                                               random.Random(17)))
    streamed = run_cli("score", "--gold", str(path), "--predictions", str(predictions), "--json", "--jobs", "1")
    whole = run_cli("score", "--gold", str(path), "--predictions", str(predictions), "--json", "--jobs", "1",
                    "--out", str(tmp_path / "out"), "--db", str(tmp_path / "history.sqlite"))
    assert streamed.returncode == whole.returncode == 0, streamed.stderr + whole.stderr
    assert json.loads(streamed.stdout) == json.loads((tmp_path / "out" / "results.json").read_text(encoding="utf-8"))


def _bad_lines(records: list[dict]) -> dict[str, list[str]]:
    lines = [json.dumps(r, ensure_ascii=False) for r in records]
    short = {**records[0], "summaries": [{"id": "s", "length": "short", "text": "Far too short."}]}
    outside = {**records[4], "regions": [{"start": 0, "end": 10_000, "label": "body"}]}
    return {
        "not JSON": lines[:3] + ['{"doc_id": "doc-x", "text": '] + lines[3:],
        "no text": lines[:2] + ['{"doc_id": "doc-x"}'] + lines[2:],
        "unknown field": lines[:2] + [json.dumps({**records[2], "title": "x"})] + lines[3:],
        "duplicate id": lines + [lines[1]],
        "a list": lines[:1] + ["[1, 2]"] + lines[1:],
        # two problems: the first in doc_id order is reported (doc-0000 on the last line), with the count
        "problems": lines[1:4] + [json.dumps(outside, ensure_ascii=False)] + lines[5:] +
                    [json.dumps(short, ensure_ascii=False)],
        "empty": ["", "   "],
    }


@pytest.mark.parametrize("case", ["not JSON", "no text", "unknown field", "duplicate id", "a list", "problems",
                                  "empty"])
def test_a_bad_gold_gives_the_same_one_line_error(tmp_path, summary_only_records, case):
    path = tmp_path / "gold.jsonl"
    path.write_text("\n".join(_bad_lines(summary_only_records[:8])[case]) + "\n", encoding="utf-8")
    with pytest.raises(UserError) as whole:
        gold.load_valid(path)
    with pytest.raises(UserError) as streamed:
        load_for_scoring(path)
    assert str(streamed.value) == str(whole.value)
    assert (streamed.value.line, streamed.value.field) == (whole.value.line, whole.value.field)


def test_the_problems_are_reported_from_the_first_document_by_id(tmp_path, summary_only_records):
    path = tmp_path / "gold.jsonl"
    path.write_text("\n".join(_bad_lines(summary_only_records[:8])["problems"]) + "\n", encoding="utf-8")
    with pytest.raises(UserError) as err:
        load_for_scoring(path)
    assert str(err.value) == (f"{path}:8: doc-0000 summary s: text: 3 words; a short summary has 50-80 "
                               f"(and 1 more problem(s)); `harness gold validate --gold {path}` lists them")


def test_a_claim_span_is_checked_against_the_whole_text_of_a_compact_document(tmp_path, summary_only_records):
    record = summary_only_records[0]  # a caption outside its story: the text is longer than the story
    path = write_jsonl(tmp_path / "gold.jsonl", [record])
    streamed = load_for_scoring(path)
    length = len(record["text"])
    assert length > len(streamed.story(record["doc_id"]))
    inside, outside = (write_jsonl(tmp_path / f"{name}.jsonl", [
        {"doc_id": record["doc_id"], "system": "s", "claims": [{"text": "x", "span": [0, end]}]}])
        for name, end in (("inside", length), ("outside", length + 1)))
    assert read_predictions(inside, streamed)[0].claims[0].span == (0, length)
    with pytest.raises(UserError) as err:
        read_predictions(outside, streamed)
    assert str(err.value) == (f"{outside}:1: claims[0].span: span [0, {length + 1}] is outside the document "
                              f"({length} characters)")


def test_a_gold_folder_is_loaded_whole(corpus):
    from tests.conftest import GOLD

    assert load_for_scoring(GOLD).sha256 == corpus.sha256


def test_packed_texts_read_back_across_blocks():
    from harness.gold_stream import BLOCK_BYTES, PackedTexts

    rng = random.Random(19)
    texts = ["", *(" ".join(rng.choices(SENTENCES, k=rng.randint(0, 12))) for _ in range(8_000))]
    packed = PackedTexts()
    numbers = [packed.add(t) for t in texts]
    assert numbers == list(range(len(texts)))
    assert sum(len(t.encode("utf-8")) for t in texts) > 3 * BLOCK_BYTES  # several sealed blocks and an open one
    assert [packed[n] for n in numbers] == texts
