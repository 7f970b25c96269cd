"""Which gold claims a summary expresses (lenient, many-to-one over the summary's sentences).

A faithful summary compresses: it shares few words with a long, decontextualised claim. So the
unit compared is the claim's *content* (its attribution stripped) and the measure is containment:
the share of the claim's content words that one summary sentence carries, with vetoes requiring the
claim's numbers, polarity and actor to agree.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from harness.scoring import features
from harness.scoring.matching import GoldItem, content_tokens
from harness.text import split_sentences

from harness.scoring.settings import DEFAULT_COVERAGE_THRESHOLD


def claim_content(text: str) -> str:
    """The claim without its attribution ("X said that ..."), which summaries often drop."""
    _, span = features.speaker_phrase(text)
    if span is None:
        return text
    rest = text[:span[0]] + text[span[1]:]
    return rest


def containment(claim: str, sentence_tokens: set[str]) -> float:
    tokens = set(content_tokens(claim_content(claim))) or set(content_tokens(claim))
    if not tokens:
        return 0.0
    return len(tokens & sentence_tokens) / len(tokens)


@dataclass(frozen=True)
class CoverageCounts:
    covered: tuple[str, ...]
    total: int
    weighted_covered: float
    weighted_total: float
    version_covered: float
    version_total: float


def expressed_claims(summary: str, gold: Sequence[GoldItem], threshold: float = DEFAULT_COVERAGE_THRESHOLD) -> list[str]:
    """Ids of the gold claims some sentence of `summary` expresses."""
    sentences = split_sentences(summary)
    sentence_info = [(set(content_tokens(s)), features.extract(s)) for s in sentences]
    out = []
    for item in gold:
        claim_features = features.extract(item.text)
        for tokens, sentence_features in sentence_info:
            if (containment(item.text, tokens) >= threshold
                    and features.coverage_veto(claim_features, sentence_features) is None):
                out.append(item.id)
                break
    return out


def coverage(summary: str, gold: Sequence[GoldItem], threshold: float = DEFAULT_COVERAGE_THRESHOLD) -> CoverageCounts:
    scored = [g for g in gold if not g.optional]
    covered = set(expressed_claims(summary, scored, threshold))
    return CoverageCounts(
        covered=tuple(g.id for g in scored if g.id in covered),
        total=len(scored),
        weighted_covered=sum(g.salience_weight for g in scored if g.id in covered),
        weighted_total=sum(g.salience_weight for g in scored),
        version_covered=sum(g.version_weight for g in scored if g.id in covered),
        version_total=sum(g.version_weight for g in scored),
    )
