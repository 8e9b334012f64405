"""Synthetic multidoc rows and splits for the publishing tests (shape of FEATURES, no model),
and a fixture that forbids network access."""
from __future__ import annotations

import random
import socket

import datasets
import pytest

from longdata.tasks import TASKS

FEATURES = TASKS["multidoc-paraphrase"].features

MANIFEST = {  # the shape longdata.generate writes
    "version": "0.1.0",
    "config": "zh-8k",
    "settings": {"seed": 7, "max_tokens": 8192, "group_size": 12},
    "generator": "extractive",
    "prompt_hashes": {"en/qa.txt": "b" * 64, "zh/qa.txt": "a" * 64},
    "inputs": {"demo.jsonl": "c" * 64},
    "counts": {"samples": {"train": 12}},
}


def row(key: str, lang: str, rng: random.Random, content_chars: int = 300) -> dict:
    """One sample: a numbered-documents prompt, two turns, the second sometimes unanswerable."""
    num_docs = rng.randint(8, 20)
    gold = [rng.randint(1, num_docs), rng.choice([0, rng.randint(1, num_docs)])]
    # Chinese characters, or hex for English (cheap enough for megabyte rows)
    body = ("".join(rng.choices("文档的原文回答问题根据", k=content_chars)) if lang == "zh"
            else rng.randbytes(content_chars // 2 + 1).hex()[:content_chars])
    quote = body[: max(1, content_chars // 10)]
    return {
        "id": key,
        "messages": [
            {"role": "user", "content": f"{body}\nQ1?"},
            {"role": "assistant", "content": f"[{gold[0]}] \"{quote}\" A1"},
            {"role": "user", "content": "Q2?"},
            {"role": "assistant", "content": "none" if gold[1] == 0 else f"[{gold[1]}] \"{quote}\" A2"},
        ],
        "lang": lang,
        "num_docs": num_docs,
        "gold_docs": gold,
        "gold_positions": [rng.random() if g else 0.0 for g in gold],
        "num_tokens": rng.randint(1000, 8000),
        "effective_ratio": rng.random(),
        "source_ids": [f"{lang}-doc-{rng.randrange(10**6)}" for _ in range(num_docs)],
        "generator": "extractive",
        "cues": [["cue-a", "cue-b"] for _ in gold],
        "gold_ranks": [rng.randint(1, num_docs) if g else 0 for g in gold],
    }


def make_splits(config: str, sizes: dict[str, int] | None = None, seed: int = 0, **row_kwargs) -> datasets.DatasetDict:
    """A DatasetDict for `config` (`<lang>-<budget>k`), deterministic in (config, seed)."""
    lang = config.split("-")[0]
    rng = random.Random(f"{config}/{seed}")
    sizes = sizes or {"train": 12, "validation": 3, "test": 3}
    return datasets.DatasetDict({
        split: datasets.Dataset.from_list(
            [row(f"{config}-{split}-{i}", lang, rng, **row_kwargs) for i in range(n)], features=FEATURES)
        for split, n in sizes.items()
    })


@pytest.fixture
def no_network(monkeypatch):
    """Any attempt to open a connection or resolve a host fails the test."""
    def refuse(*args, **kwargs):
        raise AssertionError(f"network access attempted: {args[1:] or kwargs}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
