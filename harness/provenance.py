"""What produced a results.json besides its inputs: the environment, the git state and the run manifest.

One builder for every command that writes results (`harness run`, `harness score --out` and `score --json`),
so a results file says the same things about where it came from whichever command made it.
"""

from __future__ import annotations

import platform
import subprocess
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from harness.records import ScoringGold
    from harness.scoring.settings import ScoreSettings

PROJECT_ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("numpy", "scipy", "scikit-learn", "rouge-score", "rouge-score-rs", "pysbd", "pyyaml", "httpx",
            "datasets", "tqdm")
# The manifest keys that differ between two runs of the same inputs (clock times, durations, cache hits).
# Everything else in results.json is byte-identical for the same inputs, seeds and harness version.
VOLATILE_MANIFEST_KEYS = ("started_at", "finished_at", "timings_seconds", "cache")


@dataclass(frozen=True)
class RunFacts:
    """What `harness run` adds to a manifest: its config, its systems and how the run went.

    `systems` is each system's entry as recorded (adapter, version, options with no secret, …)."""

    config: dict  # path, sha256, name
    tasks: list[str]
    systems: dict[str, dict]
    system_seeds: dict[str, object]  # "system:NAME" -> the seed an adapter was given
    started_at: str
    timings: dict[str, float]
    cache: dict | None
    failures: dict


def build_manifest(corpus: ScoringGold, settings: ScoreSettings, *, predictions: Path | None = None,
                   run: RunFacts | None = None, tag: str | None = None) -> dict:
    """The manifest of a results.json: the environment, the gold, the scoring settings and seeds, and either
    the predictions file that was scored or what the run did (`run`). The tag goes in, so that
    `harness history import` restores it."""
    manifest: dict = environment()
    if run is not None:
        manifest.update(config=run.config, tasks=run.tasks)
    if predictions is not None:
        manifest["predictions"] = str(predictions)
    manifest["gold"] = {"source": shown_source(corpus.source), "sha256": corpus.sha256,
                        "n_documents": len(corpus.doc_ids())}
    if run is not None:
        manifest["systems"] = run.systems
    manifest["seeds"] = {"scoring": settings.seed, **(run.system_seeds if run is not None else {})}
    manifest["scoring"] = {"threshold": settings.threshold, "coverage_threshold": settings.coverage_threshold,
                           "use_stemmer": settings.use_stemmer, "multi_ref": settings.multi_ref,
                           "bootstrap": settings.bootstrap}
    if run is not None:
        manifest.update(started_at=run.started_at, finished_at=now(), timings_seconds=run.timings, cache=run.cache,
                        failures=run.failures, volatile_keys=list(VOLATILE_MANIFEST_KEYS))
    if tag:
        manifest["tag"] = tag
    return manifest


def environment() -> dict:
    """What produced a result besides its inputs: harness version and commit, Python, packages."""
    from harness import __version__

    return {"harness_version": __version__, "git": git_state(), "python": platform.python_version(),
            "platform": platform.platform(), "packages": package_versions()}


def git_state() -> dict | None:
    """The project's commit and whether the work tree differs from it (None outside a git checkout)."""
    try:
        head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=PROJECT_ROOT, capture_output=True, text=True,
                              timeout=10, check=False)
        if head.returncode != 0:
            return None
        status = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=PROJECT_ROOT,
                                capture_output=True, text=True, timeout=10, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    return {"commit": head.stdout.strip(), "dirty": bool(status.stdout.strip()) if status.returncode == 0 else None}


def package_versions() -> dict[str, str | None]:
    from importlib import metadata

    out: dict[str, str | None] = {}
    for name in PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def shown_source(source: str) -> str:
    """The gold's path as a manifest records it: "bundled" for the corpus shipped with harness, else relative to
    the working directory when inside it, so a committed results file names no folder of the machine it ran on."""
    from harness.gold import default_gold_path

    path = Path(source).resolve()
    if path == default_gold_path().resolve():
        return "bundled"
    try:
        return path.relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return source
