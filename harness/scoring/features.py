"""What the matcher's vetoes look at in a claim: numbers, negation, dates, who speaks, about whom.

Cheap, deterministic surface features. They are deliberately simple and are measured on the
hand-labelled pairs in gold/matching/ (`harness matcher eval`), not trusted on faith.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from harness import numbers

# Actor groups: the parties a news claim is about. Multi-word names first so they win.
ACTOR_GROUPS: dict[str, tuple[str, ...]] = {
    "russia": ("russia", "russian", "russians", "moscow", "kremlin", "putin"),
    "ukraine": ("ukraine", "ukrainian", "ukrainians", "kyiv", "kiev", "zelenskyy", "zelensky"),
    "uk": ("united kingdom", "u.k.", "uk", "britain", "british"),
    "us": ("united states", "u.s.", "us", "america", "american", "washington", "trump"),
    "germany": ("germany", "german", "berlin", "pistorius", "dpa"),
    "nato": ("nato", "rutte"),
    "csis": ("center for strategic and international studies", "centre for strategic and international studies", "csis"),
    "israel": ("israel", "israeli", "netanyahu"),
    "iran": ("iran", "iranian", "tehran"),
}
_ACTOR_RE = re.compile(
    r"(?<![\w.])(" + "|".join(re.escape(a) for a in sorted(
        (alias for aliases in ACTOR_GROUPS.values() for alias in aliases), key=len, reverse=True)) + r")(?:'s|’s)?(?![\w])",
    re.IGNORECASE,
)
_ALIAS_GROUP = {alias: group for group, aliases in ACTOR_GROUPS.items() for alias in aliases}

_SPEECH = r"said|says|claimed|reported|reports|stated|announced|added|acknowledged|told|confirmed|estimated|predicted|warned|described|called|posted|noted|criticized|criticised|commended|praised"
_LEADING_SPEAKER = re.compile(rf"^(?:on \w+,\s*)?(?P<who>[^,;:]{{2,90}}?)\s+(?:also\s+|previously\s+|had\s+|has\s+)?(?:{_SPEECH})\b", re.IGNORECASE)
_ACCORDING = re.compile(r"\baccording to\s+(?P<who>[^,;.]{2,90})", re.IGNORECASE)
_TRAILING_SPEAKER = re.compile(rf",\s*(?P<who>[^,;]{{2,70}}?)\s+(?:{_SPEECH})\s*[.!]?\s*$", re.IGNORECASE)

_NEGATION = re.compile(
    r"\b(?:not|no|never|neither|nor|none|nothing|without|cannot|denied|denies|refused|unable)\b|n['’]t\b",
    re.IGNORECASE,
)
_TIME_WORDS = re.compile(
    r"\b(monday|tuesday|wednesday|thursday|friday|saturday|sunday|january|february|march|april|may|june|july|"
    r"august|september|october|november|december|jan|feb|aug|sept|oct|nov|dec|yesterday|today|tomorrow|"
    r"last year|this year|next year|last week|this week|next week)\b\.?",
    re.IGNORECASE,
)
_MONTH_ABBREVIATIONS = {"jan": "january", "feb": "february", "aug": "august", "sept": "september",
                        "oct": "october", "nov": "november", "dec": "december"}
_GENERIC_NAME_WORDS = frozenset(
    "the a an and of for in on at ministry defense defence general staff armed forces force military president "
    "minister mayor gov governor regional secretary chief officials official police air authorities spokesman "
    "spokesperson office army navy intelligence center centre agency news human rights ombudsman prime supreme "
    "leader state also earlier previously secretary-general secretary deputy".split()
)


@dataclass(frozen=True)
class ClaimFeatures:
    numbers: frozenset[float]
    negated: bool
    times: frozenset[str]
    speaker_groups: frozenset[str]
    speaker_names: frozenset[str]
    roles: frozenset[tuple[str, str]]
    actor_order: tuple[str, ...]
    words: frozenset[str]


def speaker_phrase(text: str) -> tuple[str, tuple[int, int] | None]:
    """The attributed speaker ("X said ...", "according to X", "..., X said") and where it stands."""
    for pattern in (_LEADING_SPEAKER, _ACCORDING, _TRAILING_SPEAKER):
        match = pattern.search(text)
        if match:
            who = match.group("who")
            if len(who.split()) <= 10 and not re.search(r"\b(that|which|who|when|while|after|because|if|nor)\b", who, re.IGNORECASE):
                return who, match.span("who")
    return "", None


def actor_groups(text: str) -> list[str]:
    """Actor groups in order of first mention."""
    seen: list[str] = []
    for match in _ACTOR_RE.finditer(text):
        group = _ALIAS_GROUP[match.group(1).lower()]
        if group not in seen:
            seen.append(group)
    return seen


_PERSON_ALIASES = frozenset({"putin", "zelenskyy", "zelensky", "trump", "pistorius", "rutte", "netanyahu"})
_ROLE_WORD = re.compile(r"[a-z][a-z'’-]*")


def _content(text: str, speaker_span: tuple[int, int] | None) -> str:
    return text if speaker_span is None else text[:speaker_span[0]] + " " + text[speaker_span[1]:]


def actor_roles(content: str) -> frozenset[tuple[str, str]]:
    """(actor group, the word it modifies): "Russian drones" → (russia, drone), "Ukraine's losses" → (ukraine, loss)."""
    roles = set()
    for match in _ACTOR_RE.finditer(content):
        alias = match.group(1).lower()
        if alias in _PERSON_ALIASES:
            continue
        following = _ROLE_WORD.match(content[match.end():].lstrip().lower())
        if following:
            roles.add((_ALIAS_GROUP[alias], _stem(following.group(0))))
    return frozenset(roles)


def _stem(word: str) -> str:
    word = re.sub(r"['’]s$", "", word)
    for suffix in ("ies", "es", "s"):
        if word.endswith(suffix) and len(word) > len(suffix) + 2:
            return word[: -len(suffix)] + ("y" if suffix == "ies" else "")
    return word


def _actor_order(content: str) -> tuple[str, ...]:
    return tuple(g for g in actor_groups(content) if g in ("russia", "ukraine"))


def _names(phrase: str) -> frozenset[str]:
    words = re.findall(r"\b[A-Z][\w'’-]+", phrase)
    out = set()
    for word in words:
        lower = re.sub(r"['’]s$", "", word.lower())
        if lower not in _GENERIC_NAME_WORDS and (lower not in _ALIAS_GROUP or lower in _PERSON_ALIASES):
            out.add(lower)
    return frozenset(out)


def _times(text: str) -> frozenset[str]:
    found = set()
    for match in _TIME_WORDS.finditer(text):
        word = match.group(1).lower()
        found.add(_MONTH_ABBREVIATIONS.get(word, word))
    return frozenset(found)


def extract(text: str) -> ClaimFeatures:
    who, span = speaker_phrase(text)
    return ClaimFeatures(
        numbers=frozenset(numbers.values(text)),
        negated=bool(_NEGATION.search(text)),
        times=_times(text),
        speaker_groups=frozenset(actor_groups(who)),
        speaker_names=_names(who),
        roles=actor_roles(_content(text, span)),
        actor_order=_actor_order(_content(text, span)),
        words=frozenset(w.lower() for w in re.findall(r"[A-Za-z]+", text)),
    )


def _disjoint(a: frozenset, b: frozenset) -> bool:
    return bool(a) and bool(b) and not (a & b)


def _each_has_its_own(a: frozenset[float], b: frozenset[float]) -> bool:
    """Both state a number the other does not: a changed figure, not a merged or split claim."""
    only_a = [x for x in a if not numbers.contains_value(list(b), x)]
    only_b = [x for x in b if not numbers.contains_value(list(a), x)]
    return bool(only_a) and bool(only_b)


def _negation_differs(a: ClaimFeatures, b: ClaimFeatures) -> bool:
    if a.negated != b.negated:
        return True
    prefixed = ("un", "in", "non")
    return any(p + w in b.words for w in a.words for p in prefixed) or any(
        p + w in a.words for w in b.words for p in prefixed)


def _roles_swapped(a: ClaimFeatures, b: ClaimFeatures) -> bool:
    """The same thing owned by different parties: "Russian drones" in one, "Ukrainian drones" in the other."""
    for group, word in a.roles - b.roles:
        if any(w == word and g != group for g, w in b.roles - a.roles):
            return True
    return len(a.actor_order) == 2 and len(b.actor_order) == 2 and a.actor_order != b.actor_order


def veto(a: ClaimFeatures, b: ClaimFeatures) -> str | None:
    """Why two claims cannot state the same fact, or None. Symmetric in its arguments."""
    if _each_has_its_own(a.numbers, b.numbers):
        return "number"
    if _negation_differs(a, b):
        return "negation"
    if _disjoint(a.times, b.times):
        return "date"
    if _disjoint(a.speaker_groups, b.speaker_groups) or _disjoint(a.speaker_names, b.speaker_names):
        return "speaker"
    if _roles_swapped(a, b):
        return "actor"
    return None


def coverage_veto(claim: ClaimFeatures, sentence: ClaimFeatures) -> str | None:
    """Why a summary sentence does not express a claim: it must state every number the claim states."""
    if claim.numbers and not all(numbers.contains_value(list(sentence.numbers), v) for v in claim.numbers):
        return "number"
    if _negation_differs(claim, sentence):
        return "negation"
    if _roles_swapped(claim, sentence):
        return "actor"
    return None
