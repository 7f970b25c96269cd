"""Word lists the claim matcher's rules read: parties, places, speakers' roles, synonyms and cues.

General news vocabulary, not a list fitted to any labelled pair: countries and their demonyms and
capitals (a capital used as a speaker stands for its government), the places of a war story with
the country that contains them, institutional roles that identify a speaker, reporting verbs,
negation cues and synonym groups of the words news paraphrases swap. Each rule that uses a list is
measured on the held-out pairs by `harness matcher eval`.
"""

from __future__ import annotations

# Parties: a claim's actors and speakers. Multi-word names are matched before their parts.
ACTOR_GROUPS: dict[str, tuple[str, ...]] = {
    "russia": ("russia", "russian", "russians", "moscow", "kremlin", "putin", "medinsky", "gladkov"),
    "ukraine": ("ukraine", "ukrainian", "ukrainians", "kyiv", "kiev", "zelenskyy", "zelensky", "lubinets",
                "terekhov", "nepotribna"),
    "uk": ("united kingdom", "u.k.", "uk", "britain", "british", "london", "defencehq"),
    "us": ("united states", "u.s.", "us", "usa", "america", "american", "americans", "washington", "trump",
           "white house", "pentagon"),
    "germany": ("germany", "german", "germans", "berlin", "pistorius", "dpa"),
    "nato": ("nato", "rutte", "north atlantic treaty organization"),
    "eu": ("european union", "eu", "brussels"),
    "csis": ("center for strategic and international studies", "centre for strategic and international studies",
             "csis"),
    "france": ("france", "french", "paris", "macron"),
    "china": ("china", "chinese", "beijing"),
    "turkey": ("turkey", "turkish", "ankara", "erdogan"),
    "italy": ("italy", "italian"),
    "israel": ("israel", "israeli", "israelis", "netanyahu"),
    "iran": ("iran", "iranian", "iranians", "tehran", "khamenei"),
    "belarus": ("belarus", "belarusian", "minsk", "lukashenko"),
    "poland": ("poland", "polish", "warsaw"),
    "canada": ("canada", "canadian", "ottawa", "carney"),
}
ALIAS_GROUP = {alias: group for group, aliases in ACTOR_GROUPS.items() for alias in aliases}
PERSONS = frozenset({"putin", "medinsky", "zelenskyy", "zelensky", "lubinets", "terekhov", "nepotribna", "trump",
                     "pistorius", "rutte", "netanyahu", "khamenei", "macron", "erdogan", "lukashenko", "carney",
                     "gladkov"})

# Places below the level of a country, with the party whose territory holds them (for "in Kharkiv" vs
# "in Kyiv": two places of one country are different places; a country holds its own cities).
PLACES: dict[str, str] = {
    "kyiv": "ukraine", "kiev": "ukraine", "kharkiv": "ukraine", "kherson": "ukraine", "donetsk": "ukraine",
    "luhansk": "ukraine", "zaporizhzhia": "ukraine", "odesa": "ukraine", "odessa": "ukraine", "dnipro": "ukraine",
    "lviv": "ukraine", "chernihiv": "ukraine", "sumy": "ukraine", "mykolaiv": "ukraine", "poltava": "ukraine",
    "crimea": "ukraine", "oleksiivka": "ukraine", "petrivske": "ukraine", "pokrovsk": "ukraine",
    "bakhmut": "ukraine", "avdiivka": "ukraine", "kramatorsk": "ukraine",
    "moscow": "russia", "belgorod": "russia", "kursk": "russia", "bryansk": "russia", "st. petersburg": "russia",
    "saint petersburg": "russia", "rostov": "russia", "voronezh": "russia",
    "istanbul": "turkey", "ankara": "turkey", "rome": "italy", "berlin": "germany", "washington": "us",
    "london": "uk", "brussels": "eu", "the hague": "netherlands", "paris": "france", "warsaw": "poland",
    "minsk": "belarus", "tehran": "iran", "jerusalem": "israel", "tel aviv": "israel", "calgary": "canada",
    "ottawa": "canada", "alberta": "canada", "kananaskis": "canada", "geneva": "switzerland",
    "riyadh": "saudi arabia", "jeddah": "saudi arabia", "minsk region": "belarus",
}

