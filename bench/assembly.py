"""Build cost vs the tokenizer-bound floor.

Builds multidoc-paraphrase from the demo corpus (or --corpus) at a 32k budget with the
extractive generator, then times tokenizing the produced samples once (Qwen chat
template, one thread): the floor any build must pay, since every sample's length is
checked exactly once. Reports

  build   = documents -> samples -> Arrow (the builder), / floor   (target <= 2.0)
  publish = parquet shards + card statistics + plots
  total   = build + publish, / floor

One-time start-up loads (tokenizer vocabulary, jieba dictionaries, matplotlib's font
cache) happen before the clock starts.

    python bench/assembly.py --lang zh
"""
from __future__ import annotations

import argparse
import shlex
import shutil
import sys
import tempfile
import time
from pathlib import Path


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--lang", default="zh", choices=["zh", "en"])
    p.add_argument("--corpus", action="append", default=[])
    p.add_argument("--num-samples", type=int, default=None, help="N: samples per split (default: all)")
    p.add_argument("--max-tokens", type=int, default=32768)
    p.add_argument("--num-proc", type=int, default=1)
    cli = p.parse_args()

    from longdata.data import demo_corpus
    from longdata.documents import corpus_files
    from longdata.generate import build_config, builder_cache, manifest_for, parse_args
    from longdata.qa.extractive import ExtractiveGenerator
    from longdata.publish import publish_config
    from longdata.stats import _png
    from longdata.tokens import get_counter

    generator = ExtractiveGenerator()
    generator.warm_up(cli.lang)
    counter = get_counter("qwen")
    _png(lambda ax: ax.plot([0, 1]))
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        argv = ["--lang", cli.lang, "--out", tmp, "--max-tokens", str(cli.max_tokens), "--num-proc", str(cli.num_proc)]
        argv += [x for c in cli.corpus for x in ("--corpus", c)]
        argv += ["--num-samples", str(cli.num_samples)] if cli.num_samples else []
        args = parse_args(argv)
        files = corpus_files(cli.corpus) if cli.corpus else [demo_corpus(cli.lang)]
        t0 = time.perf_counter()
        splits, builder, rejects = build_config(args, cli.max_tokens, generator, files, out)
        t1 = time.perf_counter()
        publish_config(out / builder.NAME, builder.NAME, builder.config.name, splits,
                       manifest_for(args, builder, splits, rejects, generator, {}))
        t2 = time.perf_counter()
        rows = [m for split in splits.values() for m in split["messages"]]
        t3 = time.perf_counter()
        tokens = sum(counter.count_chat(m) for m in rows)
        floor = time.perf_counter() - t3
        shutil.rmtree(builder_cache(out, builder.config.name))
    build, publish = t1 - t0, t2 - t1
    print(f"\n$ python bench/assembly.py {shlex.join(sys.argv[1:])}")
    print(f"samples {len(rows)}, tokens {tokens}")
    print(f"tokenize once (floor)  {floor:.2f}s  ({tokens / floor / 1e6:.2f} M tokens/s)")
    print(f"build                  {build:.2f}s  ratio {build / floor:.2f}  (target <= 2.0)")
    print(f"publish                {publish:.2f}s")
    print(f"build + publish        {build + publish:.2f}s  ratio {(build + publish) / floor:.2f}")


if __name__ == "__main__":
    main()
