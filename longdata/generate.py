"""`python -m longdata.generate`: build multidoc-paraphrase into a Hub-shaped folder.

With no flags it builds the Chinese demo corpus with the offline extractive generator
into ./longdata-out; no API key and no network needed.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import logging
import sys
import tempfile
import time
from dataclasses import asdict
from pathlib import Path

import datasets

from . import __version__
from .data import demo_corpus
from .documents import RejectLog
from .llm.extractive import ExtractiveGenerator
from .prompts import prompt_hashes
from .publish import publish_config
from .summary import print_summary


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m longdata.generate", description=__doc__,
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--lang", choices=["zh", "en"], default="zh", help="language of the samples")
    p.add_argument("--corpus", action="append", default=[],
                   help="corpus file or folder (.jsonl, .jsonl.gz, .parquet, .txt); repeatable; default: bundled demo corpus")
    p.add_argument("--out", default="longdata-out", help="output folder; the dataset goes to OUT/multidoc-paraphrase")
    p.add_argument("--max-tokens", default="32768", help="token budget per sample; a comma list builds one config each")
    p.add_argument("--group-size", type=int, default=100, help="documents per group that samples draw from")
    p.add_argument("--turns", type=int, default=5, help="QA turns per sample")
    p.add_argument("--num-samples", type=int, default=None, help="at most this many samples per split")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--num-proc", type=int, default=1, help="worker processes (the output is identical for any value)")
    p.add_argument("--unanswerable-ratio", type=float, default=0.1,
                   help="share of turns whose gold document is left out of the context")
    p.add_argument("--validation-ratio", type=float, default=0.05, help="share of source documents for validation")
    p.add_argument("--test-ratio", type=float, default=0.05, help="share of source documents for test")
    p.add_argument("--text-field", default="text", help="JSON/parquet field holding the document text")
    p.add_argument("--id-field", default="id", help="field holding the document id (derived from the text when absent)")
    p.add_argument("--tokenizer", default="qwen", help="`qwen` (offline), or a Hugging Face tokenizer name or path")
    args = p.parse_args(argv)
    try:
        args.max_tokens = [int(x) for x in str(args.max_tokens).split(",") if x.strip()]
    except ValueError:
        p.error(f"--max-tokens takes integers separated by commas, got {args.max_tokens!r}")
    if not args.max_tokens or min(args.max_tokens) < 1024:
        p.error("--max-tokens must be at least 1024")
    return args


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    from .builders import MultidocParaphrase, MultidocParaphraseConfig
    from .documents import corpus_files

    generator = ExtractiveGenerator()
    out = Path(args.out)
    repo_dir = out / MultidocParaphrase.NAME
    files = corpus_files(args.corpus) if args.corpus else [demo_corpus(args.lang)]
    input_hashes = {f.name: file_sha256(f) for f in files}
    for max_tokens in args.max_tokens:
        name = MultidocParaphraseConfig.name_for(args.lang, max_tokens)
        rejects = RejectLog(out / "rejects" / f"{MultidocParaphrase.NAME}-{name}.jsonl")
        started = time.time()
        with tempfile.TemporaryDirectory(prefix="longdata-") as cache:
            builder = MultidocParaphrase(
                config_name=name, cache_dir=cache, generator=generator, rejects=rejects,
                lang=args.lang, max_tokens=max_tokens, corpus=tuple(str(f) for f in files),
                group_size=args.group_size, turns=args.turns, seed=args.seed, num_samples=args.num_samples,
                unanswerable_ratio=args.unanswerable_ratio, validation_ratio=args.validation_ratio,
                test_ratio=args.test_ratio, text_field=args.text_field, id_field=args.id_field,
                tokenizer=args.tokenizer, num_proc=args.num_proc)
            try:
                builder.download_and_prepare()
            except Exception as err:  # datasets wraps our errors; show the cause plainly
                cause = err.__cause__ or err
                print(f"error: {cause}", file=sys.stderr)
                return 2
            finally:
                rejects.close()
            splits = datasets.DatasetDict({k: v for k, v in builder.as_dataset().items() if len(v)})
            manifest = {
                "package": "longdata", "version": __version__, "dataset": MultidocParaphrase.NAME, "config": name,
                "settings": {k: v for k, v in asdict(builder.config).items()
                             if k not in ("name", "version", "data_dir", "data_files", "description", "corpus", "num_proc")},
                "generator": generator.name, "prompt_hashes": prompt_hashes(args.lang),
                "inputs": input_hashes,
                "counts": {"samples": {k: len(v) for k, v in splits.items()}, "rejects": dict(rejects.counts),
                           "qa_rejects": {s: dict(st.qa_rejects) for s, st in builder.stats.items()}},
            }
            publish_config(repo_dir, MultidocParaphrase.NAME, name, splits, manifest)
        print_summary(name, splits, builder.stats, rejects, repo_dir, time.time() - started)
    return 0


if __name__ == "__main__":
    sys.exit(main())
