"""The latest run's HTML report carries the release-history trend chart."""

import base64
import json
import re

from tests.conftest import run_cli


def test_report_embeds_trend_once_history_has_two_runs(tmp_path, corpus):
    preds = tmp_path / "preds.jsonl"
    preds.write_text("".join(json.dumps({"doc_id": d.doc_id, "system": "s", "claims": [c.text for c in d.claims[:10]]}) + "\n"
                             for d in corpus.documents))
    db = tmp_path / "history.sqlite"
    for tag in ("v1", "v2"):
        result = run_cli("score", "--predictions", str(preds), "--out", str(tmp_path / tag), "--db", str(db),
                         "--tag", tag, "--bootstrap", "0")
        assert result.returncode == 0, result.stderr
    first = (tmp_path / "v1" / "report.html").read_text()
    second = (tmp_path / "v2" / "report.html").read_text()
    assert 'id="history"' not in first          # one run: nothing to draw
    match = re.search(r'<section id="history">.*?src="data:image/svg\+xml;base64,([^"]+)"', second, re.S)
    assert match
    svg = base64.b64decode(match.group(1)).decode()
    assert svg.startswith("<svg") and "v1" in svg and "v2" in svg
