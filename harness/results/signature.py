"""The scoring signature: every setting that changes a number, as one `key:value|key:value|…` string.

Results files carry the string (so a table can print it and a database can key on it); code reads and
builds it only through `Signature`, which knows the keys, their order and how each value is spelled.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

# (key in the string, field of Signature), in the order the string lists them
_KEYS: tuple[tuple[str, str], ...] = (
    ("harness", "harness"), ("gold", "gold"), ("rouge", "rouge"), ("tok", "tokenizer"), ("stem", "stemmer"),
    ("multiref", "multi_ref"), ("impl", "rouge_impl"), ("split", "splitter"), ("matcher", "matcher"),
    ("thr", "threshold"), ("veto", "vetoes"), ("cov", "coverage"), ("covthr", "coverage_threshold"),
    ("boot", "bootstrap"), ("seed", "seed"),
)
NO_VETOES = "none"


@dataclass(frozen=True)
class Signature:
    """What a score depends on besides the predictions; two runs compare only when these agree (gold aside)."""

    harness: str  # harness version
    gold: str  # first 12 hex digits of the gold corpus hash
    rouge: tuple[str, ...]  # ROUGE variants, e.g. ("rouge1", "rouge2", "rougeL", "rougeLsum")
    tokenizer: str
    stemmer: str  # "porter" or "no"
    multi_ref: str  # "max" or "mean"
    rouge_impl: str  # e.g. "rouge-score-0.1.2"
    splitter: str  # sentence splitter, e.g. "pysbd-0.3.4"
    matcher: str  # e.g. "lexical(concept-recall)", or a judge's model and prompt
    threshold: float
    vetoes: tuple[str, ...]
    coverage: str  # how summary coverage is decided ("matcher")
    coverage_threshold: float
    bootstrap: int
    seed: int

    def parts(self) -> tuple[str, ...]:
        """Each `key:value`, in order."""
        return tuple(f"{key}:{self._spell(name)}" for key, name in _KEYS)

    def __str__(self) -> str:
        return "|".join(self.parts())

    def __format__(self, spec: str) -> str:
        return format(str(self), spec)

    def differences(self, other: Signature, ignore: tuple[str, ...] = ("gold",)) -> list[str]:
        """`thr:0.45 vs thr:0.50` for each setting that differs (the gold hash is compared on its own)."""
        skipped = {i for i, (key, _) in enumerate(_KEYS) if key in ignore}
        return [f"{a} vs {b}" for i, (a, b) in enumerate(zip(self.parts(), other.parts()))
                if i not in skipped and a != b]

    def _spell(self, name: str) -> str:
        value = getattr(self, name)
        if name == "rouge":
            return "+".join(value)
        if name == "vetoes":
            return ",".join(value) or NO_VETOES
        if name in ("threshold", "coverage_threshold"):
            return f"{float(value):.2f}"
        return str(value)

    @classmethod
    def parse(cls, text: str) -> Signature:
        """The signature a results file carries; ValueError naming the first part that does not fit."""
        parts = text.split("|") if isinstance(text, str) else []
        if len(parts) != len(_KEYS):
            raise ValueError(f"not a harness scoring signature: expected {len(_KEYS)} key:value parts "
                             f"({'|'.join(key for key, _ in _KEYS)}), got {len(parts)}")
        types = {f.name: f.type for f in fields(cls)}
        values = {}
        for part, (key, name) in zip(parts, _KEYS):
            found, sep, raw = part.partition(":")
            if found != key or not sep:
                raise ValueError(f"not a harness scoring signature: expected {key}:… where it has {part!r}")
            values[name] = _read(raw, types[name], key)
        return cls(**values)


def _read(raw: str, kind: str, key: str):
    if kind == "tuple[str, ...]":
        if key == "veto":
            return () if raw == NO_VETOES else tuple(raw.split(","))
        return tuple(raw.split("+"))
    if kind in ("float", "int"):
        try:
            return float(raw) if kind == "float" else int(raw)
        except ValueError:
            raise ValueError(f"not a harness scoring signature: {key}:{raw} is not a number") from None
    return raw


def pairs_signature(harness: str, rouge_fields: dict, bootstrap: int, seed: int) -> str:
    """The signature of a pairs file's scores (`score --pairs`): no gold and no matcher, texts split as given,
    the Poisson bootstrap. It is not a `Signature` on purpose: such scores compare with no gold run's."""
    rouge = [f"{key}:{'+'.join(rouge_fields[name]) if name == 'rouge' else rouge_fields[name]}"
             for key, name in _KEYS if name in rouge_fields]
    return "|".join([f"harness:{harness}", "input:pairs", *rouge, "split:as-given", f"boot:{bootstrap}(poisson)",
                     f"seed:{seed}"])