# Roles that identify a speaker within a party: two different ones are two different sources
# ("Ukrainian police" is not "the Ukrainian air force"). Generic words ("officials", "military",
# "authorities") identify nobody in particular and agree with any role of the same party.
SPEAKER_ROLES: dict[str, tuple[str, ...]] = {
    "general staff": ("general staff",),
    "defence ministry": ("defense ministry", "defence ministry", "ministry of defense", "ministry of defence",
                         "defense ministry's", "defence ministry's", "mod"),
    "foreign ministry": ("foreign ministry", "ministry of foreign affairs"),
    "air force": ("air force", "air defenses", "air defences", "air defense", "air defence"),
    "police": ("police",),
    "mayor": ("mayor",),
    "governor": ("governor", "gov."),
    "ombudsman": ("ombudsman",),
    "president": ("president",),
    "prime minister": ("prime minister",),
    "defence minister": ("defense minister", "defence minister"),
    "secretary-general": ("secretary-general", "secretary general", "nato chief"),
    "news agency": ("news agency", "dpa", "reuters", "associated press", "ap"),
    "emergency service": ("emergency service", "emergency services", "rescuers"),
}
PRONOUN_SPEAKERS = frozenset({"he", "she", "they", "it", "officials", "the officials", "sources"})
# Nouns that can head a speaker phrase without naming anyone in particular ("the ministry said").
SPEAKER_NOUNS = frozenset({"officials", "official", "authorities", "ministry", "governor", "mayor", "police",
                           "spokesman", "spokeswoman", "spokesperson", "military", "army", "government", "agency",
                           "statement", "he", "she", "they", "it", "sources", "kremlin", "staff", "office",
                           "president", "minister", "ombudsman", "analysts", "experts", "observers", "monitors"})
# Verbs that introduce what someone holds to be true, speech verbs' kin, when "that" follows.
BELIEF_VERBS = ("estimates", "believes", "thinks", "assesses", "expects", "claims", "reports", "says", "argues",
                "estimate", "believe", "think", "assess", "expect")
CAPITALS = frozenset({"kyiv", "kiev", "moscow", "washington", "london", "berlin", "paris", "warsaw", "minsk",
                      "tehran", "ankara", "ottawa", "brussels"})

# Inflected forms only: "claims", "reports" and "estimates" are nouns as often as verbs.
SPEECH_VERBS = (
    "said", "says", "claimed", "reported", "stated", "announced", "announces", "added", "adds", "acknowledged",
    "acknowledges", "told", "confirmed", "confirms", "estimated", "predicted", "predicts", "warned", "warns",
    "noted", "posted", "wrote", "writes", "insisted", "insists", "argued", "argues", "explained", "explains",
    "declared", "declares", "asserted", "asserts", "maintained", "maintains", "revealed", "reveals", "indicated",
    "disclosed", "stressed", "stresses", "emphasised", "emphasized", "underscored", "underlined", "described",
    "describes", "called", "mentioned", "reckons", "reckoned",
)

# Words that follow a party's name without being something it owns ("Russia has lost", "Kyiv says").
AUXILIARIES = frozenset({"has", "have", "had", "is", "are", "was", "were", "will", "would", "could", "can", "may",
                         "might", "did", "does", "do", "says", "said", "now", "also", "still", "then", "again"})
# Nouns that modify the noun after them: "Ukrainian military losses" are losses, "Russian air defenses" defenses.
NOUN_MODIFIERS = frozenset({"military", "war", "civilian", "air", "ground", "naval", "security", "border",
                            "state", "combat", "battlefield"})
# Nouns naming a report of something: in "Ukraine's casualty claim" the party owns the claim, not the casualties.
REPORT_NOUNS = frozenset({"claim", "claims", "figure", "figures", "estimate", "estimates", "count", "tally",
                          "statement", "report", "reports", "assessment", "assessments", "toll", "data"})

# Synonym-group heads of acts done to a target: "strikes on Ukraine" (not "pressure on Russia").
ATTACK_CONCEPTS = frozenset({"attack", "launch", "drone", "missile", "target", "down", "jam", "kill", "wound"})

