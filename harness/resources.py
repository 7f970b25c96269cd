"""Where the bundled gold corpus, run configs and prompt templates are, installed or in a checkout.

A wheel carries them as package data (`harness/_bundled/gold`, `harness/_bundled/configs`, mapped from
the repository's top-level `gold/` and `configs/` by pyproject.toml); a checkout or an editable install
reads them from the top of the repository.
"""

from __future__ import annotations

from pathlib import Path

from harness.errors import UserError

PACKAGE_DIR = Path(__file__).resolve().parent
BUNDLED = ("gold", "configs")


def bundled(name: str) -> Path:
    """The bundled `gold` or `configs` folder: inside the installed package, else at the top of the checkout."""
    for root in (PACKAGE_DIR / "_bundled", PACKAGE_DIR.parent):
        if (root / name).is_dir():
            return root / name
    raise UserError(f"the bundled {name}/ folder is not installed with harness (looked in {PACKAGE_DIR / '_bundled'} "
                    f"and {PACKAGE_DIR.parent}); reinstall harness, or name your own with "
                    + ("--gold PATH / corpus.path" if name == "gold" else "--config PATH"))


def bundled_configs() -> dict[str, Path]:
    """Every bundled run config by name (`default`, `local-llm`)."""
    return {p.stem: p for p in sorted(bundled("configs").glob("*.yaml"))}


def config_path(value: str | Path) -> Path:
    """A run config given as a path, or as the name of a bundled one (`harness run --config default`)."""
    path = Path(value)
    if path.exists():
        return path
    configs = bundled_configs()
    name = path.name[:-len(".yaml")] if path.name.endswith(".yaml") else path.name
    if name in configs and (path.parent == Path(".") or path.parent.name == "configs"):
        return configs[name]
    raise UserError(f"file not found (bundled configs: {', '.join(configs)}; e.g. --config default)", path)


def resolve_bundled_file(value: str | Path) -> Path:
    """A file path as given; or, when it does not exist and is relative, the same path under the bundle root
    (so `configs/prompts/claims.txt` in a bundled config works from any directory)."""
    path = Path(value)
    if path.is_absolute() or path.exists():
        return path
    root = bundled("configs").parent
    return root / path if (root / path).exists() else path
