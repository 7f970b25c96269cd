"""Secrets never reach a written file or a message: canary keys are set in the environment, put in `base_url`
and handed to a `command` model that prints its environment in several encodings; every file the run, the
report and the history wrote is then searched, decoding base64, hex and URL-encoding independently of the
redactor. Also: a key typed where a variable name belongs, and HTML or links in Markdown tables."""

from __future__ import annotations

import base64
import binascii
import json
import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import unquote

import pytest

from harness import gold
from harness.cli import main
from tests.tools import fault_server as fs

ROOT = Path(__file__).resolve().parent.parent
DOC_IDS = [d.doc_id for d in gold.load()[0].documents]
NAMED_KEY = "sk-canary-named-7f3a9c1e5b2d4f6a8c0e11"  # CANARY_API_KEY: named by the config (env:, api_key_env)
URL_KEY = "urlcanary-5e8d2b7a9c4f1e3d6b0a"  # the password in base_url
OTHER_KEY = "tok-canary-other-2b4d6f8a0c1e3a5c7e"  # ANOTHER_SERVICE_TOKEN: named nowhere, a secret by its name
CANARIES = (NAMED_KEY, URL_KEY, OTHER_KEY)
ESSENTIALS = {"PATH", "HOME", "USER", "LOGNAME", "LANG", "LANGUAGE", "TZ", "TMPDIR", "TEMP", "TMP", "SYSTEMROOT",
              "SYSTEMDRIVE", "WINDIR", "COMSPEC", "PATHEXT"}

LEAKY_MODEL = """
import base64, json, os, sys, urllib.parse
request = json.loads(sys.stdin.read())
env = dict(os.environ)
blob = json.dumps(env, sort_keys=True)
key = env.get("CANARY_API_KEY", "")
forms = [blob, base64.b64encode(blob.encode()).decode(), base64.b64encode(("x" + blob).encode()).decode(),
         base64.urlsafe_b64encode(("xy" + blob).encode()).decode(), blob.encode().hex(), urllib.parse.quote(blob),
         key.upper(), key[:14] + "...", "names: " + ",".join(sorted(env))]
doc = request["doc_id"]
if doc == sys.argv[1]:  # a crash whose last line of stderr is the environment, encoded
    print("loading...", file=sys.stderr)
    print(base64.b64encode(blob.encode()).decode(), file=sys.stderr)
    sys.exit(1)
if doc == sys.argv[2]:  # an answer that is not JSON: kept as raw output
    print("not json: " + " ".join(forms))
    sys.exit(0)
if request["task"] == "summary":
    print(json.dumps({"summary": " | ".join(forms)}))
else:
    print(json.dumps({"claims": forms}))
"""


