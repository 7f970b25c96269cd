"""The matcher's named rules: why a candidate that shares a gold claim's words does not state it.

Each rule compares the candidate's aligned window (the clause or sentence that carries most of the
gold claim's content) with the gold claim, and returns its name when it fires. The decision log
records the name of the first rule that fired, so a disagreement with a reader can be traced.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from harness.scoring import features as F
from harness.scoring.settings import VETOES

# Rule names as the decision log shows them, in the order they are tried. The veto `number` covers
# the three number rules; `number_dropped` alone still allows a lenient (partial) match.
RULE_ORDER = ("number_changed", "number_unsupported", "negation", "time", "place", "speaker", "actor", "fragment",
              "number_dropped")
LENIENT_RULES = frozenset({"number_dropped"})
# An added number is the article's own only where the article's sentence stating it (or the one before) carries at
# least this share of the words around it in the candidate: "18 ... captives" is not the "18 people injured".
SAME_COUNT_SHARE = 0.5


def _has(pool: Sequence[float], value: float) -> bool:
    return any(F.same_quantity(value, other) for other in pool)


@dataclass(frozen=True)
class Source:
    """The document a claim comes from: its numbers, and its sentences to check an added number against."""

    quantities: tuple[float, ...]
    sentences: tuple[F.Window, ...]
    featurizer: F.Featurizer
    _verdicts: dict[tuple[float, str], bool] = field(default_factory=dict, compare=False, repr=False)

    def supports(self, value: float, window: F.Window) -> bool:
        """Some sentence states `value` and agrees with the piece of the window that states it on place and
        predicate (a "two killed" the article reports in Donetsk does not support "two killed in Kharkiv")."""
        if not _has(self.quantities, value):
            return False
        key = (value, window.text)  # a window's content, places and units follow from its text
        verdict = self._verdicts.get(key)
        if verdict is None:
            verdict = self._supports(value, window)
            if len(self._verdicts) < 10_000:
                self._verdicts[key] = verdict
        return verdict

    def _supports(self, value: float, window: F.Window) -> bool:
        pieces = [p for p in re.split(r"[,;]|\b(?:and|while|but|of which)\b", window.content)
                  if _has(F.quantities_of(p), value)]
        piece = self.featurizer.window(pieces[0]) if pieces else window
        stating = [i for i, s in enumerate(self.sentences) if _has(s.quantities, value)]
        return not stating or any(
            not F.places_conflict(window.places, self.sentences[i].places)
            and not contrast_rule(piece, self.sentences[i])
            and _same_count(piece, self.sentences[i], self.sentences[max(0, i - 1)], value) for i in stating)


def _same_count(piece: F.Window, sentence: F.Window, previous: F.Window, value: float) -> bool:
    """The sentence states `value` for what the piece counts: years ("a 2-year-old boy") are not a count ("two
    killed"), and "52 drones downed" shares nothing with "injured 52 others" but the number. The sentence before
    counts too: "The oldest among them is 59" is about the soldiers the one before names."""
    if _has(F.years_of(piece.content), value) != _has(F.years_of(sentence.text), value):
        return False
    content = {u for u in piece.units if not u.startswith(("#", "@"))}
    return len(content & (sentence.all_units | previous.all_units)) >= SAME_COUNT_SHARE * len(content)


def number_rule(candidate: Sequence[float], gold: Sequence[float], source: Source | None,
                window: F.Window | None = None) -> str | None:
    """Every number of the gold claim stated; no number that the gold claim does not state and the source does
    not support.

    A gold quantity of 1 may go unsaid ("one person was killed" = "a person was killed").
    """
    extra = [q for q in candidate if not _has(gold, q)]
    missing = [q for q in gold if not _has(candidate, q) and (extra or not F.same_quantity(q, 1.0))]
    if missing and extra:
        return "number_changed"
    if source is not None and any(not (source.supports(q, window) if window is not None else _has(source.quantities, q))
                                  for q in extra):
        return "number_unsupported"
    if missing:
        return "number_dropped"
    return None


def negation_rule(candidate: F.Window, gold: F.Window) -> bool:
    """The clause that carries the claim asserts the opposite: a negation cue on one side only, an antonym
    ("align" / "contradict"), or an un-/in-/non-/dis- prefix on one side."""
    if _negated_about(candidate, gold) != _negated_about(gold, candidate):
        negative, positive = (candidate, gold) if _negated_about(candidate, gold) else (gold, candidate)
        return not _prefix_negation_restated(negative, positive) and not _negative_wording_of(negative, positive)
    if _response_for_no_comment(candidate, gold) or _response_for_no_comment(gold, candidate):
        return True
    for a, b in F.L.ANTONYMS:
        for one, other in ((a, b), (b, a)):
            if (candidate.words & set(one) and not candidate.words & set(other)
                    and gold.words & set(other) and not gold.words & set(one)):
                return True
    if candidate.negated == gold.negated:
        return any(prefix + word in candidate.words for word in gold.words if len(word) > 3
                   for prefix in F.L.ANTONYM_PREFIXES) or any(
            prefix + word in gold.words for word in candidate.words if len(word) > 3
            for prefix in F.L.ANTONYM_PREFIXES)
    return False


def contrast_rule(candidate: F.Window, gold: F.Window) -> bool:
    """The candidate states a contrasting predicate in place of the claim's ("killed three" for "injured three")."""
    for a, b in F.L.CONTRASTS:
        for one, other in ((a, b), (b, a)):
            if one in gold.units and other not in gold.units and other in candidate.units and one not in candidate.units:
                return True
    return False


def _prefix_negation_restated(negated: F.Window, prefixed: F.Window) -> bool:
    """ "had not been announced" says what "unannounced" says."""
    return negated.negated and any(prefix + word in prefixed.words for word in negated.words if len(word) > 3
                                   for prefix in F.L.ANTONYM_PREFIXES)


def _negative_wording_of(negative: F.Window, positive: F.Window) -> bool:
    """A negative wording that asserts what the positive one does: "nothing concrete apart from X" is "the only
    outcome was X"; "has not updated since early in the war" and "stopped reporting" are "last reported early in
    the war"; "pressure did not stop the strikes" is "the strikes came despite pressure"."""
    neg, pos = negative.content.lower(), positive.content.lower()
    return any(re.search(n, neg) and re.search(p, pos) for n, p in F.L.NEGATIVE_WORDINGS)


def _response_for_no_comment(silent: F.Window, responding: F.Window) -> bool:
    """ "Rejected the claim" or "denied it" answers a claim about which "no comment" was made: both wordings are
    negative, but one says nobody responded and the other that someone did."""
    return ("comment" in silent.units and silent.negated and "comment" not in responding.units
            and bool(responding.words & F.L.RESPONSE_CUES))


def vague_rule(candidate: F.Window, gold: F.Window) -> bool:
    """The candidate names a topic ("spoke about ...") where the claim asserts something about it. A claim that
    is itself about what someone described ("described the huge price Moscow has paid") is stated by "spoke of"."""
    said = lambda w: any(p in w.text.lower() for p in F.L.VAGUE_PREDICATES)  # noqa: E731
    describes = set(re.findall(r"[a-z]+", gold.text.lower())) & F.L.DESCRIBING_VERBS
    return said(candidate) and not said(gold) and not describes


def _negated_about(window: F.Window, other: F.Window) -> bool:
    """A negation in the piece of `window` that carries the other side's content (not in an aside or a quote
    about something else): "arrived on an unannounced visit, said Moscow has 'no interest ...'" is not negated
    about the visit."""
    if not window.negated:
        return False
    return any(len(units & other.units) >= 2 or units >= other.units for units in window.negated_units)


def first_rule(candidate: F.Window, candidate_numbers: Sequence[float], gold: F.Window, gold_speaker: F.Speaker,
               source: Source | None, active: frozenset[str]) -> str | None:
    """The first rule (in RULE_ORDER) that says the candidate does not state the gold claim, or None."""
    checks = {
        "number": lambda: number_rule(candidate_numbers, gold.quantities, source, candidate),
        "negation": lambda: "negation" if negation_rule(candidate, gold) or contrast_rule(candidate, gold) else None,
        "fragment": lambda: "fragment" if vague_rule(candidate, gold) else None,
        "time": lambda: "time" if F.times_conflict(candidate.times, gold.times) else None,
        "place": lambda: "place" if F.places_conflict(candidate.places, gold.places) else None,
        "speaker": lambda: "speaker" if F.speakers_conflict(candidate.speaker, gold_speaker) else None,
        "actor": lambda: "actor" if F.roles_conflict(candidate.roles, gold.roles, candidate.speaker.groups,
                                                     gold_speaker.groups) else None,
    }
    found = {veto: checks[veto]() for veto in checks if veto in active or veto == "fragment"}
    for name in RULE_ORDER:
        kind = "number" if name.startswith("number") else name
        value = found.get(kind)
        if value == name:
            return name
    return None
