"""Build cost vs the tokenizer-bound floor, for any dataset.

Builds a dataset (multidoc-paraphrase from the demo corpus by default; --dataset
book-summary or longdata-corpus, --corpus for real books) offline, then times tokenizing
the produced samples once (Qwen, chat template for conversations, one thread): the floor
any build must pay, since every sample's length is checked exactly once. Reports

  build   = documents -> samples -> Arrow (the builder), / floor   (target <= 2.0)
  publish = parquet shards + card statistics + plots
  total   = build + publish, / floor

and the peak resident memory of the process. One-time start-up loads (tokenizer
vocabulary, jieba dictionaries, matplotlib's font cache) happen before the clock starts.

    python bench/assembly.py --lang zh
    python bench/assembly.py --dataset book-summary --lang zh --corpus ../shared/corpora/zh_books/红楼梦.chapters.jsonl
    python bench/assembly.py --dataset longdata-corpus --lang zh --corpus ../shared/corpora/zh_books/红楼梦.txt
"""
from __future__ import annotations

import argparse
import resource
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
    p.add_argument("--dataset", default="multidoc-paraphrase")
    cli = p.parse_args()

    from longdata.generate import build_config, builder_cache, manifest_for
    from longdata.publish import publish_config
    from longdata.stats import png
    from longdata.tasks import get_task
    from longdata.tokens import get_counter

    task = get_task(cli.dataset)
    cfg = task.Config(lang=cli.lang, max_tokens=cli.max_tokens, corpus=tuple(cli.corpus), num_samples=cli.num_samples)
    resolver = task.resolver(cfg, None, None)
    if resolver is not None and hasattr(resolver, "warm_up"):
        resolver.warm_up(cli.lang)
    counter = get_counter("qwen")
    if cli.lang == "zh":
        from longdata.text import word_count

        word_count("预热", "zh")  # jieba's dictionary
    png(lambda ax: ax.plot([0, 1]))
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        t0 = time.perf_counter()
        splits, builder, report = build_config(task, cfg, out, resolver=resolver, num_proc=cli.num_proc)
        t1 = time.perf_counter()
        publish_config(out / task.name, task.name, cfg.config_name, splits, manifest_for(task, cfg, splits, report, resolver, {}))
        t2 = time.perf_counter()
        column = "messages" if "messages" in task.features else "text"
        rows = [m for split in splits.values() for m in split[column]]
        t3 = time.perf_counter()
        tokens = sum(counter.count_chat(m) if column == "messages" else counter.count(m) for m in rows)
        floor = time.perf_counter() - t3
        shutil.rmtree(builder_cache(out, task.name, cfg.config_name))
    build, publish = t1 - t0, t2 - t1
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\n$ python bench/assembly.py {shlex.join(sys.argv[1:])}")
    print(f"{task.name}: samples {len(rows)}, tokens {tokens}")
    print(f"tokenize once (floor)  {floor:.2f}s  ({tokens / floor / 1e6:.2f} M tokens/s)")
    print(f"build                  {build:.2f}s  ratio {build / floor:.2f}  (target <= 2.0)")
    print(f"publish                {publish:.2f}s")
    print(f"build + publish        {build + publish:.2f}s  ratio {(build + publish) / floor:.2f}")
    print(f"peak memory            {peak:.0f} MB")


if __name__ == "__main__":
    main()
