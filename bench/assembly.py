"""Build cost vs the tokenizer-bound floor.

Builds multidoc-paraphrase from the demo corpus (or --corpus) at a 32k budget with the
extractive generator, then times tokenizing the produced samples once (Qwen chat
template). Reports build wall time / tokenize time; the target is <= 2.0.

    python bench/assembly.py --lang zh
"""
from __future__ import annotations

import argparse
import shlex
import sys
import tempfile
import time
from pathlib import Path

from datasets import load_dataset


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--lang", default="zh", choices=["zh", "en"])
    p.add_argument("--corpus", action="append", default=[])
    p.add_argument("--num-samples", type=int, default=None, help="N: samples per split (default: all)")
    p.add_argument("--max-tokens", default="32768")
    p.add_argument("--num-proc", type=int, default=1)
    args = p.parse_args()

    from longdata.generate import main as generate
    from longdata.llm.extractive import _jieba_analyse
    from longdata.tokens import get_counter

    counter = get_counter("qwen")
    _jieba_analyse()  # one-time dictionary loads are start-up, not build, cost
    counter.count("warm up")
    from longdata.stats import _png

    _png(lambda ax: ax.plot([0, 1]))  # matplotlib's font cache, also a one-time load
    with tempfile.TemporaryDirectory() as out:
        cli = ["--lang", args.lang, "--out", out, "--max-tokens", args.max_tokens, "--num-proc", str(args.num_proc)]
        cli += [x for c in args.corpus for x in ("--corpus", c)]
        if args.num_samples:
            cli += ["--num-samples", str(args.num_samples)]
        t0 = time.perf_counter()
        generate(cli)
        build = time.perf_counter() - t0
        name = f"{args.lang}-{int(args.max_tokens.split(',')[0]) // 1024}k"
        ds = load_dataset(str(Path(out) / "multidoc-paraphrase"), name)
        rows = [m for split in ds.values() for m in split["messages"]]
        t0 = time.perf_counter()
        tokens = sum(counter.count_chat(m) for m in rows)
        floor = time.perf_counter() - t0
    print(f"\n$ python bench/assembly.py {shlex.join(sys.argv[1:])}")
    print(f"samples {len(rows)}, tokens {tokens}")
    print(f"build wall time     {build:.2f}s")
    print(f"tokenize once       {floor:.2f}s  ({tokens / floor / 1e6:.2f} M tokens/s)")
    print(f"ratio build/floor   {build / floor:.2f}  (target <= 2.0)")


if __name__ == "__main__":
    main()