def leaks(data: bytes, secret: str) -> list[str]:
    """Where `secret` (or its first 12 characters) can be read in `data`: as text in any case, URL-decoded,
    or inside any run of hex or base64 (standard or URL-safe, at any alignment)."""
    found = []
    wanted = [secret.lower(), secret[:12].lower()]
    text = data.decode("utf-8", "replace")
    for name, view in (("text", text), ("url-decoded", unquote(text))):
        if any(w in view.lower() for w in wanted):
            found.append(name)
    for run in re.findall(r"[0-9a-fA-F]{16,}", text):
        for start in (0, 1):
            piece = run[start:len(run) - (len(run) - start) % 2]
            if any(w.encode() in bytes.fromhex(piece).lower() for w in wanted):
                found.append("hex")
    for run in re.findall(r"[A-Za-z0-9+/_-]{16,}", text):
        for start in range(4):
            piece = run[start:]
            piece = piece[:len(piece) // 4 * 4]
            try:
                decoded = base64.b64decode(piece.replace("-", "+").replace("_", "/"))
            except (binascii.Error, ValueError):
                continue
            if any(w.encode() in decoded.lower() for w in wanted):
                found.append("base64")
    return found


def test_canary_keys_reach_no_file_and_no_message(tmp_path: Path):
    (tmp_path / "leaky.py").write_text(LEAKY_MODEL, encoding="utf-8")

    def echoing(request: dict, n: int) -> fs.Fault:
        doc = fs.doc_of(request)
        bearer = server.headers[-1].get("Authorization", "")
        if doc == DOC_IDS[0]:
            return fs.status(401, f"bad credentials {bearer} for harness:{URL_KEY}")
        if doc == DOC_IDS[1]:
            return fs.status(400, f"quota of {OTHER_KEY.upper()} exceeded")
        if doc == DOC_IDS[2]:
            return fs.raw(200, f"not a completion; {base64.b64encode(bearer.encode()).decode()}")
        return fs.ok(f"summary; key {bearer[7:19]}, url {URL_KEY}, other {OTHER_KEY}")

    server = fs.FaultServer(echoing)
    try:
        prompt = tmp_path / "prompt.txt"
        prompt.write_text("DOC=$doc_id\n$text\n", encoding="utf-8")
        url = server.url.replace("http://", f"http://harness:{URL_KEY}@")
        config = {"scoring": {"bootstrap": 0}, "systems": [
            {"name": "leaky", "adapter": "command",
             "options": {"argv": [sys.executable, "leaky.py", DOC_IDS[4], DOC_IDS[3]], "env": ["CANARY_API_KEY"]}},
            *({"name": name, "adapter": "openai-compatible",
               "options": {"base_url": base, "model": "m", "retries": 0, "summary_prompt": str(prompt),
                           "claims_prompt": str(prompt), "json_mode": "prompt", **extra}}
              for name, base, extra in (("remote", url, {}),
                                        ("keyed", server.url, {"api_key_env": "CANARY_API_KEY"})))]}
        (tmp_path / "c.yaml").write_text(json.dumps(config), encoding="utf-8")
        env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "LANG": "C.UTF-8", "CANARY_API_KEY": NAMED_KEY,
               "ANOTHER_SERVICE_TOKEN": OTHER_KEY, "UNRELATED_SETTING": "visible-value"}
        done = subprocess.run([sys.executable, "-m", "harness.cli", "run", "--config", "c.yaml", "--tag", "v1"],
                              capture_output=True, text=True, cwd=tmp_path, env={**env, "PYTHONPATH": str(ROOT)},
                              timeout=300)  # progress bars on: they are output too
        again = subprocess.run([sys.executable, "-m", "harness.cli", "run", "--config", "c.yaml", "--no-progress"],
                               capture_output=True, text=True, cwd=tmp_path, env={**env, "PYTHONPATH": str(ROOT)},
                               timeout=300)  # from the cache
    finally:
        server.close()
    assert done.returncode == 0 and again.returncode == 0, done.stderr + again.stderr
    sent = {h["Authorization"] for h in server.headers}  # the keys were used: basic auth from the URL, and bearer
    assert sent == {f"Bearer {NAMED_KEY}", "Basic " + base64.b64encode(f"harness:{URL_KEY}".encode()).decode()}
    out = tmp_path / "results" / "c"
    rows = {(r["system"], r["doc_id"]): r for r in map(json.loads, (out / "predictions.jsonl").open())}
    names = next(c for c in rows[("leaky", DOC_IDS[0])]["claims"] if c.startswith("names: "))
    assert set(names[len("names: "):].split(",")) <= ESSENTIALS | {"CANARY_API_KEY"}  # a minimal environment
    assert "CANARY_API_KEY" in names and "UNRELATED_SETTING" not in names and "ANOTHER_SERVICE_TOKEN" not in names
    assert rows[("leaky", DOC_IDS[4])]["failure"].startswith("summary: command exited with status 1: ")
    assert "[secret removed]" in rows[("leaky", DOC_IDS[3])]["meta"]["raw_output"]["summary"]
    assert rows[("keyed", DOC_IDS[0])]["failure"] == ("summary: HTTP 401: bad credentials Bearer [secret removed] "
                                                      "for harness:[secret removed]; claims: HTTP 401: bad "
                                                      "credentials Bearer [secret removed] for harness:[secret removed]")
    assert rows[("remote", DOC_IDS[0])]["failure"].startswith("summary: HTTP 401: bad credentials Basic ")
    assert rows[("remote", DOC_IDS[0])]["failure"].count("[secret removed]") == 4
    manifest = json.loads((out / "results.json").read_text(encoding="utf-8"))["manifest"]
    assert manifest["systems"]["remote"]["options"]["base_url"] == server.url  # without user and password
    written = [p for p in tmp_path.rglob("*") if p.is_file() and p.name not in ("c.yaml", "leaky.py", "prompt.txt")]
    assert {"results.json", "predictions.jsonl", "report.html", "per_doc.md", "decisions.jsonl",
            "history.sqlite"} <= {p.name for p in written}
    assert len([p for p in written if p.is_relative_to(tmp_path / ".cache" / "harness")]) == 8 + 2 * 6  # answers, kept or malformed; not the crashes and HTTP errors
    for path in written:
        for secret in CANARIES:
            assert not leaks(path.read_bytes(), secret), (path, secret, leaks(path.read_bytes(), secret))
    for stream in (done.stdout, done.stderr, again.stdout, again.stderr):
        for secret in CANARIES:
            assert not leaks(stream.encode(), secret), (secret, stream)