# Words whose presence flips what a clause asserts.
NEGATION_CUES = (
    "not", "no", "never", "neither", "nor", "none", "nothing", "nobody", "without", "cannot", "denied", "denies",
    "deny", "refused", "refuses", "refuse", "unable", "failed", "fails", "fail", "stopped", "halted", "ceased",
    "lacked", "lacks", "lack", "rejected", "rejects",
)
NEGATION_PHRASES = ("no longer", "n't", "n’t", "has yet to", "have yet to", "had yet to")
# Negative wordings (regex on the negated side, regex on the other side) that assert the same as a positive one.
NEGATIVE_WORDINGS = (
    (r"\b(?:apart from|aside from|except|other than|besides|nothing but|none but)\b", r"\b(?:only|sole|solely)\b"),
    (r"\b(?:since|stopped|ceased|halted|no longer)\b",
     r"\blast\b(?!\s+(?:week|month|year|night|time|summer|spring|autumn|fall|winter|monday|tuesday|wednesday|"
     r"thursday|friday|saturday|sunday|\d))"),
    (r"(?:\bnot|n't|\bfailed to)\s+(?:\w+\s+)?(?:stop|stopped|prevent|prevented|deter|deterred|halt|halted)\b",
     r"\b(?:despite|in spite of|in defiance of|regardless of|notwithstanding)\b"),
)
# Negative words that are themselves a response: "rejected the claim" is not "had no comment on the claim".
RESPONSE_CUES = frozenset({"rejected", "rejects", "denied", "denies", "dismissed", "dismisses", "refuted",
                           "refutes"})
ANTONYM_PREFIXES = ("un", "in", "non", "dis")
# Words that assert opposites: one side's word with the other side's opposite flips the claim.
ANTONYMS = (
    (("align", "aligns", "aligned", "consistent", "matches", "tallies", "corroborates", "line"),
     ("contradict", "contradicts", "contradicted", "inconsistent", "disputes", "disputed")),
    (("accept", "accepts", "accepted", "accepting"), ("reject", "rejects", "rejected", "rejecting")),
    (("confirm", "confirms", "confirmed"), ("deny", "denies", "denied")),
    (("increase", "increased", "increases", "rose", "risen", "rises"),
     ("decrease", "decreased", "decreases", "fell", "fallen", "falls", "dropped")),
    (("last",), ("regularly", "throughout", "routinely", "continuously", "repeatedly")),
    (("likely",), ("unlikely",)), (("support", "supports", "supported"), ("oppose", "opposes", "opposed")),
    (("intensified", "intensify", "escalated", "stepped-up"), ("eased", "reduced", "scaled")),
    (("more",), ("fewer", "less")), (("above", "over", "exceeded", "topped"), ("below", "under")),
    (("praised", "commended", "hailed"), ("criticized", "criticised", "condemned")),
    (("continued", "continues", "continue", "continuing", "ongoing"),
     ("stop", "stopped", "stops", "halt", "halted", "ended", "end", "ceased")),
)
# A predicate that only names a topic: "Rutte spoke about Trump and peace talks" states no claim about them.
VAGUE_PREDICATES = ("spoke about", "spoke of", "talked about", "discussed", "referred to", "touched on",
                    "addressed the", "commented on", "mentioned")
# Verbs of a claim that is itself about a topic someone spoke of: "spoke of" restates it.
DESCRIBING_VERBS = frozenset({"described", "describes", "describing", "spoke", "speaks", "addressed", "talked"})

# Predicates that exclude each other in a report of an attack (by synonym-group head): a clause that says
# one where the claim says the other states another fact, whatever numbers they share.
CONTRASTS = (("kill", "wound"), ("down", "jam"), ("launch", "down"), ("launch", "jam"), ("kill", "capture"),
             ("oldest", "youngest"))

