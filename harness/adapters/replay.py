"""Serve predictions made elsewhere (a JSONL file in the predictions format): the usual CI case."""

from __future__ import annotations

import hashlib
from pathlib import Path

from harness import __version__
from harness.adapters.base import Adapter, AdapterError
from harness.options import Option
from harness.errors import UserError
from harness.io import read_bytes
from harness.records import Prediction, Source


class ReplayAdapter(Adapter):
    """Replays a predictions JSONL file; a document missing from it, or recorded as failed, is a failure."""

    name = "replay"
    version = __version__
    tasks = ("summary", "claims")
    deterministic = True
    cacheable = False  # the file is the cache
    options = (
        Option("path", str, None, "predictions JSONL file", required=True),
        Option("system", str, None, "take the lines of this system (needed when the file has several)"),
    )

    def setup(self) -> None:
        """Read and hash the predictions file once; the hash is the fingerprint the manifest records, naming
        exactly which file was replayed. Several systems in one file need `system` chosen, never guessed."""
        from harness.predictions import read_predictions

        path = Path(self.settings["path"])
        if not path.is_file():
            raise UserError(f"replay: predictions file not found: {path}", field="path")
        self._sha256 = hashlib.sha256(read_bytes(path)).hexdigest()
        wanted = self.settings["system"]
        predictions = read_predictions(path, None, wanted or "replay")
        systems = sorted({p.system for p in predictions})
        if wanted is None and len(systems) > 1:
            raise UserError(f"replay: the file has several systems ({', '.join(systems)}); choose one with "
                            "options.system", path, field="system")
        if wanted is not None and wanted not in systems:
            from harness.errors import unknown_name_error

            raise unknown_name_error("system in replay file", wanted, systems, path, None, "system")
        self._by_doc: dict[str, Prediction] = {p.doc_id: p for p in predictions if wanted in (None, p.system)}

    def fingerprint(self) -> str:
        return self._sha256

    def _get(self, doc: Source) -> Prediction:
        prediction = self._by_doc.get(doc.doc_id)
        if prediction is None:
            raise AdapterError(f"no prediction for document {doc.doc_id} in {self.settings['path']}")
        if prediction.failure:
            raise AdapterError(f"recorded as failed: {prediction.failure}")
        return prediction

    def summarize(self, doc: Source) -> str:
        prediction = self._get(doc)
        if prediction.summary is None:
            raise AdapterError(f"the prediction for {doc.doc_id} has no summary")
        return prediction.summary

    def extract_claims(self, doc: Source):
        prediction = self._get(doc)
        if prediction.claims is None:
            raise AdapterError(f"the prediction for {doc.doc_id} has no claims")
        return list(prediction.claims)
