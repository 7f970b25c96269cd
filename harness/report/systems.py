"""How a run's systems are shown in tables, plots and the report: ceilings marked, competitors best first."""

from __future__ import annotations


def reads_gold(results: dict, name: str) -> bool:
    """A system that was given the gold answers (an oracle): a ceiling, never a competitor."""
    return bool(results["systems"][name].get("reads_gold"))


CEILING_MARK = " (ceiling)"


def display_name(results: dict, name: str) -> str:
    """The system's name as tables show it: a system that reads the gold is marked as a ceiling."""
    return name + CEILING_MARK if reads_gold(results, name) else name


def ranked_systems(results: dict) -> list[str]:
    """Competitors best first by claim F1, else ROUGE-L F (ties by name); then the ceilings, ranked alike."""
    systems = results["systems"]

    def key(name: str) -> tuple:
        s = systems[name]
        primary = (s.get("claims") or {}).get("f1")
        if primary is None:
            primary = ((s.get("summary") or {}).get("rougeL") or {}).get("fmeasure")
        return (reads_gold(results, name), -(primary if primary is not None else -1.0), name)

    return sorted(systems, key=key)