# Synonym groups: every word of a group stands for the group's first word. Groups hold words a news
# paraphrase swaps for one another; words that contrast (killed / injured, destroyed / jammed,
# launched / downed) are never put in one group.
SYNONYMS: tuple[tuple[str, ...], ...] = (
    ("kill", "killed", "kills", "killing", "dead", "death", "deaths", "died", "dies", "die", "slain", "fatalities",
     "fatality", "lives", "life"),
    ("wound", "wounded", "wounds", "injure", "injured", "injures", "injuring", "injury", "injuries", "hurt"),
    ("casualty", "casualties", "loss", "losses", "toll"),
    ("troop", "troops", "soldier", "soldiers", "servicemen", "servicemembers", "personnel", "forces", "force",
     "army", "military", "fighters", "combatants"),
    ("exceed", "exceeded", "exceeds", "exceeding", "top", "topped", "tops", "topping", "surpass", "surpassed",
     "surpasses", "passed", "crossed", "eclipsed"),
    ("reach", "reached", "reaches", "mark", "milestone", "threshold"),
    ("launch", "launched", "launches", "launching", "fired", "fires", "fire", "sent", "unleashed"),
    ("attack", "attacks", "attacked", "attacking", "strike", "strikes", "struck", "striking", "assault",
     "assaults", "raid", "raids", "barrage", "barrages", "bombardment", "bombardments", "bombarded", "pummeled",
     "pummelled", "pounded", "pounding", "battered", "hammered", "shelling", "shelled", "offensive", "onslaught", "hit", "hits"),
    ("drone", "drones", "uav", "uavs", "unmanned"),
    ("down", "downed", "shot", "intercept", "intercepted", "intercepting", "destroy", "destroyed", "destroying",
     "neutralised", "neutralized", "eliminated"),
    ("jam", "jammed", "jamming", "suppressed"),
    ("child", "children", "kids", "minors", "youngsters"),
    ("people", "persons", "person", "civilians", "residents"),
    ("village", "villages", "settlement", "settlements", "hamlets"),
    ("capture", "captured", "captures", "capturing", "seized", "seize", "took", "taken", "occupied", "control"),
    ("exchange", "exchanged", "exchanges", "swap", "swapped", "swaps", "trade", "traded", "trades"),
    ("prisoner", "prisoners", "pow", "pows", "captives", "captive", "detainees"),
    ("talk", "talks", "negotiations", "negotiation", "meeting", "discussions"),
    ("negotiator", "negotiators", "envoy", "delegation", "delegations", "delegates"),
    ("visit", "visited", "visits", "trip", "arrived", "arrives", "travelled", "traveled"),
    ("allocate", "allocated", "allocates", "allocating", "provide", "provided", "provides", "spend", "spending",
     "earmark", "earmarked", "commit", "committed", "pledge", "pledged", "give", "giving", "grant"),
    ("support", "supporting", "supported", "supports", "aid", "help", "helping", "assistance", "backing", "back",
     "backs", "stand"),
    ("criticize", "criticized", "criticised", "criticizes", "criticises", "faulted", "slammed", "rebuked",
     "censured", "blasted"),
    ("praise", "praised", "praises", "commended", "commends", "hailed", "hails", "lauded", "applauded"),
    ("appoint", "appointed", "appointing", "appointment", "naming", "named", "choosing", "chose", "picked"),
    ("target", "targeted", "targets", "targeting", "aimed"),
    ("verify", "verified", "verification", "confirm", "confirmed", "corroborated", "checked"),
    ("comment", "commented", "comments", "responded", "reacted", "remarked"),
    ("estimate", "estimates", "estimated", "assessment", "assessments", "assessed", "figures"),
    ("align", "aligns", "aligned", "consistent", "matches", "tally", "tallies"),
    ("price", "cost", "costs"),
    ("huge", "heavy", "enormous", "massive", "staggering", "high", "steep", "immense"),
    ("kindergarten", "kindergartens", "nurseries", "nursery", "preschools"),
    ("missile", "missiles", "rockets", "rocket"),
    ("front", "frontline", "front-line", "frontlines"),
    ("war", "conflict", "invasion", "fighting"),
    ("begin", "began", "begins", "started", "start", "starts"),
        ("medical", "treatment", "care"),
    ("return", "returned", "returning", "repatriated", "repatriation", "freed", "released", "release", "home"),
    ("missing", "unaccounted"),
    ("oldest", "eldest"),
    ("plot", "plots", "conspiracies", "schemes"),
    ("book", "books", "writings"),
    ("historian", "history"),
    ("unhelpful", "helpful"),
    ("progress", "advance", "advances", "advancing", "gains"),
    ("push", "pushes", "pushing", "drive"),
    ("daily", "every", "each"),
    ("region", "regions", "province", "oblast", "area", "areas"),
    ("city", "cities", "town"),
    ("infrastructure", "facilities", "buildings"),
    ("residential", "homes", "housing"),
    ("education", "educational", "schools", "school"),
    ("unlikely", "improbable", "doubtful"),
    ("deal", "settlement", "agreement", "accord", "resolution", "resolve", "resolved", "settle", "settled"),
    ("quick", "quickly", "rapid", "rapidly", "swift", "swiftly", "fast", "speedy", "soon"),
    ("aerial", "air", "airstrikes", "air-raid"),
    ("escalate", "escalation", "escalated", "intensified", "intensify", "intensifies", "stepped-up", "stepped",
     "ramped", "heightened"),
    ("east", "eastern"), ("northeast", "northeastern"), ("south", "southern"), ("north", "northern"),
    ("west", "western"),
    ("figure", "figures", "numbers", "count", "tally", "data", "statistics"),
    ("divergent", "diverging", "differing", "different", "apart", "opposed", "incompatible", "conflicting"),
    ("battlefield", "ground", "land"),
    ("campaign", "operation", "operations"),
    ("mutual", "both", "either", "each"),
    ("outcome", "result", "produced", "yielded", "achievement"),
    ("tangible", "concrete", "real"),
    ("ceasefire", "truce", "peace"),
    ("build", "develop", "produce", "manufacture", "building", "developing"),
    ("finance", "fund", "funding", "financing", "pay"),
    ("purchase", "purchases", "buy", "buying", "procurement"),
    ("homemade", "domestic", "home-grown", "homegrown", "locally", "ukrainian-made", "ukrainian-built"),
    ("continue", "continued", "continues", "continuing", "ongoing", "persist", "persisted", "persists", "persisting",
     "keep", "keeps", "kept"),
    ("grinding", "attritional", "slow", "slow-moving", "creeping", "plodding", "gradual"),
    ("abate", "abating", "abates", "ease", "easing", "eases", "subside", "subsiding", "wane", "waning"),
    ("sign", "signs", "indication", "indications"),
    ("potential", "possible", "prospective"),
    ("pressure", "pressures", "demands", "appeals"),
    ("unannounced", "surprise", "unexpected", "unscheduled"),
    ("suffer", "suffered", "suffers", "sustained", "sustain", "incurred", "borne", "bore", "paid"),
    ("record", "largest", "biggest", "heaviest", "unprecedented"),
    ("need", "needs", "require", "requires", "required"),
    ("receive", "receives", "get", "gets", "obtain"),
    ("consider", "considers", "regard", "regards", "see", "sees", "view", "views", "deem", "deems"),
    ("unacceptable", "nonstarters", "nonstarter", "non-starters"),
    ("weapon", "weapons", "weaponry", "arms", "armaments", "materiel", "material", "equipment"),
    ("independent", "independently", "outsiders", "outside"),
    ("roughly", "approximately", "nearly", "approx", "circa"),
    ("underline", "underlines", "underlined", "show", "shows", "showed", "demonstrate", "demonstrates",
     "demonstrated", "signal", "signals"),
)
# Phrases rewritten before words become concepts: idioms and negative wordings of a positive claim.
PHRASE_REWRITES = (
    (r"\bin line with\b", "aligned with"),
    (r"\bshot down\b", "downed"),
    (r"\bprisoners? of war\b", "prisoners"),
    (r"\b(?:did|does|do|has|have|had)\s*(?:not|n't|n’t)\s+(?:stop|stopped|halt|halted|deter|deterred|prevent|"
     r"prevented)\b", "continued despite"),
    (r"\bpress(?:ing|ed|es)? on\b", "continuing"),
    (r"\bcalls? for\b", "pressure for"),
    (r"\bhow many\b", "numbers"),
    (r"\b(?:killed|dead) (?:or|and) (?:wounded|injured)\b", "casualties"),
    (r"\bsaid (?:a|one) word\b|\bsaid anything\b", "commented"),
    (r"\bmade at home\b|\bhome-made\b", "homemade"),
    (r"\barmed forces\b", "forces"),  # soldiers, not arms
)
