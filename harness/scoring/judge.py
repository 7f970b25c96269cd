"""A language model as the claim matcher: ask any OpenAI-compatible chat endpoint whether a candidate states
a gold claim, and score the pair 1.0 (yes) or 0.0 (no).

A request per pair is costly, so only plausible pairs are asked: the matching engine passes the pairs that
survive its vetoes and a lexical pre-filter (`prefilter`: the `top_k` most lexically similar gold claims per
candidate, above a small floor), which keeps the number of requests near linear in the candidates. Answers are
cached on disk like model outputs, keyed by model, prompt and pair, so a rerun sends no request. A transport
failure that outlasts the retries stops the scoring with an error: a pair scored without its answer would be
wrong silently.
"""

from __future__ import annotations

import hashlib
import re
import string
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from harness.errors import UserError
from harness.io import dumps_canonical
from harness.scoring.matching import LexicalSimilarity

PROMPT = """Does the candidate sentence state the fact below? The wording may differ and the candidate may add \
other details, but its numbers, dates, sources (who said it) and actors (who did what to whom) must agree with \
the fact, and it must not negate it.

Fact: $claim
Candidate: $candidate

Answer with one word: yes or no."""
# Sent with every request; part of the prompt's identity, since changing any of them changes the answers.
REQUEST = {"temperature": 0.0, "seed": 0, "max_tokens": 8}
PROMPT_HASH = hashlib.sha256(dumps_canonical({"prompt": PROMPT, "request": REQUEST}).encode("utf-8")).hexdigest()
TOP_K = 3
# Lexical similarity below which a pair is not worth asking about: every hand-labelled match in gold/matching/
# scores at least 0.26 and ranks in its candidate's top 3.
FLOOR = 0.10
CACHE_NAMESPACE = "judge"
CACHE_FORMAT = 1
_WORD = re.compile(r"[a-z]+")


def parse_verdict(answer: str) -> bool | None:
    """yes -> True, no -> False, anything else -> None.

    The first word decides when it is yes or no ("No, the figures differ."); otherwise the answer counts if it
    holds exactly one of the two words ("Answer: Yes"), and is unparseable if it holds both or neither.
    """
    words = _WORD.findall(answer.lower())
    if words and words[0] in ("yes", "no"):
        return words[0] == "yes"
    found = {w for w in words if w in ("yes", "no")}
    return found == {"yes"} if len(found) == 1 else None


def cache_key(model: str, candidate: str, claim: str) -> str:
    material = {"format": CACHE_FORMAT, "model": model, "prompt": PROMPT_HASH, "candidate": candidate, "claim": claim}
    return hashlib.sha256(dumps_canonical(material).encode("utf-8")).hexdigest()


def top_k_mask(lexical: np.ndarray, k: int = TOP_K, floor: float = FLOOR) -> np.ndarray:
    """Per row, the `k` highest scores at or above `floor` (ties to the earlier column)."""
    mask = np.zeros(lexical.shape, dtype=bool)
    if lexical.size and k > 0:
        best = np.argsort(-lexical, axis=1, kind="stable")[:, :k]
        np.put_along_axis(mask, best, True, axis=1)
    return mask & (lexical >= floor)


class JudgeSimilarity:
    """Scores (candidate, gold claim) pairs 1.0 or 0.0 by asking a chat model; `left` are candidates, `right` claims."""

    def __init__(self, gold_texts: Sequence[str], url: str, model: str, api_key_env: str | None = None,
                 cache_dir: str | Path | None = None, top_k: int = TOP_K, floor: float = FLOOR):
        from harness.adapters.openai_compatible import ChatClient, is_http_url, read_api_key
        from harness.cache import Cache

        if not is_http_url(url):
            raise UserError(f"must start with http:// or https://, got {url!r}", field="judge_url")
        self.url, self.model, self.top_k, self.floor = url, model, top_k, floor
        self.name = f"judge({model},prompt:{PROMPT_HASH[:8]},top{top_k}>={floor:.2f})"
        self._secret = read_api_key(api_key_env, "judge_api_key_env")
        self._client = ChatClient(url, self._secret)
        self._cache = Cache(Path(cache_dir)) if cache_dir is not None else None
        self._lexical = LexicalSimilarity(gold_texts)
        self._verdicts: dict[tuple[str, str], bool] = {}
        self.requests = 0
        self.request_seconds = 0.0
        self.unparseable = 0

    def prefilter(self, left: Sequence[str], right: Sequence[str]) -> np.ndarray:
        """The pairs worth asking: each candidate's `top_k` most lexically similar texts above the floor."""
        return top_k_mask(self._lexical.matrix(left, right), self.top_k, self.floor)

    def matrix(self, left: Sequence[str], right: Sequence[str], ask: np.ndarray | None = None) -> np.ndarray:
        left, right = list(left), list(right)
        if ask is None:
            ask = self.prefilter(left, right)
        scores = np.zeros((len(left), len(right)))
        for i, j in zip(*np.nonzero(ask)):
            scores[i, j] = float(self.verdict(left[i], right[j]))
        return scores

    def verdict(self, candidate: str, claim: str) -> bool:
        """The model's answer for one pair: from memory, from the cache, or asked."""
        pair = (candidate, claim)
        if pair not in self._verdicts:
            answer = self._cached_answer(candidate, claim)
            if answer is None:
                answer = self._ask(candidate, claim)
            verdict = parse_verdict(answer)
            self.unparseable += verdict is None
            self._verdicts[pair] = bool(verdict)
        return self._verdicts[pair]

    def _cached_answer(self, candidate: str, claim: str) -> str | None:
        if self._cache is None:
            return None
        entry = self._cache.get(CACHE_NAMESPACE, cache_key(self.model, candidate, claim))
        answer = entry["output"].get("answer") if entry else None
        return answer if isinstance(answer, str) else None

    def _ask(self, candidate: str, claim: str) -> str:
        from harness.adapters.base import AdapterError
        from harness.adapters.openai_compatible import redact

        prompt = string.Template(PROMPT).substitute(claim=claim, candidate=candidate)
        body = {"model": self.model, "messages": [{"role": "user", "content": prompt}], **REQUEST}
        started = time.perf_counter()
        try:
            answer = self._client.complete(body)
        except AdapterError as err:
            message = redact(" ".join(str(err).split()), self._secret)
            raise UserError(f"the judge endpoint {self.url} (model {self.model}) failed: {message}") from None
        self.request_seconds += time.perf_counter() - started
        self.requests += 1
        answer = redact(answer, self._secret)
        if self._cache is not None:
            self._cache.put(CACHE_NAMESPACE, cache_key(self.model, candidate, claim),
                            {"output": {"answer": answer}, "model": self.model, "prompt": PROMPT_HASH})
        return answer

    def stats(self) -> dict:
        """What the judge did in this process, for the report: pairs judged, requests sent, unparseable answers."""
        return {"model": self.model, "url": self.url, "pairs": len(self._verdicts), "requests": self.requests,
                "from_cache": len(self._verdicts) - self.requests, "unparseable": self.unparseable,
                "seconds_per_request": self.request_seconds / self.requests if self.requests else None}

    def close(self) -> None:
        self._client.close()
