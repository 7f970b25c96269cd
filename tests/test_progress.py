"""--no-progress on every long command, silencing the datasets library's bars too."""

import json

from tests.conftest import run_cli

DOC = "000_15d33b86afb41c0d"


def test_no_progress_is_accepted_by_every_long_command_and_silences_datasets(tmp_path):
    csv = tmp_path / "news.csv"
    csv.write_text("id,text,summary\nd1,Russia launched 63 drones at Ukraine overnight. Air defences downed 28.,"
                   "Russia launched 63 drones.\n", encoding="utf-8")
    (tmp_path / "run.yaml").write_text(json.dumps({
        "corpus": {"kind": "dataset", "format": "csv", "files": [str(csv)], "columns": {"id": "id"}},
        "systems": [{"name": "lead-1", "adapter": "lead", "options": {"k": 1}}], "scoring": {"bootstrap": 0}}))
    done = run_cli("run", "--config", str(tmp_path / "run.yaml"), "--out", str(tmp_path / "out"), "--no-progress",
                   "--db", str(tmp_path / "h.sqlite"), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "%|" not in done.stderr and "Generating" not in done.stderr  # neither tqdm's nor datasets' bars
    preds = tmp_path / "p.jsonl"
    preds.write_text(json.dumps({"doc_id": DOC, "system": "s", "summary": "Russia launched 63 drones."}) + "\n")
    scored = run_cli("score", "--predictions", str(preds), "--no-progress", "--bootstrap", "0", "--json", cwd=tmp_path)
    assert scored.returncode == 0, scored.stderr
    assert json.loads(scored.stdout)["systems"]["s"]["summary"]["rouge1"]["fmeasure"] > 0
    imported = run_cli("history", "import", str(tmp_path / "out"), "--no-progress", "--db", str(tmp_path / "h2.sqlite"),
                       cwd=tmp_path)
    assert imported.returncode == 0, imported.stderr
    assert run_cli("matcher", "eval", "--help").stdout.count("--no-progress") >= 1
