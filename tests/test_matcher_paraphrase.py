"""The matcher on heavy paraphrases, negative wordings, added numbers and headline wordings of the articles'
sentences, with the verdict a reader gives.

Every candidate is written by hand from the articles (000 is the full AP text, 001 a heavy rewrite, 004 a
Canadian rewrite); the expected verdict was decided by reading the article, not by running the matcher.
"""

import pytest

from harness.scoring import features as F
from harness.scoring.coverage import expressed_claims
from harness.scoring.scorer import Scorer
from tests.test_matcher_rules import verdict

AP, REWRITE, CANADIAN = "000_15d33b86afb41c0d", "001_52e54b49f32cf5ad", "004_dab4977225331039"


@pytest.fixture(scope="module")
def scorer(corpus):
    return Scorer(corpus)


# AP c001: Ukrainian military officials in Kyiv said on Thursday that the number of Russian troops killed or
#          wounded in Ukraine has topped 1 million.
# AP c013: Russia last reported its military casualties early in the war.
# AP c015: Earlier this year, the General Staff of the Russian armed forces claimed that Ukrainian military losses
#          had topped 1 million.
# AP c022: The Russian strikes came despite international pressure on Russia to accept a ceasefire.
# AP c032: The authorities in Kharkiv said 18 people were injured by Russian drone attacks overnight.
# AP c054: The Ukrainian military had no immediate comment on the Russian claim of capturing two villages ...
# AP c059: The only tangible outcome of the Istanbul talks was an agreement to exchange prisoners of war and the
#          bodies of fallen soldiers.
# AP c067: Lubinets said the youngest of the repatriated soldiers is 22.
CASES = [
    # who owns what: a verb after a party is not owned; a report noun is ("Ukraine's casualty claim")
    ("Kyiv says Russia has now lost more than a million troops dead or wounded.", "c001", AP, None),
    ("Ukraine's casualty claim is consistent with what Western intelligence agencies have assessed.", "c007",
     REWRITE, None),
    ("Earlier this year, the General Staff of the Russian armed forces claimed that Russian military losses had "
     "topped 1 million.", "c015", AP, "actor"),
    # negative wordings that say what the positive claim says, and ones that do not
    ("International pressure to accept a ceasefire did not stop the Russian strikes on Ukraine.", "c022", AP, None),
    ("Russia stopped reporting its military casualties early in the war.", "c013", AP, None),
    ("Moscow's last official update of its own military casualty figures dates from early in the war.", "c045",
     REWRITE, None),
    ("Apart from a deal to swap prisoners of war and the bodies of fallen soldiers, the Istanbul talks produced "
     "nothing concrete.", "c059", AP, None),
    ("Talk of a possible ceasefire has not stopped the Russian attacks.", "c055", AP, None),
    ("Neither Russia nor Ukraine said how many prisoners were exchanged on Thursday.", "c061", AP, None),
    ("Russia has regularly reported its military casualties throughout the war.", "c013", AP, "negation"),
    ("The Ukrainian military immediately rejected the Russian claim of capturing two villages in the Donetsk region.",
     "c054", AP, "negation"),
    # numbers the article states, but for something else
    ("The authorities in Kharkiv said 18 people were injured and two killed by Russian drone attacks overnight.",
     "c032", AP, "number_unsupported"),
    ("The Russian strikes on Ukraine with drones and other weapons injured 52 others.", "c009", CANADIAN,
     "number_unsupported"),
    ("Russia and Ukraine conducted another prisoner-of-war swap on Thursday that included 18 severely wounded and "
     "gravely ill captives.", "c060", AP, "number_unsupported"),
    # numbers the article states for the same thing, and "the two sides", which counts nothing
    ("Lubinets said the repatriated soldiers range in age from 22 to 59.", "c067", AP, None),
    ("With the two sides' conditions so far apart, a rapid peace settlement between Moscow and Kyiv looks "
     "improbable.", "c058", AP, None),
    # heavy paraphrases in other words
    ("Kyiv's military officials spoke of the enormous cost Moscow has borne for its three-year invasion of Ukraine.",
     "c002", CANADIAN, None),
    ("There is little sign that the fighting between Russia and Ukraine will ease.", "c044", REWRITE, None),
    ("Russian troops are pressing on with their slow, attritional offensive in Ukraine's east.", "c023", REWRITE,
     None),
    ("Russia's war dead and wounded top 1 million, Ukraine says.", "c001", CANADIAN, None),
    ("Moscow has not said a word about Kyiv's casualty figure, Putin included.", "c007", AP, None),
    ("Germany aims to help Ukraine pay for weapons made at home, Pistorius stressed.", "c078", AP, None),
    ("Neither side's tallies of enemy losses can be checked by outsiders.", "c016", "002_6b974652a62947d2", None),
]


