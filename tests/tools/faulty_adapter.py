"""An in-process adapter that misbehaves on chosen documents: raises, hangs, returns the wrong type, or returns
text no UTF-8 file can hold. Registered through a real entry point by the tests (a dist-info folder)."""

import time

from harness.adapters.base import Adapter
from harness.options import Option


class FaultyAdapter(Adapter):
    name = "faulty"
    version = "1"
    tasks = ("summary", "claims")
    deterministic = True
    options = (
        Option("raise_on", "strings", (), "raise RuntimeError on these documents"),
        Option("hang_on", "strings", (), "sleep 60 s on these documents"),
        Option("wrong_type_on", "strings", (), "return the wrong type on these documents"),
        Option("surrogate_on", "strings", (), "return a lone surrogate on these documents"),
    )

    def _fault(self, doc_id: str) -> str | None:
        for mode in ("raise_on", "hang_on", "wrong_type_on", "surrogate_on"):
            if doc_id in self.settings[mode]:
                return mode
        return None

    def summarize(self, doc):
        fault = self._fault(doc.doc_id)
        if fault == "raise_on":
            raise RuntimeError(f"model crashed on {doc.doc_id}")
        if fault == "hang_on":
            time.sleep(60)
        if fault == "wrong_type_on":
            return {"summary": "a mapping, not a string"}
        if fault == "surrogate_on":
            return "broken \ud800 text"
        return " ".join(doc.story_text().split()[:20])

    def extract_claims(self, doc):
        fault = self._fault(doc.doc_id)
        if fault == "raise_on":  # a message no UTF-8 file can hold as it is
            raise RuntimeError("tokenizer choked on \udcff")
        if fault == "hang_on":
            time.sleep(60)
        if fault == "wrong_type_on":
            return "one claim, not a list"
        if fault == "surrogate_on":
            return ["fine claim", "broken \udfff claim"]
        return [line.strip() for line in doc.story_text().split("\n") if line.strip()][:2]
