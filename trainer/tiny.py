"""A tiny byte-level BPE tokenizer with Qwen's ChatML template and a random tiny Qwen2.

For smoke runs and tests that must not download anything: the whole path (chat template,
labels, packing, YaRN, LoRA, saving) runs on CPU in seconds.

    python -m longdata.trainer.tiny OUT_DIR DATASET [--config NAME]
    longdata train --model OUT_DIR --data DATASET ...
"""
from __future__ import annotations

import argparse
from typing import Iterable, Iterator

SPECIAL_TOKENS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
# Qwen2's template, default system turn included.
CHAT_TEMPLATE = (
    "{% for message in messages %}"
    "{% if loop.first and message['role'] != 'system' %}"
    "{{ '<|im_start|>system\\nYou are a helpful assistant.<|im_end|>\\n' }}{% endif %}"
    "{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>\\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"
)


def tiny_tokenizer(texts: Iterable[str], vocab_size: int = 1024):
    """A byte-level BPE trained on `texts`; any text encodes (bytes are the base vocabulary)."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    bpe = Tokenizer(models.BPE())
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    bpe.decoder = decoders.ByteLevel()
    bpe.train_from_iterator(texts, trainers.BpeTrainer(
        vocab_size=vocab_size, special_tokens=SPECIAL_TOKENS,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False))
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=bpe, eos_token="<|im_end|>",
                                        pad_token="<|endoftext|>")
    tokenizer.chat_template = CHAT_TEMPLATE
    return tokenizer


def tiny_model(tokenizer, seed: int = 0, max_position_embeddings: int = 32768):
    """A randomly initialised 2-layer Qwen2 (hidden 64, 4 heads, 2 KV heads)."""
    import torch
    from transformers import Qwen2Config, Qwen2ForCausalLM

    config = Qwen2Config(vocab_size=len(tokenizer), hidden_size=64, intermediate_size=128,
                         num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
                         max_position_embeddings=max_position_embeddings,
                         pad_token_id=tokenizer.pad_token_id, eos_token_id=tokenizer.eos_token_id,
                         bos_token_id=None, tie_word_embeddings=True)
    torch.manual_seed(seed)
    return Qwen2ForCausalLM(config)


def row_texts(rows: Iterable[dict]) -> Iterator[str]:
    """The text of each row: its `text`, or the contents of its `messages`."""
    for row in rows:
        if row.get("text"):
            yield row["text"]
        for message in row.get("messages") or []:
            yield message["content"]


def save_tiny(out_dir: str, texts: Iterable[str], seed: int = 0) -> None:
    """Write a tiny tokenizer and model to `out_dir`, loadable with `--model out_dir`."""
    tokenizer = tiny_tokenizer(texts)
    tiny_model(tokenizer, seed).save_pretrained(out_dir)
    tokenizer.save_pretrained(out_dir)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out_dir")
    parser.add_argument("data", help="dataset folder or Hub id whose text trains the tokenizer")
    parser.add_argument("--config", default=None)
    parser.add_argument("--split", default="train")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    from datasets import load_dataset

    save_tiny(args.out_dir, row_texts(load_dataset(args.data, args.config, split=args.split)), args.seed)
    print(f"tiny model and tokenizer written to {args.out_dir}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
