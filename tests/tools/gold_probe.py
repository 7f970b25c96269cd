"""A third-party adapter that tries to read the gold answers from what the harness gives it.

Registered through a real entry point by tests/test_gold_isolation.py (a dist-info folder). For every call
it records, in a JSON file per document and task, every object and string reachable from its argument and
from itself (attributes, __dict__, slots, containers, closures, default arguments, class attributes), and
what the obvious attribute look-ups gave. The test then looks for gold in what was reachable.
"""

import gc
import json
import types
from pathlib import Path

from harness.adapters.base import Adapter
from harness.options import Option

GOLD_TYPES = ("Document", "Corpus", "Claim", "Summary")
ATTEMPTS = ("claims", "summaries", "document", "doc", "corpus", "gold", "_doc", "__dict__")


def reachable(*roots):
    """Every object reachable from `roots` through references, skipping modules and functions' globals (the
    route by which any code reaches everything: that is the interpreter, not the object it was handed)."""
    seen, stack = {}, list(roots)
    while stack:
        obj = stack.pop()
        if id(obj) in seen:
            continue
        seen[id(obj)] = obj
        if isinstance(obj, (types.ModuleType, types.BuiltinFunctionType, types.CodeType)):
            continue
        if isinstance(obj, type):
            if obj.__module__ != "builtins":
                stack.extend(vars(obj).values())
            continue
        if isinstance(obj, types.FunctionType):
            for cell in obj.__closure__ or ():
                try:
                    stack.append(cell.cell_contents)
                except ValueError:  # an empty cell
                    pass
            stack.extend(obj.__defaults__ or ())
            stack.extend((obj.__kwdefaults__ or {}).values())
            continue
        stack.extend(gc.get_referents(obj))
    return list(seen.values())


class GoldProbe(Adapter):
    name = "gold-probe"
    version = "1"
    tasks = ("summary", "claims")
    deterministic = True
    cacheable = False
    options = (Option("dump_dir", str, None, "where to write what was reachable", required=True),)

    def _probe(self, given, task: str) -> None:
        found = reachable(given, self)
        attempts = {}
        for name in ATTEMPTS:
            try:
                attempts[name] = type(getattr(given, name)).__name__
            except AttributeError:
                attempts[name] = "AttributeError"
        record = {"given": type(given).__name__, "attempts": attempts,
                  "gold_objects": sorted({type(o).__name__ for o in found if type(o).__name__ in GOLD_TYPES}),
                  "strings": sorted({o for o in found if isinstance(o, str)}),
                  "objects": len(found)}
        out = Path(self.settings["dump_dir"]) / f"{given.doc_id}.{task}.json"
        out.write_text(json.dumps(record), encoding="utf-8")

    def summarize(self, doc):
        self._probe(doc, "summary")
        return " ".join(doc.story_text().split()[:25])

    def extract_claims(self, doc):
        self._probe(doc, "claims")
        return [line.strip() for line in doc.story_text().split("\n") if len(line.split()) > 5][:3]