@pytest.mark.parametrize("candidate, gold_id, doc_id, expected", CASES,
                         ids=[f"{d[:3]}:{g}:{e}" for _, g, d, e in CASES])
def test_paraphrase_verdicts_on_article_sentences(scorer, candidate, gold_id, doc_id, expected):
    assert verdict(scorer, candidate, gold_id, doc_id) == expected


def test_headline_attributions_are_taken_apart():
    for text, speaker, content in [
        ("Russia's war casualties top 1 million, Ukraine says, in line with Western estimates", "Ukraine",
         "Russia's war casualties top 1 million, in line with Western estimates"),
        ("UK: Russian casualties now over 1 million.", "UK", "Russian casualties now over 1 million."),
        ("Russia last reported its military casualties early in the war.", "",
         "Russia last reported its military casualties early in the war."),
    ]:
        stripped, phrases = F.strip_attribution(text)
        assert ("; ".join(phrases), stripped) == (speaker, content), text


def test_years_are_told_from_counts():
    assert F.years_of("a 2-year-old boy was killed") == (2.0,)
    assert F.years_of("the three-year war") == (3.0,)
    assert F.years_of("two people were killed") == ()
    assert F.quantities_of("With the two sides' conditions so far apart") == ()


def test_headline_coverage_finds_the_claim_and_not_the_other_speakers(scorer, corpus):
    """A headline states Ukraine's claim; the UK's own "over 1 million" is another source's claim."""
    def found(doc_id: str, headline: str) -> list[str]:
        items = [g for g in scorer.gold_items(doc_id) if not g.optional]
        return expressed_claims(scorer.matcher, headline, items, scorer.story(doc_id))

    assert "c001" in found(CANADIAN, "Russian casualties in three-year war pass 1 million, Ukraine says")
    ap = found(AP, "Ukraine: Russian losses top 1 million; Britain says about 250,000 killed")
    assert "c001" in ap and "c008" not in ap and "c015" not in ap


# --------------------------------------------------------------------------- what a number or a phrase counts

GUARDIAN = "002_6b974652a62947d2"


def test_the_age_of_a_war_is_not_a_count_of_people(scorer):
    """The Guardian's headline and first sentence say nothing of the three people the drone strikes killed:
    its "three-year-old war" counts years, not dead."""
    headline = ("Russian military losses top 1m in three-year-old war, Ukrainian military says The claim by the "
                "General Staff of the Ukrainian armed forces is in line with Western intelligence estimates.")
    killed = next(g.id for g in scorer.gold_items(GUARDIAN) if "killing three people" in g.text)
    assert verdict(scorer, headline, killed, GUARDIAN) == "below"
    units = scorer.matcher.featurizer(headline).whole.units
    assert "#3y" in units and "#3" not in units
    counted = scorer.matcher.featurizer("Russian strikes killed three people in the three-year war.").whole.units
    assert {"#3", "#3y"} <= counted  # the same number, once a count and once years


def test_armed_forces_are_soldiers_not_arms(scorer):
    units = scorer.matcher.featurizer("the General Staff of the Ukrainian armed forces").whole.units
    weapons = scorer.matcher.featurizer("Germany will send weapons to Ukraine.").whole.units
    troops = scorer.matcher.featurizer("Russian forces advanced.").whole.units
    assert not (units & weapons - {"@ukraine"}) and (units & troops) - {"@russia", "@ukraine"}
