"""Shared pieces of the trainer tests: a tiny tokenizer and model, small conversations,
and the demo dataset built by `longdata.generate` (no Hub downloads anywhere)."""
from __future__ import annotations

import atexit
import random
import shutil
import tempfile
from functools import lru_cache
from pathlib import Path

from longdata.trainer.tiny import tiny_model, tiny_tokenizer

WORDS = ("document river quote answer question context library garden window market "
         "according evidence paragraph chapter morning history village letter").split()
ZH = "根据文档的原文回答问题长上下文训练数据模型"
BASE_TEXT = [" ".join(WORDS), ZH, 'According to Document [7]: "the river"', "You are a helpful assistant."]


@lru_cache(maxsize=None)
def tokenizer():
    """A tiny ChatML tokenizer trained on the test vocabulary."""
    return tiny_tokenizer(BASE_TEXT * 20, vocab_size=512)


def model(seed: int = 0, max_position_embeddings: int = 4096):
    return tiny_model(tokenizer(), seed, max_position_embeddings).eval()


def sentence(rng: random.Random, n: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(n))


def conversation(seed: int, turns: int = 2, words: int = 20) -> list[dict]:
    """User/assistant turns of random words (some Chinese), of varied length."""
    rng = random.Random(seed)
    messages = []
    for _ in range(turns):
        messages.append({"role": "user", "content": sentence(rng, rng.randint(words, 3 * words))})
        answer = f'According to Document [{rng.randint(1, 9)}]: "{sentence(rng, rng.randint(3, words))}" '
        messages.append({"role": "assistant", "content": answer + ZH[: rng.randint(1, len(ZH))]})
    return messages


@lru_cache(maxsize=None)
def demo_dataset() -> Path:
    """The English multidoc-paraphrase demo (8 samples, 2048 tokens), built once per run."""
    from longdata.generate import main as generate

    out = Path(tempfile.mkdtemp(prefix="longdata-demo-"))
    atexit.register(shutil.rmtree, out, ignore_errors=True)
    assert generate(["--lang", "en", "--out", str(out), "--max-tokens", "2048", "--num-samples", "8"]) == 0
    return out / "multidoc-paraphrase"


def load_demo(folder: Path):
    from datasets import get_dataset_config_names, load_dataset

    return load_dataset(str(folder), get_dataset_config_names(str(folder))[0], split="train")
