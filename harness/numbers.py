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
_WORD_BYTES = frozenset(w.encode("ascii") for w in (*_UNITS, *_TENS, *_SCALES))
_LETTERS_ONLY = bytes(b if 0x61 <= b <= 0x7A else 0x20 for b in range(256))  # bytes.translate: a-z kept
_DIGIT_RUN = re.compile(r"\d+")
_WORD_SEPARATOR = re.compile(r"[-\s]+")
_DIGITS_AS_ZERO = bytes(0x30 if 0x30 <= b <= 0x39 else 0x20 for b in range(256))  # bytes.translate table


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
    for token in _WORD_SEPARATOR.split(words.lower()):
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
    return [Quantity(value, match.group(0).strip(), match.start(), match.end(), _CURRENCY.get(match.group("cur") or ""))
            for value, match in _valued_matches(text)]


def values(text: str) -> list[float]:
    return [value for value, _ in _valued_matches(text)]


def _valued_matches(text: str) -> list[tuple[float, re.Match]]:
    found = []
    for match in _matches(text):
        digits, suffix, scale, words = match.group("digits", "suffix", "scale", "words")
        if digits:
            value = float(digits.replace(",", ""))
            if suffix:
                value *= _SUFFIXES[suffix.lower()]
            elif scale:
                value *= _SCALES[scale.lower()]
        elif words:
            if words.lower() in _SCALES:
                continue  # a bare "million" is not a quantity
            value = _words_value(words)
        else:
            continue
        found.append((value, match))
    return found


def _matches(text: str) -> list[re.Match]:
    """`_PATTERN.finditer(text)`, tried only where a match can start.

    Scanning with the pattern tries its long alternation of number words at every character (most of
    the cost of scoring a summary's numbers). A match's number starts a run of digits or a number word
    that begins a run of letters, with at most a currency sign and a space before it, and every match
    ends at a word boundary (never inside such a run); so trying the pattern, left to right, only at
    those starts and the two characters before them finds exactly the matches a full scan finds.
    """
    folded = _position_preserving_lower(text)
    if folded is None:
        return list(_PATTERN.finditer(text))
    starts = _digit_run_starts(text)
    for word in _number_words_in(folded):
        at = folded.find(word)
        while at >= 0:
            if at == 0 or not _is_word_char(text[at - 1]):  # the pattern's \b before a number word
                starts.add(at)
            at = folded.find(word, at + 1)
    found = []
    position = 0
    for start in sorted(starts):
        if start < position:
            continue
        first = start  # a currency sign and/or a space may come first
        before = text[start - 1] if start else ""
        if before in _CURRENCY or before.isspace():
            first = start - 1
            if start >= 2 and before.isspace() and text[start - 2] in _CURRENCY:
                first = start - 2
        for candidate in range(max(first, position), start + 1):
            match = _PATTERN.match(text, candidate)
            if match:
                found.append(match)
                position = match.end()
                break
    return found


def _number_words_in(folded: str) -> list[str]:
    """The number words among the runs of letters of a lowercased text (one pass, instead of a search per word).
    Letters that IGNORECASE equates with ASCII ones are already ASCII in `folded`; any other character
    separates runs, as it cannot be part of a number word."""
    runs = folded.encode("ascii", "replace").translate(_LETTERS_ONLY).split()
    return [word.decode("ascii") for word in _WORD_BYTES.intersection(runs)]


def _digit_run_starts(text: str) -> set[int]:
    if not text.isascii() and any(c.isdigit() for c in set(text) if not c.isascii()):
        return {m.start() for m in _DIGIT_RUN.finditer(text)}  # \d takes other scripts' digits too
    # every ASCII digit as "0", anything else (one byte per character) a space: then a run starts where " 0"
    # does, found with C-speed searches instead of testing \d at every character
    marked = b" " + text.encode("ascii", "replace").translate(_DIGITS_AS_ZERO)  # the space: a run at 0
    starts = set()
    at = marked.find(b" 0")
    while at >= 0:
        starts.add(at)
        at = marked.find(b" 0", at + 2)
    return starts


def _is_word_char(char: str) -> bool:
    return char.isalnum() or char == "_"


def _position_preserving_lower(text: str) -> str | None:
    """`text` lowercased the way the pattern's IGNORECASE compares letters, one character per character;
    None when no such form exists (U+0130 lowercases to two characters)."""
    if text.isascii():
        return text.lower()
    if "\u0130" in text:
        return None
    # IGNORECASE also takes dotless i and long s for i and s; str.lower() keeps them
    return text.lower().replace("\u0131", "i").replace("\u017f", "s")


def same_value(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)


def contains_value(pool: list[float], value: float) -> bool:
    return any(same_value(value, other) for other in pool)


def faithful_counts(summary: str, source: str) -> tuple[int, int]:
    """(numbers in the summary that the source also states, numbers the summary states)."""
    stated = values(summary)
    return faithful_among(stated, values(source) if stated else [])


def faithful_among(stated: list[float], source_values: list[float]) -> tuple[int, int]:
    """faithful_counts for numbers already found (a source's are found once, whatever scores against it)."""
    return sum(contains_value(source_values, v) for v in stated), len(stated)
