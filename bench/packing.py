"""Share of non-padding tokens: best-fit-decreasing packing vs padding to the longest
sample of a batch, on the 32k multidoc-paraphrase demos (or any dataset folder).

Tokens are counted with the real Qwen vocabulary and chat template
(`longdata.tokens.get_counter("qwen").count_chat`), so no Hugging Face tokenizer is needed.
Both strategies are measured the same way: rows (a packed row, or one sample) go
`--batch-size` to a forward pass, padded to the longest row of the batch. Packed rows
padded to the full `--max-length` (a fixed-shape run) are shown too.

    python bench/packing.py                      # builds the en and zh 32k demos first
    python bench/packing.py --data FOLDER --config NAME
"""
from __future__ import annotations

import argparse
import random
import shlex
import sys
from pathlib import Path

from longdata.tokens import get_counter
from longdata.trainer.packing import make_rows, non_padding_share

TARGET = 0.95


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--data", default=None, help="dataset folder; default: build the demos into --out")
    p.add_argument("--config", default=None, help="config of --data")
    p.add_argument("--lang", action="append", choices=["en", "zh"], help="demo language(s) to build (default: both)")
    p.add_argument("--num-samples", type=int, default=None, help="samples per demo (default: all)")
    p.add_argument("--out", default="bench/out", help="where the demos are built")
    p.add_argument("--max-length", type=int, default=32768, help="packed row length and token budget")
    p.add_argument("--batch-size", type=int, default=8, help="rows per forward pass")
    p.add_argument("--seed", type=int, default=0)
    return p.parse_args(argv)


def build_demo(lang: str, args: argparse.Namespace) -> tuple[Path, str]:
    """A demo dataset folder and its config, built with `longdata.generate`."""
    from longdata.builders import MultidocParaphraseConfig
    from longdata.generate import main as generate

    cli = ["--lang", lang, "--out", args.out, "--max-tokens", str(args.max_length), "--seed", str(args.seed)]
    cli += ["--num-samples", str(args.num_samples)] if args.num_samples else []
    print("data: python -m longdata.generate " + shlex.join(cli))
    if generate(cli) != 0:
        raise SystemExit("building the demo failed")
    return Path(args.out) / "multidoc-paraphrase", MultidocParaphraseConfig.name_for(lang, args.max_length)


def load_lengths(folder: Path, config: str | None) -> list[int]:
    from datasets import load_dataset

    counter = get_counter("qwen")
    return [counter.count_chat(m) for m in load_dataset(str(folder), config, split="train")["messages"]]


def share(lengths: list[int], args: argparse.Namespace, packing: bool, sorted_batching: bool = False,
          fixed_rows: bool = False) -> tuple[float, int]:
    """Non-padding share and forward passes when rows go --batch-size at a time, each
    batch padded to its longest row (or every row to --max-length with `fixed_rows`)."""
    rows = make_rows(lengths, args.max_length, packing, sorted_batching, args.batch_size, random.Random(args.seed))
    batches = [rows[i:i + args.batch_size] for i in range(0, len(rows), args.batch_size)]
    return non_padding_share([batches], lengths, args.max_length if fixed_rows else None), len(batches)


def report(name: str, lengths: list[int], args: argparse.Namespace) -> bool:
    """Print the table for one dataset; True when packing meets the target."""
    kept = [n for n in lengths if n <= args.max_length]
    b, m = args.batch_size, args.max_length
    print(f"\n{name}: {len(lengths)} samples ({len(lengths) - len(kept)} longer than {m} left out); "
          f"Qwen tokens min {min(kept)}, mean {sum(kept) / len(kept):.0f}, max {max(kept)}; "
          f"{sum(n > m // 2 for n in kept)} are over half a row, so no two of those share one")
    results = [
        (f"padding, random batches of {b} samples", *share(kept, args, packing=False)),
        (f"padding, length-sorted batches of {b} samples", *share(kept, args, packing=False, sorted_batching=True)),
        (f"packing into {m}, every row padded to {m}", *share(kept, args, packing=True, fixed_rows=True)),
        (f"packing into {m}, batches of {b} rows", *share(kept, args, packing=True)),
    ]
    print(f"{'strategy':<50} {'forwards':>8} {'non-padding share':>18}")
    for label, value, forwards in results:
        print(f"{label:<50} {forwards:>8} {value:>17.1%}")
    met = results[-1][1] >= TARGET
    print(f"packing {'meets' if met else 'misses'} the {TARGET:.0%} target")
    return met


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    datasets = ([(Path(args.data), args.config)] if args.data
                else [build_demo(lang, args) for lang in args.lang or ["en", "zh"]])
    for folder, config in datasets:
        report(f"{folder} {config or ''}".strip(), load_lengths(folder, config), args)
    print("\ncommand: " + shlex.join(["python", "bench/packing.py", *(sys.argv[1:] if argv is None else argv)]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
