"""Find quantities in text and normalise them, so "1 million", "1,000,000", "one million" and "1m" agree.

ROUGE's tokenizer splits "$10.3" into "10 3" and drops "€", so numbers are judged here, never by ROUGE.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

_UNITS = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
    "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14,
    "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19,
}
_TENS = {
    "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70,
    "eighty": 80, "ninety": 90,
}
_SCALES = {"hundred": 100, "thousand": 1_000, "million": 1_000_000, "billion": 1_000_000_000,
           "trillion": 1_000_000_000_000}
_SUFFIXES = {"k": 1_000, "m": 1_000_000, "mn": 1_000_000, "bn": 1_000_000_000, "b": 1_000_000_000}
_CURRENCY = {"$": "USD", "€": "EUR", "£": "GBP"}

_WORD = "|".join(sorted([*_UNITS, *_TENS, *_SCALES], key=len, reverse=True))
_NUMBER_WORDS = rf"(?:{_WORD})(?:[-\s]+(?:and\s+)?(?:{_WORD}))*"
_DIGITS = r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?"
_PATTERN = re.compile(
    rf"(?P<cur>[$€£])?\s?(?:(?P<digits>{_DIGITS})(?:(?P<suffix>bn|mn|[kmb])\b|\s*-?\s*(?P<scale>hundred|thousand|million|billion|trillion)\b|\b(?!\.\d))"
    rf"|\b(?P<words>{_NUMBER_WORDS})\b)",
    re.IGNORECASE,
)


_NUMBER_WORD = re.compile(rf"\b(?:{_WORD})\b", re.IGNORECASE)


def has_number_word(text: str) -> bool:
    """Whether `text` spells a number in words (a cheap test before the full parse)."""
    return bool(_NUMBER_WORD.search(text))


@dataclass(frozen=True)
class Quantity:
    value: float
    text: str
    start: int
    end: int
    currency: str | None = None


def _words_value(words: str) -> float | None:
    total, current = 0, 0
    for token in re.split(r"[-\s]+", words.lower()):
        if token == "and":
            continue
        if token in _UNITS:
            current += _UNITS[token]
        elif token in _TENS:
            current += _TENS[token]
        elif token == "hundred":
            current = max(current, 1) * 100
        elif token in _SCALES:
            total += max(current, 1) * _SCALES[token]
            current = 0
    return float(total + current)


def find_quantities(text: str) -> list[Quantity]:
    """Every quantity in `text`, left to right, with its normalised value."""
    found = []
    for match in _PATTERN.finditer(text):
        if match.group("digits"):
            value = float(match.group("digits").replace(",", ""))
            if match.group("suffix"):
                value *= _SUFFIXES[match.group("suffix").lower()]
            elif match.group("scale"):
                value *= _SCALES[match.group("scale").lower()]
        elif match.group("words"):
            if match.group("words").lower() in _SCALES:
                continue  # a bare "million" is not a quantity
            value = _words_value(match.group("words"))
        else:
            continue
        currency = _CURRENCY.get(match.group("cur") or "")
        found.append(Quantity(value, match.group(0).strip(), match.start(), match.end(), currency))
    return found


def values(text: str) -> list[float]:
    return [q.value for q in find_quantities(text)]


def same_value(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)


def contains_value(pool: list[float], value: float) -> bool:
    return any(same_value(value, other) for other in pool)


def faithful_counts(summary: str, source: str) -> tuple[int, int]:
    """(numbers in the summary that the source also states, numbers the summary states)."""
    source_values = values(source)
    stated = values(summary)
    return sum(contains_value(source_values, v) for v in stated), len(stated)
