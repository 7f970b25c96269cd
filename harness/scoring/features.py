"""What the claim matcher reads in a sentence: its clauses, who is quoted, and what each clause asserts.

A text is parsed once into `TextFeatures`: the whole text, its sentences and its clauses, each a
`Window` with its attribution taken apart from its content (the speaker of "On June 3, X said ...",
"According to A, B said ...", "..., X said", "(X said)", "... was reported by X"), the content's
concepts (stemmed words, synonyms folded, numbers as values), its quantities, times, places,
polarity and who-does-what roles. The rules in `harness.scoring.rules` compare a candidate's
window with a gold claim's; `Featurizer` caches the parse per distinct text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property

from harness import numbers
from harness.scoring import lexicon as L

# --------------------------------------------------------------------------- attribution

_VERB = "|".join(sorted(L.SPEECH_VERBS, key=len, reverse=True)) + "|(?:" + "|".join(L.BELIEF_VERBS) + r")(?=\s+that\b)"
_AUX = r"(?:(?:also|previously|had|has|have|later|earlier|again|separately|reportedly|then)\s+)*"
_PREFIX = r"(?:(?:on|in|at|during|earlier|early|late|later|last|this|also|meanwhile|separately)\b[^,;:]{0,45},\s*)?"
_AFTER_VERB = r"(?:\s+(?:in|on|during|at|to|from|after|before|via)\s[^,;:]{0,60}?(?=\s+that\b))?(?:\s+that\b|\s*:|\s*,)?"
_WHO = r"[^,;:()]{2,90}?"
_LEADING = re.compile(rf"^\s*{_PREFIX}(?P<who>{_WHO}(?:,\s[^,;:()]{{2,70}},)?)\s+{_AUX}(?:{_VERB})\b{_AFTER_VERB}\s*",
                      re.IGNORECASE)
_ACCORDING_LEAD = re.compile(r"^\s*(?:according\s+to|per)\s+(?P<who>[^,;:()]{2,90}?)\s*,\s*", re.IGNORECASE)
_ACCORDING_TAIL = re.compile(r",?\s*(?:according\s+to|as\s+reported\s+by|per)\s+(?P<who>[^,;:()]{2,90}?)\s*[.!]?\s*$",
                             re.IGNORECASE)
_TRAILING = re.compile(rf",\s*(?P<who>{_WHO})\s+{_AUX}(?:{_VERB})\b(?:\s+(?:on|in)\s[^,;]{{0,40}})?\s*[.!]?\s*$",
                       re.IGNORECASE)
_INSERTED = re.compile(rf",\s*(?:(?P<who1>{_WHO})\s+{_AUX}(?:{_VERB})|(?:{_VERB})\s+(?P<who2>{_WHO}))\s*,\s*",
                       re.IGNORECASE)
_COLON_LEAD = re.compile(r"^\s*(?P<who>[^,;:()\"“'‘]{2,40}?)\s*:\s+(?=\S)")
_TRAILING_INVERTED = re.compile(rf",\s*(?:{_VERB})\s+(?P<who>{_WHO})\s*[.!]?\s*$", re.IGNORECASE)
_PARENTHETICAL = re.compile(rf"\s*\((?:(?:according\s+to|per)\s+(?P<who1>[^()]{{2,90}})|(?P<who2>[^()]{{2,90}}?)\s+"
                            rf"(?:{_VERB}))\)", re.IGNORECASE)
_PASSIVE = re.compile(r",?\s*(?:\bit\s+)?(?:as\s+)?(?:(?:was|were|is|are|has\s+been|had\s+been|have\s+been)\s+)?"
                      r"(?:reported|announced|stated|claimed|confirmed|said|posted)\s+by\s+(?P<who>[^,;:()]{2,90}?)"
                      r"(?:(?=\s*[,.;!]|\s*$)|\s+that\b)", re.IGNORECASE)
_NOT_A_SPEAKER = re.compile(r"\b(?:that|which|who|whom|when|while|after|because|if|nor|not|no|never|was|were|is|are|been|despite|"
                            r"although|though|whether|killed|launched|injured|destroyed|and\s+then)\b|\d", re.IGNORECASE)
_GENERIC_NAME_WORDS = frozenset(
    "the a an and of for in on at to ministry defense defence general staff armed forces force military president "
    "minister mayor gov gov. governor regional secretary chief officials official police air authorities spokesman "
    "spokesperson office army navy intelligence center centre agency news human rights ombudsman prime supreme "
    "leader state also earlier previously secretary-general deputy statement statements posted post his her their "
    "its ukrainian russian british german american western the government foreign interior emergency service "
    "services according said says city region regional it he she they there this".split()
)


@dataclass(frozen=True)
class Speaker:
    """Who a window is attributed to: parties, roles and names, each possibly empty (nothing known)."""

    phrase: str
    groups: frozenset[str] = frozenset()
    roles: frozenset[str] = frozenset()
    names: frozenset[str] = frozenset()

    @property
    def known(self) -> bool:
        return bool(self.groups or self.roles or self.names)


NO_SPEAKER = Speaker("")


def _plausible_speaker(who: str) -> bool:
    """A speaker phrase names someone: a party, a role, a capitalised name, or a speaker noun ("officials")."""
    words = who.split()
    if not 0 < len(words) <= 12 or _NOT_A_SPEAKER.search(who):
        return False
    lower = {w.strip(".,'’").lower().removesuffix("'s").removesuffix("’s") for w in words}
    return speaker_of([who]).known or bool(lower & L.SPEAKER_NOUNS)


_POSSESSIVE_OBJECT = re.compile(r"^(?:its|their|his|her|our)\b", re.IGNORECASE)
_FINITE_VERB = re.compile(r"\b(?:is|are|was|were|has|have|had|will|would|could|can|may|might|did|does|do|"
                          r"[a-z]{3,}ed)\b", re.IGNORECASE)


def _object_of_report(rest: str) -> bool:
    """ "Russia last reported its military casualties early in the war": what follows the verb is its object (a
    possessive noun phrase with no verb of its own), not a reported clause, so nobody is being quoted."""
    return bool(_POSSESSIVE_OBJECT.match(rest)) and not _FINITE_VERB.search(rest)


def strip_attribution(text: str) -> tuple[str, list[str]]:
    """The content of `text` without its attributions, and the speaker phrases found (outermost first)."""
    speakers: list[str] = []
    content = text
    for _ in range(3):  # "According to A, B said ...": peel the layers
        changed = False
        for pattern in (_ACCORDING_LEAD, _LEADING, _COLON_LEAD):
            match = pattern.match(content)
            if match and _plausible_speaker(match.group("who")) and not _object_of_report(content[match.end():]):
                speakers.append(match.group("who"))
                content = content[match.end():]
                changed = True
                break
        if not changed:
            break
    for pattern, gap in ((_PARENTHETICAL, " "), (_PASSIVE, " "), (_INSERTED, ", ")):
        for match in list(pattern.finditer(content)):
            who = next(g for g in match.groups() if g)
            if _plausible_speaker(who):
                speakers.append(who)
                content = content.replace(match.group(0), gap, 1)
    for pattern in (_ACCORDING_TAIL, _TRAILING, _TRAILING_INVERTED):
        match = pattern.search(content)
        if match and _plausible_speaker(match.group("who")) and len(content[:match.start()].split()) >= 3:
            speakers.append(match.group("who"))
            content = content[:match.start()]
            break
    return content.strip(" ,;:"), speakers


def speaker_of(phrases: list[str]) -> Speaker:
    """Who the attribution phrases name: parties, roles (a local authority by its place) and people, each kept
    apart so a role can agree with its party ("the General Staff" with "Ukraine") and a name can differ."""
    if not phrases:
        return NO_SPEAKER
    groups, roles, names = set(), set(), set()
    for phrase in phrases:
        lower = " " + phrase.lower() + " "
        if phrase.strip().lower() in L.PRONOUN_SPEAKERS:
            continue
        groups |= {L.ALIAS_GROUP[m.group(1)] for m in _ALIAS_RE.finditer(lower)}
        roles |= {role for role, forms in L.SPEAKER_ROLES.items()
                  if any(re.search(rf"(?<![\w]){re.escape(f)}(?![\w])", lower) for f in forms)}
        for place in places_of(phrase, anywhere=True):  # "the authorities in Kharkiv": a local source
            groups.add(L.PLACES[place])
            roles.add(f"local:{place}")
        for word in re.findall(r"\b[A-Z][\w'’.-]+", phrase):
            name = re.sub(r"['’]s$", "", word.lower()).rstrip(".")
            if name not in _GENERIC_NAME_WORDS and name not in L.PLACES and (
                    name not in L.ALIAS_GROUP and name + "." not in L.ALIAS_GROUP or name in L.PERSONS):
                names.add(name)
    return Speaker("; ".join(phrases), frozenset(groups), frozenset(roles), frozenset(names))


def speakers_conflict(a: Speaker, b: Speaker) -> bool:
    """Two known speakers that cannot be the same source (parties, named people or specific roles differ)."""
    if not (a.known and b.known):
        return False
    if a.groups and b.groups and not a.groups & b.groups:
        return True
    local_a = {r for r in a.roles if r.startswith("local:")}
    local_b = {r for r in b.roles if r.startswith("local:")}
    if local_a and local_b and not local_a & local_b:  # "authorities in Kyiv" / "authorities in Kharkiv"
        return True
    roles_a, roles_b = a.roles - local_a, b.roles - local_b
    if a.names and b.names and not a.names & b.names:
        people_a, people_b = a.names & L.PERSONS, b.names & L.PERSONS
        return bool(people_a and people_b) or not (roles_a & roles_b)
    return bool(roles_a and roles_b and not roles_a & roles_b and not a.names & b.names)


# --------------------------------------------------------------------------- parties and roles

_ALIAS_RE = re.compile(
    r"(?<![\w.])(" + "|".join(re.escape(a) for a in sorted(L.ALIAS_GROUP, key=len, reverse=True)) + r")(?:'s|’s)?(?![\w])",
    re.IGNORECASE)
_PLACE_RE = re.compile(
    r"(?<![\w.])(" + "|".join(re.escape(p) for p in sorted(L.PLACES, key=len, reverse=True)) + r")(?:'s|’s)?(?![\w])",
    re.IGNORECASE)
_HEAD_SKIP = frozenset("and or the a an of to in on at by for with from its their his her".split())
_PASSIVE_BY = re.compile(r"\b(?:was|were|been|being|is|are)\s+(?:\w+\s+)?\w+(?:ed|en|wn|ck|ht)\b[^,;.]{0,40}?\bby\s+"
                         r"(?P<np>[^,;.]{1,60})", re.IGNORECASE)
_TARGET = re.compile(r"\b(?:at|against|on|into|toward|towards)\s+(?P<np>(?:the\s+)?[\w'’.-]+(?:\s+[\w'’.-]+)?)",
                     re.IGNORECASE)
# A party is the agent when its words head the subject: "Russian forces launched", "Pistorius commended",
# "Russia's Defense Ministry said". "The Ukrainian General Staff's claim came ..." has a claim as its head.
_AGENT_HEADS = frozenset("forces troops military army soldiers drones missiles defenses defences navy government "
                         "officials authorities police units artillery jets aircraft warplanes ministry staff minister "
                         "president mayor governor secretary-general chief leader negotiators delegation".split())
_VERBISH = re.compile(r"^(?:has|have|had|is|are|was|were|will|would|could|can|may|might|did|does|also|then|again|"
                      r"[a-z]+ed|[a-z]+(?<!s)es|says|launches|fires|attacks|strikes|hits|sends)$")
_NP_BREAK = frozenset("in of for from at on with by during after before near over".split())


def _agent(clause: str) -> list[str]:
    words = clause.split()
    subject: list[str] = []
    for word in words[:12]:
        bare = word.strip(",.;:“”\"'’").lower()
        if _VERBISH.match(bare) and subject:
            break
        subject.append(word)
    else:
        return []
    head_words = []
    for word in subject:
        if word.lower() in _NP_BREAK:
            break
        head_words.append(word)
    if not head_words:
        return []
    head = head_words[-1].strip(",.;:“”\"'").lower().removesuffix("'s").removesuffix("’s")
    if head not in _AGENT_HEADS and head not in L.ALIAS_GROUP and head not in L.PERSONS:
        return []
    return _groups_in(" ".join(subject))


_LEAD_ADVERBIAL = re.compile(r"^\s*(?:(?:on|in|at|during|overnight|early|late|earlier|later|meanwhile|also|then|"
                             r"separately|thursday|monday|tuesday|wednesday|friday|saturday|sunday)\b[^,]{0,40},\s*)+",
                             re.IGNORECASE)


def _groups_in(text: str) -> list[str]:
    seen: list[str] = []
    for match in _ALIAS_RE.finditer(text):
        group = L.ALIAS_GROUP[match.group(1).lower()]
        if group not in seen:
            seen.append(group)
    return seen


def _owned_nouns(after: str) -> tuple[str, ...]:
    """What a party word owns: the noun after it ("Russian drones"; both words of "Ukrainian military losses"),
    not a verb ("Russia has lost"), and the report in "Ukraine's casualty claim" (the casualties are not
    Ukraine's)."""
    words = re.match(r"\s*([a-z][a-z'’-]*)(?:\s+([a-z][a-z'’-]*))?", after)
    if not words or words.group(1) in _HEAD_SKIP or words.group(1) in L.AUXILIARIES:
        return ()
    first, second = words.groups()
    if second in L.REPORT_NOUNS:
        return (second,)
    if first in L.NOUN_MODIFIERS and second and second not in _HEAD_SKIP and second not in L.AUXILIARIES \
            and not second.endswith("ed"):
        return first, second
    return (first,)


def _aims_at(before: str, phrase: str, stem) -> bool:
    """ "Strikes on Ukraine" names a target; "pressure on Russia" and "talks on Ukraine" do not: "on" and "into"
    name a target only after an act of attack ("at", "against" and "toward" always do)."""
    if not re.match(r"(?:on|into)\b", phrase, re.IGNORECASE):
        return True
    previous = re.findall(r"[a-z][a-z'’-]*", before.lower())
    return bool(previous) and stem(previous[-1]) in L.ATTACK_CONCEPTS


def roles_of(content: str, stem) -> frozenset[tuple[str, ...]]:
    """Who does what to whom: ("own", party, noun) for "Russian drones", ("agent", party), ("target", party)."""
    roles: set[tuple[str, ...]] = set()
    for match in _ALIAS_RE.finditer(content):
        alias = match.group(1).lower()
        if alias in L.PERSONS:
            continue
        for owned in _owned_nouns(content[match.end():].lower()):
            roles.add(("own", L.ALIAS_GROUP[alias], stem(owned)))
    clause = _LEAD_ADVERBIAL.sub("", content)
    passive = _PASSIVE_BY.search(clause)
    if passive:
        for group in _groups_in(passive.group("np"))[:1]:
            roles.add(("agent", group))
    else:
        for group in _agent(clause)[:1]:
            roles.add(("agent", group))
    for match in _TARGET.finditer(clause):
        if not _aims_at(clause[:match.start()], match.group(0), stem):
            continue
        for group in _groups_in(match.group("np"))[:1]:
            roles.add(("target", group))
    return frozenset(roles)


def roles_conflict(a: frozenset[tuple[str, ...]], b: frozenset[tuple[str, ...]],
                   speakers_a: frozenset[str] = frozenset(), speakers_b: frozenset[str] = frozenset()) -> bool:
    """The same thing owned by, or the same act done by or to, different parties. One side's agent that is the
    other side's speaker ("The UK counted ..." / "The UK said ...") is a voice, not a party to the act."""
    for kind in ("agent", "target"):
        ga = {r[1] for r in a if r[0] == kind} - (speakers_b if kind == "agent" else set())
        gb = {r[1] for r in b if r[0] == kind} - (speakers_a if kind == "agent" else set())
        if ga and gb and not ga & gb:
            return True
    owned_a = {(r[2], r[1]) for r in a if r[0] == "own"}
    owned_b = {(r[2], r[1]) for r in b if r[0] == "own"}
    for noun, group in owned_a - owned_b:
        if any(n == noun and g != group for n, g in owned_b - owned_a):
            return True
    return False


_LOCATIVE = re.compile(r"(?:\b(?:in|at|near|over|to|into|outside|across|around|inside|toward|towards)\s+(?:the\s+)?"
                       r"(?:(?:eastern|western|northern|southern|northeastern|southeastern|northwestern|southwestern|"
                       r"central|occupied|annexed|partly|frontline|border|city\s+of|region\s+of)\s+)*$)",
                       re.IGNORECASE)


def _canonical_place(name: str) -> str:
    return name.lower().replace("kiev", "kyiv").replace("odessa", "odesa")


def places_of(text: str, anywhere: bool = False) -> frozenset[str]:
    """Places a text locates something in: after a locative preposition ("in Kharkiv", "over the Belgorod
    region") or before "region"; a capital as a subject ("Moscow has paid") stands for a government instead.
    `anywhere`: every place name (a speaker phrase such as "Kharkiv Mayor Ihor Terekhov")."""
    out = set()
    for m in _PLACE_RE.finditer(text):
        opens = not text[:m.start()].strip(" \"“'") and _canonical_place(m.group(1)) not in L.CAPITALS
        if anywhere or opens or _LOCATIVE.search(text[max(0, m.start() - 60):m.start()]) or re.match(
                r"(?:'s|’s)?\s+(?:region|oblast|province|area|city|governor|regional)\b", text[m.end():], re.IGNORECASE):
            out.add(_canonical_place(m.group(1)))
    return frozenset(out)


def places_conflict(candidate: frozenset[str], gold: frozenset[str]) -> bool:
    """Both name a place below country level and none is shared ("in Kharkiv" is not "in Kyiv")."""
    return bool(candidate and gold and not candidate & gold)


# --------------------------------------------------------------------------- times

_MONTHS = {m: i for i, m in enumerate(("january", "february", "march", "april", "may", "june", "july", "august",
                                         "september", "october", "november", "december"), start=1)}
_MONTHS.update({"jan": 1, "feb": 2, "mar": 3, "apr": 4, "jun": 6, "jul": 7, "aug": 8, "sep": 9, "sept": 9, "oct": 10,
                "nov": 11, "dec": 12})
_MONTH = r"(?:january|february|march|april|may|june|july|august|september|october|november|december|jan|feb|mar|apr|" \
         r"jun|jul|aug|sept|sep|oct|nov|dec)"
_DATE = re.compile(
    rf"\b(?:(?P<m1>{_MONTH})\.?\s+(?P<d1>\d{{1,2}})(?:st|nd|rd|th)?\b(?:,?\s+(?P<y1>(?:19|20)\d\d)\b)?"
    rf"|(?P<d2>\d{{1,2}})(?:st|nd|rd|th)?\s+(?P<m2>{_MONTH})\b\.?(?:,?\s+(?P<y2>(?:19|20)\d\d)\b)?"
    rf"|(?P<m3>{_MONTH})\.?,?\s+(?P<y3>(?:19|20)\d\d)\b"
    rf"|(?P<y4>(?:19|20)\d\d)\b)", re.IGNORECASE)
_MONTH_ALONE = re.compile(r"\b(January|February|March|April|June|July|August|September|October|November|December)\b")
_WEEKDAY = re.compile(r"\b(monday|tuesday|wednesday|thursday|friday|saturday|sunday)\b", re.IGNORECASE)
_PERIODS = {
    r"\bthis summer\b": ("year", 0, "summer"), r"\bthis spring\b": ("year", 0, "spring"),
    r"\bthis (?:fall|autumn)\b": ("year", 0, "autumn"), r"\bthis winter\b": ("year", 0, "winter"),
    r"\b(?:earlier |later )?this year\b": ("year", 0, None), r"\bnext year\b": ("year", 1, None),
    r"\blast year\b": ("year", -1, None), r"\bnext summer\b": ("year", 1, "summer"),
    r"\blast summer\b": ("year", -1, "summer"), r"\bthis month\b": ("month", 0, None),
    r"\bnext month\b": ("month", 1, None), r"\blast month\b": ("month", -1, None),
    r"\bthis week\b": ("week", 0, None), r"\bnext week\b": ("week", 1, None), r"\blast week\b": ("week", -1, None),
    r"\b(?:by\s+)?the end of (?:the|this) year\b|\bby year-end\b": ("year", 0, "end"),
    r"\btoday\b": ("day", 0, None), r"\byesterday\b": ("day", -1, None), r"\btomorrow\b": ("day", 1, None),
}
_PERIOD_RES = [(re.compile(p, re.IGNORECASE), v) for p, v in _PERIODS.items()]
_DURATION = re.compile(r"\b(?:past|last|previous|next|coming)\s+(?P<n>\d+|\w+)\s+(?P<unit>hour|day|week|month|year)s?\b",
                       re.IGNORECASE)


@dataclass(frozen=True)
class Times:
    dates: frozenset[tuple[int | None, int, int | None]] = frozenset()  # (year, month, day)
    weekdays: frozenset[str] = frozenset()
    periods: frozenset[tuple[str, int, str | None]] = frozenset()
    durations: frozenset[tuple[str, str]] = frozenset()  # ("24", "hour") from "the past 24 hours"
    spans: tuple[tuple[int, int], ...] = ()  # where, so their digits are not read as quantities


def times_of(text: str) -> Times:
    """Dates (a bare "May" is the verb), weekdays, periods and durations, with where they sit: the time rule
    compares them, and their digits must not be read again as quantities."""
    dates, spans = set(), []
    for match in _DATE.finditer(text):
        g = match.groupdict()
        month = g["m1"] or g["m2"] or g["m3"]
        if month is None:
            year = int(g["y4"])
            dates.add((year, 0, None))
        else:
            day = g["d1"] or g["d2"]
            year = g["y1"] or g["y2"] or g["y3"]
            if month.lower() == "may" and day is None and year is None:
                continue
            dates.add((int(year) if year else None, _MONTHS[month.lower().rstrip(".")], int(day) if day else None))
        spans.append(match.span())
    for match in _MONTH_ALONE.finditer(text):
        if not any(a <= match.start() < b for a, b in spans):
            dates.add((None, _MONTHS[match.group(1).lower()], None))
    durations = set()
    for match in _DURATION.finditer(text):
        spans.append(match.span())
        durations.add((match.group("n").lower(), match.group("unit").lower()))
    periods = {v for pattern, v in _PERIOD_RES if pattern.search(text)}
    weekdays = {m.group(1).lower() for m in _WEEKDAY.finditer(text)}
    return Times(frozenset(dates), frozenset(weekdays), frozenset(periods), frozenset(durations), tuple(spans))


def _dates_conflict(a: frozenset, b: frozenset) -> bool:
    if not a or not b:
        return False
    for ya, ma, da in a:
        for yb, mb, db in b:
            if (ya is None or yb is None or ya == yb) and (not ma or not mb or ma == mb) and (
                    da is None or db is None or da == db):
                return False
    return True


def times_conflict(a: Times, b: Times) -> bool:
    """Both place the fact in time and the places disagree (a weekday, a date, "this summer" vs "next year")."""
    if a.weekdays and b.weekdays and not a.weekdays & b.weekdays:
        return True
    if _dates_conflict(a.dates, b.dates):
        return True
    for unit in {u for _, u in a.durations} & {u for _, u in b.durations}:
        if not {n for n, u in a.durations if u == unit} & {n for n, u in b.durations if u == unit}:
            return True
    for kind in ("year", "month", "week", "day"):
        pa = {p for p in a.periods if p[0] == kind}
        pb = {p for p in b.periods if p[0] == kind}
        if pa and pb and not any(x[1] == y[1] and (x[2] is None or y[2] is None or x[2] == y[2])
                                 for x in pa for y in pb):
            return True
    return False


# --------------------------------------------------------------------------- quantities

_FRACTIONS = ((re.compile(r"\b(?:a\s+)?quarter\s+of\s+a\s+(million|billion)\b", re.IGNORECASE), r"0.25 \1"),
              (re.compile(r"\bhalf\s+(?:of\s+)?a\s+(million|billion)\b", re.IGNORECASE), r"0.5 \1"),
              (re.compile(r"\bthree\s+quarters\s+of\s+a\s+(million|billion)\b", re.IGNORECASE), r"0.75 \1"))
_A_SCALE = re.compile(r"\b(?:a|an)\s+(?=(?:hundred|thousand|million|billion)\b)", re.IGNORECASE)
_EXCEED_HEDGE = re.compile(r"\b(?:more than|over|above|in excess of|upwards of|exceeding)\s+(?=[$€£]?\d|(?:one|two|"
                           r"three|four|five|six|seven|eight|nine|ten|a|an)\b)", re.IGNORECASE)


# "The two sides" is the pair a story is about (both), not a count it reports.
_BOTH = re.compile(r"\bthe\s+two\s+(?=(?:sides|countries|nations|parties|leaders|governments|presidents|"
                   r"delegations|neighbou?rs|armies|militaries)\b)", re.IGNORECASE)


def quantities_of(text: str) -> tuple[float, ...]:
    """The quantities a text states (not dates, years or "the past 24 hours": those are times)."""
    if not any(c.isdigit() for c in text) and not numbers.has_number_word(text):
        return ()
    for pattern, replacement in _FRACTIONS:
        text = pattern.sub(replacement, text)
    text = re.sub(r"\b(?:no|any|some|every)\s*one\b|\bone another\b", "somebody", text, flags=re.IGNORECASE)
    text = _BOTH.sub("both ", text)
    text = _A_SCALE.sub("one ", text) if " a " in text or " an " in text or text[:2].lower() == "a " else text
    spans = times_of(text).spans
    out = []
    for q in numbers.find_quantities(text):
        if any(a < q.end <= b for a, b in spans):  # a match may start on the space before the digits
            continue
        out.append(q.value)
    return tuple(out)


_YEARS = re.compile(r"\b(?P<n>[\w.,]+)[-\s]years?\b|\baged\s+(?P<m>[\w.,]+)", re.IGNORECASE)


def years_of(text: str) -> tuple[float, ...]:
    """The numbers a text counts years with: an age ("a 2-year-old boy", "aged 59") or a span ("the 3-year-old
    war", "a conflict that has lasted three years"), not people or things."""
    return tuple(v for m in _YEARS.finditer(text) for v in numbers.values(m.group("n") or m.group("m")))


def _quantity_units(text: str, quantities: tuple[float, ...]) -> list[str]:
    """A concept per quantity; one that counts years (an age, "a 3-year-old war") is a unit of its own, so
    that it is not taken for a count of people or things ("killing three people")."""
    years = list(years_of(text)) if quantities else []
    out = []
    for value in quantities:
        counted_in_years = next((y for y in years if same_quantity(y, value)), None)
        if counted_in_years is not None:
            years.remove(counted_in_years)
        out.append(f"#{value:g}" + ("y" if counted_in_years is not None else ""))
    return out


def same_quantity(a: float, b: float) -> bool:
    return numbers.same_value(a, b)


# --------------------------------------------------------------------------- polarity

_NEGATION = re.compile(r"\b(?:" + "|".join(L.NEGATION_CUES) + r")\b|" + "|".join(re.escape(p) for p in L.NEGATION_PHRASES),
                       re.IGNORECASE)


def negated(text: str) -> bool:
    return bool(_NEGATION.search(text))


# --------------------------------------------------------------------------- windows

_CLAUSE_BREAK = re.compile(r"\s*;\s*|,\s+(?=(?:but|while|whereas|although|though|and|yet)\b)|\s+(?=(?:but|whereas|"
                           r"although|though)\s)|\s+while\s+", re.IGNORECASE)
_SENTENCE_BREAK = re.compile(r"(?<=[.!?])[\"”’']?\s+(?=[\"“‘']?[A-Z])")
_ABBREVIATION_END = re.compile(r"\b(?:[A-Z]\.|Gov|Gen|Sen|Rep|Dr|Mr|Mrs|Ms|St|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|"
                               r"Oct|Nov|Dec|No|vs|U\.S|U\.K|Lt|Col|Sgt|Maj)\.$")


def sentences_of(text: str) -> list[str]:
    """A cheap sentence split that keeps "U.K.", "Gov." and "Feb. 24" inside their sentence."""
    out, start = [], 0
    for match in _SENTENCE_BREAK.finditer(text):
        piece = text[start:match.start()]
        if _ABBREVIATION_END.search(piece.rstrip("\"”’'")):
            continue
        out.append(piece)
        start = match.end()
    out.append(text[start:])
    return [s.strip() for s in out if s.strip()]


_LEADING_CONJUNCTION = re.compile(r"^\s*(?:but|while|whereas|although|though|and|yet)\s+", re.IGNORECASE)
_CONTINUATION = re.compile(r"^\s*(?:including|with|adding|saying|describing|noting|[a-z]+ed\b|[a-z]+s\b)", re.IGNORECASE)


def clauses_of(sentence: str) -> list[str]:
    parts = [_LEADING_CONJUNCTION.sub("", p) for p in _CLAUSE_BREAK.split(sentence) if p and len(p.split()) >= 3]
    return parts if len(parts) > 1 else []


def continues_subject(clause: str) -> bool:
    """A clause with no subject of its own ("..., and described the price") speaks with its sentence's voice."""
    return bool(_CONTINUATION.match(clause)) and not clause.lstrip()[:1].isupper()


@dataclass(frozen=True)
class Window:
    """A stretch of text (whole, one sentence or one clause) with its attribution taken apart."""

    text: str
    content: str
    speaker: Speaker
    units: frozenset[str]  # concepts of the content (and of the whole window: `all_units`)
    all_units: frozenset[str]
    quantities: tuple[float, ...]
    times: Times
    places: frozenset[str]
    negated: bool
    roles: frozenset[tuple[str, ...]]
    words: frozenset[str]
    negated_units: tuple[frozenset[str], ...] = ()  # the concepts of each comma-separated piece holding a negation


@dataclass(frozen=True)
class TextFeatures:
    text: str
    windows: tuple[Window, ...]  # windows[0] is the whole text
    sentences: int = 1

    @property
    def whole(self) -> Window:
        return self.windows[0]

    @property
    def finest(self) -> tuple[Window, ...]:
        """The windows a claim is looked for in: clauses where a sentence has them, else the sentence.
        A fact is stated in one clause; the whole of "A killed three; B said 18 were injured" states neither
        "three were killed by B" nor "three were injured"."""
        if len(self.windows) == 1:
            return self.windows
        return self.windows if self.sentences > 1 else self.windows[1:]  # a quote of several sentences is one claim


# --------------------------------------------------------------------------- concepts


def _synonym_table(stem) -> dict[str, str]:
    table: dict[str, str] = {}
    for group in L.SYNONYMS:
        head = group[0]
        for word in group:
            table.setdefault(word, head)
            table.setdefault(stem(word), head)
    return table


class Featurizer:
    """Parses texts into TextFeatures, once per distinct text (a cache the scorer owns, not a global)."""

    def __init__(self, max_cached: int = 200_000):
        self._cache: dict[str, TextFeatures] = {}
        self._windows: dict[tuple[str, Speaker], Window] = {}
        self._stems: dict[str, str] = {}
        self._max_cached = max_cached

    def __getstate__(self) -> dict:
        """Sent to a worker process without its caches (and the stemmer, a closure): it rebuilds them."""
        return {"_cache": {}, "_windows": {}, "_stems": {}, "_max_cached": self._max_cached}

    @cached_property
    def _stop_words(self) -> frozenset[str]:
        from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

        return frozenset(ENGLISH_STOP_WORDS) | {"s", "said", "says", "according"}

    @cached_property
    def _stemmer(self):
        from rouge_score_rs import _rougers

        return lambda word: (_rougers.tokenize(word, True) or [word])[0]

    @cached_property
    def _synonyms(self) -> dict[str, str]:
        return _synonym_table(self.stem)

    def stem(self, word: str) -> str:
        cached = self._stems.get(word)
        if cached is None:
            cached = self._stemmer(word) if word.isascii() else word
            if len(self._stems) < 500_000:
                self._stems[word] = cached
        return cached

    def concept(self, word: str) -> str | None:
        """The unit a word stands for: its party, its synonym group, or its stem; None for a stop word."""
        if word in L.ALIAS_GROUP:
            return "@" + L.ALIAS_GROUP[word]
        if word in self._stop_words or len(word) < 2:
            return None
        synonym = self._synonyms.get(word)
        if synonym is not None:
            return synonym
        stemmed = self.stem(word)
        return self._synonyms.get(stemmed, stemmed)

    def units(self, text: str, quantities: tuple[float, ...]) -> frozenset[str]:
        lower = text.lower()
        for pattern, replacement in L.PHRASE_REWRITES:
            lower = re.sub(pattern, replacement, lower)
        units = set()
        for word in re.findall(r"[a-z][a-z.]*[a-z]|[a-z]", re.sub(r"['’]s\b", "", lower)):
            unit = self.concept(word) if "." not in word or word in L.ALIAS_GROUP else self.concept(word.replace(".", ""))
            if unit:
                units.add(unit)
        if _EXCEED_HEDGE.search(text):
            units.add("exceed")
        units.update(_quantity_units(text, quantities))
        return frozenset(units)

    def window(self, text: str, inherited: Speaker = NO_SPEAKER) -> Window:
        """The features of one sentence, clause or piece, once per distinct (text, inherited speaker)."""
        key = (text, inherited)
        cached = self._windows.get(key)
        if cached is None:
            cached = self._window(text, inherited)
            if len(self._windows) < self._max_cached:
                self._windows[key] = cached
        return cached

    def _window(self, text: str, inherited: Speaker) -> Window:
        content, phrases = strip_attribution(text)
        speaker = speaker_of(phrases) if phrases else inherited
        if len(content.split()) < 2:  # the attribution is the claim ("X confirmed the swap")
            content = text
        without_speaker = text
        for phrase in phrases:
            without_speaker = without_speaker.replace(phrase, " ")
        local = {p for phrase in phrases for p in places_of(phrase, anywhere=True)} - L.CAPITALS
        places = places_of(without_speaker) | local  # "officials in Kharkiv said" places the fact; "Kyiv says" not
        times = times_of(without_speaker)
        quantities = quantities_of(content)
        all_quantities = quantities_of(text)
        return Window(
            text=text, content=content, speaker=speaker,
            units=self.units(content, quantities), all_units=self.units(text, all_quantities),
            quantities=all_quantities, times=times, places=places, negated=negated(content),
            roles=roles_of(content, lambda word: self.concept(word) or self.stem(word)),
            words=frozenset(w.lower() for w in re.findall(r"[A-Za-z]+", content)),
            negated_units=tuple(self.units(piece, ()) for piece in re.split(r"[,;:()]", content) if negated(piece)),
        )

    def __call__(self, text: str) -> TextFeatures:
        cached = self._cache.get(text)
        if cached is not None:
            return cached
        whole = self.window(text)
        windows = [whole]
        sentences = sentences_of(text)
        for sentence in sentences if len(sentences) > 1 else [text]:
            sentence_window = self.window(sentence) if len(sentences) > 1 else whole
            clauses = clauses_of(sentence)
            if len(sentences) > 1 and not clauses:
                windows.append(sentence_window)
            for clause in clauses:
                inherited = sentence_window.speaker if continues_subject(clause) else NO_SPEAKER
                windows.append(self.window(clause, inherited))
        features = TextFeatures(text, tuple(windows), len(sentences))
        if len(self._cache) < self._max_cached:
            self._cache[text] = features
        return features
