"""Rows of a dataset -> token ids and next-token targets.

SFT (`messages`, TRL conversational format): the conversation is rendered with the
tokenizer's own chat template and only assistant turns are learned, each through its
closing end-of-turn token, so the model learns to answer and to stop, never to write the
documents or the questions. Pretrain (`text`): every token is learned; long texts are cut
into windows of `max_length`.

Targets are shifted here, per sample (`targets[t]` is the token after position t), so
that packing several samples into one row can never make one predict the next.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from functools import cached_property
from typing import Iterable, Sequence

import numpy as np

IGNORE = -100
PHASES = ("sft", "pretrain")


@dataclass(frozen=True, eq=False)
class Example:
    """One training sample: `input_ids` and aligned next-token `targets` (IGNORE = no
    loss), int32 arrays: a few thousand 32k samples stay a few GB in memory."""

    input_ids: np.ndarray
    targets: np.ndarray

    @classmethod
    def shifted(cls, input_ids: Sequence[int], learned: Sequence[bool]) -> "Example":
        """targets[t] = input_ids[t + 1] where that token is learned, else IGNORE."""
        ids = np.asarray(input_ids, dtype=np.int32)
        targets = np.full_like(ids, IGNORE)
        targets[:-1] = np.where(np.asarray(learned[1:], dtype=bool), ids[1:], IGNORE)
        return cls(ids, targets)

    def __len__(self) -> int:
        return len(self.input_ids)

    @cached_property
    def num_targets(self) -> int:
        return int((self.targets != IGNORE).sum())


def end_of_turn(tokenizer) -> str:
    """What the chat template writes right after an assistant reply (`<|im_end|>` in ChatML)."""
    probe = "LONGDATA-PROBE-REPLY"
    text = tokenizer.apply_chat_template([{"role": "user", "content": "?"}, {"role": "assistant", "content": probe}],
                                         tokenize=False)
    return text[text.rindex(probe) + len(probe):].strip()


def assistant_spans(messages: Sequence[dict], tokenizer) -> tuple[str, list[tuple[int, int]]]:
    """The rendered conversation and the character span of each assistant reply: its
    content through the end-of-turn token that follows it.

    Each message's content is looked up in the rendering after the previous one, so a
    reply quoting a document is never matched inside the documents, and template
    decorations around a reply (role headers, Qwen3's empty think block) stay unlearned.
    Raises ValueError when a content is not rendered verbatim.
    """
    text = tokenizer.apply_chat_template(list(messages), tokenize=False)
    end = end_of_turn(tokenizer)
    spans, cursor = [], 0
    for message in messages:
        start = text.find(message["content"], cursor)
        if start < 0:
            raise ValueError(f"the chat template does not render this {message['role']} turn verbatim")
        cursor = start + len(message["content"])
        if message["role"] == "assistant":
            if not text[cursor:].lstrip().startswith(end):
                raise ValueError("no end-of-turn token after an assistant turn")
            cursor = text.index(end, cursor) + len(end)
            spans.append((start, cursor))
    return text, spans


def encode_chat(messages: Sequence[dict], tokenizer) -> Example:
    """Token ids of the rendered conversation; targets only on assistant replies."""
    text, spans = assistant_spans(messages, tokenizer)
    encoded = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)
    learned = [any(lo <= start < hi for lo, hi in spans) for start, _ in encoded["offset_mapping"]]
    return Example.shifted(encoded["input_ids"], learned)


def encode_text(text: str, tokenizer, max_length: int) -> list[Example]:
    """Plain LM windows of at most `max_length` tokens over one text."""
    ids = tokenizer(text, add_special_tokens=False)["input_ids"]
    windows = (ids[i:i + max_length] for i in range(0, len(ids), max_length))
    return [Example.shifted(w, [True] * len(w)) for w in windows]


def encode_rows(rows: Iterable[dict], tokenizer, phase: str, max_length: int) -> tuple[list[Example], Counter]:
    """Encode a dataset; samples with no targets or longer than `max_length` (SFT) are
    skipped and counted, never truncated (a cut answer teaches a wrong ending)."""
    if phase not in PHASES:
        raise ValueError(f"phase must be one of {PHASES}, got {phase!r}")
    examples: list[Example] = []
    counts: Counter = Counter()
    for row in rows:
        counts["rows"] += 1
        if phase == "pretrain":
            encoded = encode_text(row["text"], tokenizer, max_length)
        else:
            try:
                encoded = [encode_chat(row["messages"], tokenizer)]
            except ValueError:
                counts["skipped_not_rendered"] += 1
                continue
            if len(encoded[0]) > max_length:
                counts["skipped_too_long"] += 1
                continue
        for example in encoded:
            if example.num_targets == 0:
                counts["skipped_no_labels"] += 1
                continue
            examples.append(example)
            counts["samples"] += 1
    return examples, counts
