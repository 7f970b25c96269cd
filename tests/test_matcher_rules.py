"""Each named rule of the claim matcher on real sentences of the articles, with the verdict a reader gives.

The candidates are written from the articles' own sentences (000 and 003 are near-full AP texts); the
expected verdict of every case was decided by reading, not by running the matcher.
"""

import pytest

from harness.scoring import features as F
from harness.scoring.scorer import Scorer

DOC = "000_15d33b86afb41c0d"


@pytest.fixture(scope="module")
def scorer(corpus):
    return Scorer(corpus)


def verdict(scorer, candidate: str, gold_id: str, doc_id: str = DOC) -> str | None:
    """None when the candidate states the gold claim; else the rule that refused it ('below' for too little)."""
    items = scorer.gold_items(doc_id)
    item = next(g for g in items if g.id == gold_id)
    matcher = scorer.matcher
    decision = matcher.decide(candidate, item, matcher.source_numbers(scorer.story(doc_id)), siblings=items)
    if decision.score < scorer.settings.threshold:
        return "below"
    return decision.rule


# c017: Zelenskyy said in a February interview that 45,100 Ukrainian troops had been killed.
# c011: On June 3, CSIS in Washington said Russia likely would hit the mark of 1 million casualties this summer.
# c032: The authorities in Kharkiv said 18 people were injured by Russian drone attacks overnight.
# c042: Russia's Defense Ministry said that air defenses downed 52 Ukrainian drones early Thursday.
# c080: Pistorius said Germany will allocate about 9 billion euros for supporting Ukraine this year.
CASES = [
    # numbers
    ("Zelenskyy said 45,100 Ukrainian troops had been killed and 39,000 injured.", "c017", "number_unsupported"),
    ("Zelenskyy said 45,100 Ukrainian troops had been killed and about 390,000 injured.", "c017", None),
    ("Russia's Defense Ministry said that air defenses downed 25 Ukrainian drones early Thursday.", "c042",
     "number_changed"),
    ("Zelenskyy said in a February interview that 54,100 Ukrainian troops had been killed.", "c017", "below"),
    ("Pistorius said Germany will allocate billions of euros for supporting Ukraine this year.", "c080",
     "number_dropped"),
    ("Pistorius said Germany will allocate roughly €9bn for supporting Ukraine this year.", "c080", None),
    ("Britain estimates roughly a quarter of a million Russian soldiers have been killed.", "c009", None),
    # attribution forms and speakers
    ("According to the Center for Strategic and International Studies, Russia would likely reach 1 million "
     "casualties this summer.", "c011", None),
    ("Russia would likely hit 1 million casualties this summer (CSIS said on June 3).", "c011", None),
    ("On June 3, the UK Defence Ministry said Russia likely would hit 1 million casualties this summer.", "c011",
     "speaker"),
    ("Russia's Defense Ministry said air defenses shot down 52 Ukrainian drones early Thursday.", "c042", None),
    ("Ukraine's air force said air defenses downed 52 Ukrainian drones early Thursday.", "c042", "speaker"),
    # times and places
    ("On June 3, CSIS said Russia would likely reach 1 million casualties next year.", "c011", "time"),
    ("The authorities in Kharkiv said 18 people were injured by Russian drone attacks on Monday.", "c032", None),
    ("Authorities said 18 people were injured by Russian drone attacks overnight in Kyiv.", "c032", "place"),
    # actors
    ("Ukraine's Defense Ministry said air defenses downed 52 Russian drones early Thursday.", "c042", "speaker"),
    ("Air defenses downed 52 Russian drones early Thursday, Russia's Defense Ministry said.", "c042", "actor"),
    # negation by clause, antonyms, contrasting predicates
    ("Neither Putin nor other officials commented on the Ukrainian claim.", "c007", None),
    ("Putin commented on the Ukrainian claim.", "c007", "negation"),
    ("Western intelligence estimates contradict the General Staff's claim of over 1 million Russian casualties.",
     "c005", "negation"),
    ("Russia and Ukraine swapped more prisoners, including severely wounded and gravely ill captives, on Thursday; "
     "neither side reported the numbers.", "c060", None),
    ("The authorities in Kharkiv said 18 people were killed by Russian drone attacks overnight.", "c032", "negation"),
    # fragments
    ("The war continues to be costly.", "c001", "below"),
    ("In Rome, NATO chief Mark Rutte spoke about U.S. President Donald Trump's move to start direct peace talks.",
     "c070", "fragment"),
]


@pytest.mark.parametrize("candidate, gold_id, expected", CASES, ids=[f"{g}:{e}" for _, g, e in CASES])
def test_rule_verdicts_on_article_sentences(scorer, candidate, gold_id, expected):
    assert verdict(scorer, candidate, gold_id) == expected


def test_attribution_forms_are_taken_apart():
    for text, speaker, content in [
        ("On June 3, the Center for Strategic and International Studies in Washington said Russia would hit 1 million.",
         "the Center for Strategic and International Studies in Washington", "Russia would hit 1 million."),
        ("According to German news agency dpa, Pistorius said the attacks send a message.",
         "German news agency dpa; Pistorius", "the attacks send a message."),
        ("Russia launched 63 drones overnight, the Ukrainian air force said.", "the Ukrainian air force",
         "Russia launched 63 drones overnight"),
        ("It was reported by Ukraine's ombudsman Dmytro Lubinets that some soldiers were missing.",
         "Ukraine's ombudsman Dmytro Lubinets", "some soldiers were missing."),
    ]:
        stripped, phrases = F.strip_attribution(text)
        assert "; ".join(phrases) == speaker and stripped.strip(" .") == content.strip(" ."), text


def test_dates_and_durations_are_times_not_quantities():
    text = "Russia launched the invasion on Feb. 24, 2022, and two people were killed in the past 24 hours."
    times = F.times_of(text)
    assert (2022, 2, 24) in times.dates and ("24", "hour") in times.durations
    assert F.quantities_of(text) == (2.0,)
    assert F.quantities_of("about a quarter of a million killed") == (250000.0,)
