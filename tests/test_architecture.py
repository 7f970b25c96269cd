"""The layers hold: the command line is the one door (argument parsing, exit codes), the report only renders."""

from __future__ import annotations

import ast
import re

from tests.conftest import ROOT

PACKAGE = ROOT / "harness"


def _modules() -> dict[str, ast.Module]:
    return {str(path.relative_to(ROOT)): ast.parse(path.read_text(encoding="utf-8"))
            for path in sorted(PACKAGE.rglob("*.py")) if "_bundled" not in path.parts}


def _imported(tree: ast.Module) -> set[str]:
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_only_the_command_line_parses_arguments_or_decides_an_exit_code():
    offenders = []
    for name, tree in _modules().items():
        if name == "harness/cli.py":
            continue
        if "argparse" in _imported(tree):
            offenders.append(f"{name}: imports argparse")
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in ("exit", "_exit") \
                    and isinstance(node.func.value, ast.Name) and node.func.value.id in ("sys", "os"):
                offenders.append(f"{name}:{node.lineno}: {node.func.value.id}.{node.func.attr}")
            if isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call) \
                    and getattr(node.exc.func, "id", None) == "SystemExit":
                offenders.append(f"{name}:{node.lineno}: raises SystemExit")
            if isinstance(node, ast.FunctionDef) and node.name == "main" and node.col_offset == 0:
                offenders.append(f"{name}:{node.lineno}: defines main")
            if isinstance(node, ast.Compare) and isinstance(node.left, ast.Name) and node.left.id == "__name__":
                offenders.append(f"{name}:{node.lineno}: runs as a script")
    assert offenders == []


def test_the_report_computes_no_score():
    """Every number the report shows is in the results object: the report imports no scoring code."""
    scoring = {"harness.scoring", "harness.aggregate", "harness.scoring.matching", "harness.scoring.scorer",
               "harness.scoring.sensitivity", "harness.scoring.jobs", "harness.scoring.rouge"}
    for name, tree in _modules().items():
        if name.startswith("harness/report/"):
            assert not {m for m in _imported(tree) if m in scoring or m.startswith("harness.scoring")}, name


def test_the_readme_module_table_lists_every_module_and_only_real_ones():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    table = readme.split("## How it fits together", 1)[1].split("\n## ", 1)[0]
    named = set(re.findall(r"`(harness/[\w/]+(?:\.py|/))`", table))
    assert all((ROOT / path).exists() for path in named), sorted(p for p in named if not (ROOT / p).exists())
    modules = {f"harness/{p.name}" for p in PACKAGE.glob("*.py") if p.name != "__init__.py"}
    packages = {f"harness/{p.name}/" for p in PACKAGE.iterdir() if (p / "__init__.py").is_file()}
    assert modules | packages <= named, sorted((modules | packages) - named)
    scoring_row = next(line for line in table.splitlines() if line.startswith("| `harness/scoring/`"))
    scoring = {p.name for p in (PACKAGE / "scoring").glob("*.py") if p.name != "__init__.py"}
    assert sorted(m for m in scoring if f"`{m}`" not in scoring_row) == []
