"""Chat records in the formats instruction data comes in, as one `messages` list.

Accepted: `messages` (`role`: system/user/assistant, `content`), ShareGPT
`conversations` (`from`: system/human/gpt, `value`) and Alpaca (`instruction`, `input`,
`output`, optional `system`). A record that cannot train a chat model (an unknown role,
an empty turn, two user turns in a row, no final assistant turn) is turned down with a
reason that names the turn, so the user can fix the file.
"""
from __future__ import annotations

import unicodedata

from .documents import SPECIAL_TOKEN_STRINGS
from .encodings import normalize_newlines

ROLES = {"system": "system", "user": "user", "assistant": "assistant",  # messages
         "human": "user", "gpt": "assistant", "chatgpt": "assistant"}  # ShareGPT


def _turns(rec: dict) -> list[tuple[object, object]] | str:
    """(role, content) pairs of a record in any accepted format, or why it has none."""
    if isinstance(rec.get("messages"), list):
        return [(m.get("role"), m.get("content")) if isinstance(m, dict) else (None, None) for m in rec["messages"]]
    if isinstance(rec.get("conversations"), list):
        return [(m.get("from"), m.get("value")) if isinstance(m, dict) else (None, None) for m in rec["conversations"]]
    if "instruction" in rec and "output" in rec:
        prompt = "\n\n".join(str(p) for p in (rec["instruction"], rec.get("input") or "") if str(p).strip())
        system = [("system", rec["system"])] if rec.get("system") else []
        return system + [("user", prompt), ("assistant", rec["output"])]
    keys = ", ".join(sorted(map(str, rec))[:8])
    return (f"unknown format: no `messages`, ShareGPT `conversations` or Alpaca `instruction`/`output` "
            f"(fields: {keys})")


def to_messages(rec: object) -> list[dict] | str:
    """The record as validated `messages` (texts NFC-normalised, as the documents' are, and
    stripped), or the reason it is rejected. Turns are numbered from 1; the text before
    a reason's first colon is what rejects are counted by."""
    if not isinstance(rec, dict):
        return f"not a JSON object: got {type(rec).__name__}"
    turns = _turns(rec)
    if isinstance(turns, str):
        return turns
    messages: list[dict] = []
    for n, (raw_role, content) in enumerate(turns, 1):
        role = ROLES.get(raw_role) if isinstance(raw_role, str) else None
        if role is None:
            return (f"unknown role: {raw_role!r} in turn {n}; use system/user/assistant (`messages`) or "
                    "system/human/gpt (ShareGPT)")
        if not isinstance(content, str):
            return f"turn not text: turn {n} ({role}) is {type(content).__name__}"
        content = unicodedata.normalize("NFC", normalize_newlines(content)).strip()
        if not content:
            return f"empty turn: turn {n} ({role}) has no text"
        if any(s in content for s in SPECIAL_TOKEN_STRINGS):
            return f"contains a chat special token: turn {n} holds one such as <|im_end|>"
        previous = messages[-1]["role"] if messages else None
        if role == "system" and messages:
            return f"system turn not first: turn {n}"
        if role == previous:
            return f"two {role} turns in a row: turns {n - 1} and {n}"
        if role == "assistant" and previous in (None, "system"):
            return f"starts with an assistant turn: turn {n}; the first turn must be the user's"
        messages.append({"role": role, "content": content})
    if not messages or messages[-1]["role"] != "assistant":
        return "no final assistant turn: the last turn must be the answer to learn from"
    return messages
