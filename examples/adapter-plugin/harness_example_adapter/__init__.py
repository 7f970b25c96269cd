"""An example adapter living in its own package: the first N words of the main story as the summary."""

from __future__ import annotations

from harness.adapters.base import Adapter
from harness.options import Option
from harness.records import Source

__version__ = "0.1.0"


class FirstWordsAdapter(Adapter):
    """Summary = the first `words` words of the main story (Source.story_text())."""

    name = "first-words"
    version = __version__
    tasks = ("summary",)
    deterministic = True
    options = (Option("words", int, 40, "how many words to keep", minimum=1),)

    def summarize(self, doc: Source) -> str:
        return " ".join(doc.story_text().split()[: self.settings["words"]])
