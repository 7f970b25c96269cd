import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
GOLD = ROOT / "gold"


def run_cli(*args: str, cwd: Path | None = None, env: dict | None = None, timeout: float = 600):
    """Run the real `harness` command line in a subprocess."""
    return subprocess.run([sys.executable, "-m", "harness.cli", *args], capture_output=True, text=True,
                          cwd=cwd or ROOT, env=env, timeout=timeout)


@pytest.fixture(scope="session")
def corpus():
    from harness import gold

    c, _ = gold.load(GOLD)
    return c


@pytest.fixture
def gold_copy(tmp_path: Path) -> Path:
    """A writable copy of the bundled gold folder."""
    dest = tmp_path / "gold"
    shutil.copytree(GOLD, dest, ignore=shutil.ignore_patterns("second_reading", "agreement", "matching"))
    return dest
