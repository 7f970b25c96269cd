"""Installed as users install it: the wheel carries the gold corpus, the run configs and the prompt templates,
so `harness gold validate` and `harness run --config default` work from any directory."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from harness.errors import UserError
from harness.resources import bundled, bundled_configs, config_path, resolve_bundled_file

ROOT = Path(__file__).resolve().parent.parent


def test_every_package_of_the_source_tree_ships_in_the_wheel():
    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    on_disk = {".".join(p.parent.relative_to(ROOT).parts) for p in (ROOT / "harness").rglob("__init__.py")}
    assert on_disk <= listed, f"add to [tool.setuptools] packages in pyproject.toml: {sorted(on_disk - listed)}"


def test_bundled_files_resolve_from_any_directory(tmp_path: Path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert (bundled("gold") / "manifest.yaml").is_file()
    assert set(bundled_configs()) == {"default", "local-llm"}
    assert config_path("default") == config_path("configs/default.yaml") == bundled_configs()["default"]
    assert resolve_bundled_file("configs/prompts/claims.txt") == bundled("configs") / "prompts" / "claims.txt"
    (tmp_path / "configs").mkdir()
    (tmp_path / "configs" / "default.yaml").write_text("systems: []\n")
    assert config_path("configs/default.yaml") == Path("configs/default.yaml")  # a file of one's own comes first
    with pytest.raises(UserError, match=r"nope.yaml: file not found \(bundled configs: default, local-llm; "
                                        r"e.g. --config default\)"):
        config_path("nope.yaml")


def test_prompts_hold_no_answer_a_model_could_copy():
    """A small model copies an example answer back verbatim ({"claims": ["first claim", ...]}) on every
    document; the templates describe the form of the answer without giving one."""
    for template in (bundled("configs") / "prompts").glob("*.txt"):
        text = template.read_text(encoding="utf-8")
        assert "[\"" not in text and "{\"" not in text, template.name


def _venv_bin(venv: Path, name: str) -> str:
    return str(venv / ("Scripts" if os.name == "nt" else "bin") / name)


@pytest.mark.slow
def test_the_built_wheel_runs_the_default_configuration_outside_the_checkout(tmp_path: Path):
    """pip wheel, a fresh venv, pip install of the wheel (dependencies from the package index), then the README's
    first commands from a directory that is not the checkout, with nothing of the checkout on the path."""
    source = tmp_path / "source"  # a copy: building writes build/ and egg-info beside the sources
    anywhere = shutil.ignore_patterns(".git", ".venv", "build", "*.egg-info", "__pycache__", ".cache", ".pytest_cache",
                                      ".hypothesis")
    shutil.copytree(ROOT, source, ignore=lambda folder, names: anywhere(folder, names) | (
        {"results"} if Path(folder) == ROOT else set()))  # run outputs; the package's harness/results is code
    dist = tmp_path / "dist"
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", "-w",
                            str(dist), str(source)], capture_output=True, text=True, timeout=600)
    assert built.returncode == 0, built.stderr[-2000:]
    wheel = next(dist.glob("harness-*.whl"))
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    installed = subprocess.run([_venv_bin(venv, "python"), "-m", "pip", "install", "-q", str(wheel)],
                               capture_output=True, text=True, timeout=1800)
    assert installed.returncode == 0, installed.stderr[-2000:]
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    harness = _venv_bin(venv, "harness")

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([harness, *args], capture_output=True, text=True, cwd=elsewhere, env=env, timeout=900)

    where = subprocess.run([_venv_bin(venv, "python"), "-c", "import harness; print(harness.__file__)"],
                           capture_output=True, text=True, cwd=elsewhere, env=env, timeout=60)
    assert Path(where.stdout.strip()).is_relative_to(venv), where.stdout  # the installed copy, not the checkout
    validated = run("gold", "validate")
    assert validated.returncode == 0, validated.stderr
    baseline = json.loads((ROOT / "results" / "baseline" / "results.json").read_text(encoding="utf-8"))
    assert f"gold sha256: {baseline['gold_sha256']}" in validated.stdout
    done = run("run", "--config", "configs/default.yaml", "--no-progress")
    assert done.returncode == 0, done.stderr
    results = json.loads((elsewhere / "results" / "default" / "results.json").read_text(encoding="utf-8"))
    assert results["manifest"]["gold"]["source"] == "bundled"  # the copy inside the installed package
    assert results["gold_sha256"] == baseline["gold_sha256"] and results["signature"] == baseline["signature"]
    assert (elsewhere / "results" / "default" / "report.html").is_file()
    gate = run("compare", str(ROOT / "results" / "baseline" / "results.json"), "results/default",
               "--fail-on-regression")
    assert gate.returncode == 0, gate.stdout + gate.stderr


def test_a_missing_bundle_is_a_clear_error(tmp_path: Path, monkeypatch):
    import harness.resources as resources

    monkeypatch.setattr(resources, "PACKAGE_DIR", tmp_path / "site-packages" / "harness")
    with pytest.raises(UserError, match=r"the bundled gold/ folder is not installed with harness .*; reinstall "
                                        r"harness, or name your own with --gold PATH / corpus.path"):
        resources.bundled("gold")
