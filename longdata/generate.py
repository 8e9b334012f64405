"""`python -m longdata.generate`: build multidoc-paraphrase into a Hub-shaped folder.

With no flags it builds the Chinese demo corpus with the offline extractive generator
into ./longdata-out; no API key and no network needed.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import logging
import shutil
import sys
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


class BuildError(RuntimeError):
    """A configuration that cannot work, said plainly (datasets wraps our errors)."""


def build_config(args: argparse.Namespace, max_tokens: int, generator, files: list[Path],
                 out: Path) -> tuple[datasets.DatasetDict, "MultidocParaphrase", RejectLog]:
    """Run the builder for one language and budget; returns the non-empty splits, memory-mapped
    from `builder_cache(out, config)` (remove it once they are published)."""
    from .builders import MultidocParaphrase, MultidocParaphraseConfig

    name = MultidocParaphraseConfig.name_for(args.lang, max_tokens)
    rejects = RejectLog(out / "rejects" / f"{MultidocParaphrase.NAME}-{name}.jsonl")
    cache = builder_cache(out, name)
    shutil.rmtree(cache, ignore_errors=True)  # never reuse a stale build
    builder = MultidocParaphrase(
        config_name=name, cache_dir=cache, generator=generator, rejects=rejects,
        lang=args.lang, max_tokens=max_tokens, corpus=tuple(str(f) for f in files),
        group_size=args.group_size, turns=args.turns, seed=args.seed, num_samples=args.num_samples,
        unanswerable_ratio=args.unanswerable_ratio, validation_ratio=args.validation_ratio,
        test_ratio=args.test_ratio, text_field=args.text_field, id_field=args.id_field,
        tokenizer=args.tokenizer, num_proc=args.num_proc)
    try:
        builder.download_and_prepare()
    except Exception as err:
        cause = err.__cause__ or err
        raise BuildError(str(cause)) from err
    finally:
        rejects.close()
    splits = datasets.DatasetDict({k: v for k, v in builder.as_dataset().items() if len(v)})
    return splits, builder, rejects


def builder_cache(out: Path, config: str) -> Path:
    """Arrow files of one build; the splits are memory-mapped from here until published."""
    return out / f".build-{config}"


def manifest_for(args: argparse.Namespace, builder, splits: datasets.DatasetDict, rejects: RejectLog,
                 generator, input_hashes: dict[str, str]) -> dict:
    """What a card and manifest.json record about how a config was made (no secrets)."""
    skip = ("name", "version", "data_dir", "data_files", "description", "corpus", "num_proc")
    return {
        "package": "longdata", "version": __version__, "dataset": builder.NAME, "config": builder.config.name,
        "settings": {k: v for k, v in asdict(builder.config).items() if k not in skip},
        "generator": generator.name, "prompt_hashes": prompt_hashes(args.lang), "inputs": input_hashes,
        "counts": {"samples": {k: len(v) for k, v in splits.items()}, "rejects": dict(rejects.counts),
                   "qa_rejects": {s: dict(st.qa_rejects) for s, st in builder.stats.items()}},
    }


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    from .builders import MultidocParaphrase
    from .documents import corpus_files

    generator = ExtractiveGenerator()
    out = Path(args.out)
    repo_dir = out / MultidocParaphrase.NAME
    files = corpus_files(args.corpus) if args.corpus else [demo_corpus(args.lang)]
    input_hashes = {f.name: file_sha256(f) for f in files}
    for max_tokens in args.max_tokens:
        started = time.time()
        try:
            splits, builder, rejects = build_config(args, max_tokens, generator, files, out)
        except BuildError as err:
            print(f"error: {err}", file=sys.stderr)
            return 2
        manifest = manifest_for(args, builder, splits, rejects, generator, input_hashes)
        publish_config(repo_dir, MultidocParaphrase.NAME, builder.config.name, splits, manifest)
        shutil.rmtree(builder_cache(out, builder.config.name))
        print_summary(builder.config.name, splits, builder.stats, rejects, repo_dir, time.time() - started)
    return 0


if __name__ == "__main__":
    sys.exit(main())
