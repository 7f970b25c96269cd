"""The HTML report in a real headless browser: model output that tries to run script shows as text and runs nothing."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.report_helpers import IMG, SCRIPT, export_gold, hostile, perfect, score, write_jsonl

CHROMIUM = next((p for p in map(shutil.which, ("chromium", "chromium-browser", "google-chrome")) if p), None)
pytestmark = [pytest.mark.slow, pytest.mark.skipif(CHROMIUM is None, reason="no chromium binary")]

SCRIPT_DOM = "&lt;script&gt;document.title='PWNED'&lt;/script&gt;"  # how the DOM serialises the text


def dump_dom(page: Path, profile: Path) -> str:
    """Load a file in headless Chromium, let pending handlers run, and return the resulting DOM."""
    argv = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            f"--user-data-dir={profile}", "--virtual-time-budget=3000", "--dump-dom", page.as_uri()]
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "</html>" in proc.stdout, proc.stderr[-2000:]
    return proc.stdout


def title(dom: str) -> str:
    match = re.search(r"<title>(.*?)</title>", dom, re.S)
    return match.group(1) if match else ""


def ran_script(dom: str) -> bool:
    return "PWNED" in title(dom) or re.search(r"<body[^>]*\bdata-pwned=", dom) is not None


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("browser")
    gold_path = root / "gold.jsonl"
    corpus = export_gold(gold_path)
    predictions = write_jsonl(root / "predictions.jsonl", perfect(corpus, "alpha") + hostile(corpus))
    score(predictions, root / "run", gold_path)
    return root / "run" / "report.html"


def test_the_browser_would_run_unescaped_output(tmp_path):
    """Control: the same payloads pasted raw do run here, so the checks below can see an attack."""
    page = tmp_path / "raw.html"
    page.write_text(f"<!DOCTYPE html><html><head><title>raw</title></head><body><p>{SCRIPT} {IMG}</p></body></html>",
                    encoding="utf-8")
    dom = dump_dom(page, tmp_path / "profile")
    assert title(dom) == "PWNED"
    assert re.search(r"<body[^>]*\bdata-pwned=\"1\"", dom)


def _check_report_dom(dom: str) -> None:
    assert not ran_script(dom)
    assert "<script" not in dom.lower()
    assert not re.search(r"<img[^>]*\bsrc=\"x\"", dom)
    assert SCRIPT_DOM in dom  # the model's text is there, visible as text
    assert "evil&lt;b&gt;bold&lt;/b&gt;" in dom and "<b>bold</b>" not in dom
    assert dom.count('src="data:image/svg+xml;base64,') == 3
    assert 'id="leaderboard"' in dom and 'id="documents"' in dom


def test_report_shows_hostile_output_as_text_and_runs_none_of_it(report, tmp_path):
    _check_report_dom(dump_dom(report, tmp_path / "profile"))


def test_escaping_alone_protects_without_the_content_security_policy(report, tmp_path):
    html = report.read_text(encoding="utf-8")
    stripped = re.sub(r'<meta http-equiv="Content-Security-Policy"[^>]*>', "", html)
    assert stripped != html
    page = tmp_path / "report-no-csp.html"
    page.write_text(stripped, encoding="utf-8")
    _check_report_dom(dump_dom(page, tmp_path / "profile"))
