"""Authoring aid: resolve an annotator's quotes and line ranges into verified character offsets.

Annotators quote evidence (whitespace may be collapsed) and give regions as line ranges; this turns
them into exact `spans`/`start`/`end` and rewrites each quote as the article's exact text. It never
creates a claim: it only locates what a person quoted.
"""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from harness.errors import UserError
from harness.io import LineDict, atomic_write, line_of, read_text, read_yaml


def _line_offsets(text: str) -> list[int]:
    offsets = [0]
    for match in re.finditer("\n", text):
        offsets.append(match.end())
    return offsets


def region_range(text: str, first: int, last: int) -> tuple[int, int]:
    """Characters of lines first..last (1-based, inclusive), without surrounding whitespace."""
    offsets = _line_offsets(text)
    start = offsets[first - 1]
    end = offsets[last] - 1 if last < len(offsets) else len(text)
    chunk = text[start:end]
    lead = len(chunk) - len(chunk.lstrip())
    trail = len(chunk) - len(chunk.rstrip())
    return start + lead, end - trail


def locate(text: str, quote: str, story: list[tuple[int, int]]) -> tuple[int, int] | None:
    """The span of `quote` in `text`, whitespace-insensitive, preferring an occurrence inside the story."""
    words = quote.split()
    if not words:
        return None
    pattern = re.compile(r"\s+".join(re.escape(w) for w in words))
    hits = [(m.start(), m.end()) for m in pattern.finditer(text)]
    inside = [h for h in hits if any(a <= h[0] and h[1] <= b for a, b in story)]
    chosen = inside or hits
    return chosen[0] if chosen else None


def fill_spans(annotation_path: Path, article_path: Path) -> int:
    """Rewrite one annotation file with resolved offsets; returns the number of spans resolved."""
    ann = read_yaml(annotation_path)
    text = read_text(article_path)
    regions = []
    for region in ann.get("regions") or []:
        if "lines" in region:
            start, end = region_range(text, *region["lines"])
            region = {"start": start, "end": end, "label": region["label"],
                      **({"note": region["note"]} if region.get("note") else {})}
        regions.append(dict(region))
    story = [(r["start"], r["end"]) for r in regions if r["label"] in ("headline", "body")]
    resolved = 0
    claims = []
    for claim in ann.get("claims") or []:
        spans, quotes = [], []
        for quote in claim.get("evidence") or []:
            span = locate(text, quote, story)
            if span is None:
                raise UserError(f"claim {claim.get('id')}: quote not found: {quote[:60]!r}",
                                annotation_path, line_of(claim), "evidence")
            spans.append(list(span))
            quotes.append(text[span[0]:span[1]])
            resolved += 1
        claims.append({**dict(claim), "evidence": quotes, "spans": spans})
    out = {k: v for k, v in dict(ann).items() if k not in ("regions", "claims")}
    out = {"doc_id": out.pop("doc_id"), "regions": regions, "claims": claims, **out}
    atomic_write(annotation_path, dump_annotation(out))
    return resolved


class _FlowDumper(yaml.SafeDumper):
    pass


def _represent_list(dumper: yaml.SafeDumper, data: list):
    flow = all(not isinstance(x, (dict, list)) for x in data) or all(
        isinstance(x, list) and all(not isinstance(y, (dict, list)) for y in x) for x in data)
    return dumper.represent_sequence("tag:yaml.org,2002:seq", data, flow_style=flow)


def _represent_dict(dumper: yaml.SafeDumper, data: dict):
    flow = all(not isinstance(v, (dict, list)) for v in data.values()) and len(data) <= 5 and len(str(data.get("text", ""))) < 40
    return dumper.represent_mapping("tag:yaml.org,2002:map", data.items(), flow_style=flow)


_FlowDumper.add_representer(list, _represent_list)
_FlowDumper.add_representer(dict, _represent_dict)
_FlowDumper.add_representer(LineDict, _represent_dict)


def dump_annotation(data: dict) -> str:
    """Readable YAML: flow style for short records, free-text notes as a literal block."""
    data = dict(data)
    notes = data.pop("notes", None)
    out = yaml.dump(data, Dumper=_FlowDumper, sort_keys=False, allow_unicode=True, width=110)
    if notes:
        out += "notes: |\n" + "".join(f"  {line}\n" if line else "\n" for line in str(notes).strip().split("\n"))
    return out