def test_the_search_finds_what_it_is_meant_to_find():
    """The leak search itself, on planted copies (so that a clean result above means something)."""
    blob = json.dumps({"CANARY_API_KEY": NAMED_KEY}).encode()
    planted = [NAMED_KEY.upper().encode(), NAMED_KEY[:13].encode(), base64.b64encode(b"x" + blob),
               base64.urlsafe_b64encode(b"xy" + blob), blob.hex().encode(), b"%73%6B-canary-named-7f3a"]
    for data in planted:
        assert leaks(b"before " + data + b" after", NAMED_KEY), data
    assert not leaks(b"nothing here but sk-canary", NAMED_KEY)


def test_a_key_typed_where_the_variable_name_belongs_is_not_echoed(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    for adapter, options in (("openai-compatible", {"base_url": "http://127.0.0.1:9/v1", "model": "m",
                                                    "api_key_env": NAMED_KEY}),
                             ("command", {"argv": [sys.executable], "env": ["PATH", NAMED_KEY]})):
        (tmp_path / "c.yaml").write_text(json.dumps({"systems": [{"name": "s", "adapter": adapter,
                                                                  "options": options}]}))
        assert main(["run", "--config", "c.yaml"]) == 2
        err = capsys.readouterr().err
        assert "looks like a key itself" in err or "looks like a value, perhaps the secret itself" in err, err
        assert not leaks(err.encode(), NAMED_KEY) and len(err.strip().splitlines()) == 1


def test_credentials_in_a_bad_base_url_are_not_echoed(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "c.yaml").write_text(json.dumps({"systems": [{"name": "s", "adapter": "openai-compatible", "options": {
        "base_url": f"ftp://harness:{URL_KEY}@example.org/v1", "model": "m"}}]}))
    assert main(["run", "--config", "c.yaml"]) == 2
    err = capsys.readouterr().err
    assert "base_url must start with http:// or https://, got 'ftp://example.org/v1'" in err and URL_KEY not in err


@pytest.mark.parametrize("text", ["<img src=x onerror=alert(1)>", "[click me](https://evil.example/x)",
                                  "![pixel](https://evil.example/p.png)", "<a href='https://evil.example'>x</a>"],
                         ids=["img tag", "link", "image", "anchor tag"])
def test_markdown_tables_show_html_and_links_as_text(tmp_path, monkeypatch, capsys, text):
    """per_doc.md and leaderboard.md go into GitHub step summaries: model failure text and system names must not
    become images or links there."""
    monkeypatch.chdir(tmp_path)
    rows = [{"doc_id": DOC_IDS[0], "system": f"sys {text}", "summary": "", "failure": f"summary: {text}"},
            {"doc_id": DOC_IDS[1], "system": f"sys {text}", "summary": "Russia's losses top 1 million."}]
    (tmp_path / "p.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    assert main(["score", "--predictions", "p.jsonl", "--bootstrap", "0", "--out", "out", "--db", "h.sqlite"]) == 0
    for name in ("per_doc.md", "leaderboard.md", "sensitivity.md"):
        markdown = (tmp_path / "out" / name).read_text(encoding="utf-8")
        body = markdown.replace("<sub>", "").replace("</sub>", "")  # the footer's own tag
        assert "<" not in body and "](" not in body, (name, markdown)
    assert "sys &lt;img" in (tmp_path / "out" / "per_doc.md").read_text() or "<img" not in text
