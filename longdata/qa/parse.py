"""Read a model's QA reply: a JSON object, or tagged fields when the model ignored the format.

Small slips (code fences, prose around the object, trailing commas, capitalised keys) are
read as they are; a reply that shows some structure but still lacks a field is a *near
miss*, worth one follow-up request that asks the model to fix its format.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass

FIELDS = ("question", "quote", "answer")
CUES = "cues"  # 2-4 terms of the quote that single out its passage: a list, or a comma-separated string

_FENCE = re.compile(r"```(?:json)?\s*(.*?)```", re.S | re.I)
_TRAILING_COMMA = re.compile(r",\s*([}\]])")
_TAG = re.compile(r"<(question|quote|answer|cues)>(.*?)</\1>", re.S | re.I)
_LABEL = re.compile(r"^[ \t]*[*#]*[ \t]*(question|quote|answer|cues)[ \t]*[*]*[ \t]*[:：]", re.M | re.I)
_CUE_SPLIT = re.compile(r"[,，、;；\n]+")


@dataclass(frozen=True)
class ParsedQA:
    question: str
    quote: str
    answer: str
    cues: tuple[str, ...] = ()


@dataclass(frozen=True)
class FormatError:
    """Why a reply could not be read; `near_miss`: it has structure a repair can fix."""

    message: str
    near_miss: bool


def parse_qa_reply(text: str | None) -> ParsedQA | FormatError:
    if not text or not text.strip():
        return FormatError("empty reply", near_miss=False)
    fenced = _FENCE.search(text)
    body = fenced.group(1) if fenced else text
    obj = _json_object(body)
    fields = {str(k).strip().lower(): v for k, v in obj.items()} if obj is not None else _tagged(body)
    missing = [f for f in FIELDS if not isinstance(fields.get(f), str) or not fields[f].strip()]
    cues = _cues(fields.get(CUES))
    if len(cues) < 2 and not missing:
        missing = [CUES]
    if missing:
        what = "no JSON object" if obj is None and not fields else f"missing or empty fields: {', '.join(missing)}"
        return FormatError(what, near_miss=obj is not None or bool(fields) or "{" in body)
    return ParsedQA(*(fields[f].strip() for f in FIELDS), cues=cues)


def _cues(value) -> tuple[str, ...]:
    """Distinct non-empty cue strings, in order, from a list or a comma-separated string."""
    items = value if isinstance(value, list) else _CUE_SPLIT.split(value) if isinstance(value, str) else []
    out: list[str] = []
    for item in items:
        cue = str(item).strip().strip("\"'“”「」")
        if cue and cue not in out:
            out.append(cue)
    return tuple(out)


def _json_object(body: str) -> dict | None:
    start, end = body.find("{"), body.rfind("}")
    if start < 0 or end <= start:
        return None
    raw = body[start:end + 1]
    for candidate in (raw, _TRAILING_COMMA.sub(r"\1", raw)):
        try:
            obj = json.loads(candidate)
        except json.JSONDecodeError:
            continue
        return obj if isinstance(obj, dict) else None
    return None


def _tagged(body: str) -> dict[str, str]:
    """`<quote>...</quote>` tags, or `Quote: ...` labels each running to the next label."""
    tags = {m.group(1).lower(): m.group(2) for m in _TAG.finditer(body)}
    if tags:
        return tags
    labels = list(_LABEL.finditer(body))
    return {m.group(1).lower(): body[m.end():nxt.start() if nxt else len(body)].strip()
            for m, nxt in zip(labels, labels[1:] + [None])}
