"""`python -m longdata.generate`: build multidoc-paraphrase into a Hub-shaped folder.

With no flags it builds the Chinese demo corpus with the offline extractive generator
into ./longdata-out; no API key and no network needed. With --llm-model it asks an
OpenAI-compatible model for the QAs (responses cached: a rerun makes no calls, an
interrupted run resumes).
"""
from __future__ import annotations

import argparse
import hashlib
import logging
import shutil
import sys
import time
from dataclasses import asdict
from pathlib import Path

import datasets

from . import __version__
from .builders import MultidocParaphrase, MultidocParaphraseConfig
from .data import demo_corpus
from .documents import RejectLog, corpus_files
from .llm.base import Generator, QARequest
from .llm.extractive import ExtractiveGenerator
from .llm.openai_gen import LLMUnavailableError
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
    llm = p.add_argument_group("LLM generator (any OpenAI-compatible server)")
    llm.add_argument("--generator", choices=["extractive", "openai"], default=None,
                     help="default: openai when --llm-model is given, else extractive")
    llm.add_argument("--llm-model", help="model name, e.g. gpt-4o-mini or the name a vLLM server serves")
    llm.add_argument("--llm-base-url", help="e.g. http://127.0.0.1:8000/v1; default: OpenAI")
    llm.add_argument("--llm-api-key-env", default="OPENAI_API_KEY", help="environment variable that holds the API key")
    llm.add_argument("--llm-concurrency", type=int, default=16, help="requests in flight at once")
    llm.add_argument("--llm-timeout", type=float, default=120.0, help="seconds per request attempt")
    llm.add_argument("--llm-max-attempts", type=int, default=6, help="attempts per request on 429/5xx/timeouts")
    llm.add_argument("--llm-backoff", type=float, default=1.0, help="first retry wait in seconds (doubles, jittered)")
    llm.add_argument("--llm-temperature", type=float, default=0.7)
    llm.add_argument("--llm-max-tokens", type=int, default=1024, help="completion tokens per reply at most")
    llm.add_argument("--llm-cache", help="SQLite response cache (default: OUT/llm-cache.sqlite)")
    llm.add_argument("--llm-batch", action="store_true", help="send uncached requests through the Batch API first (half price)")
    llm.add_argument("--batch-poll", type=float, default=30.0, help="seconds between Batch API status checks")
    llm.add_argument("--dry-run", action="store_true", help="print planned calls, tokens and cost; call nothing")
    llm.add_argument("--price-in", type=float, default=0.15, help="USD per 1M prompt tokens, for --dry-run")
    llm.add_argument("--price-out", type=float, default=0.60, help="USD per 1M completion tokens, for --dry-run")
    args = p.parse_args(argv)
    args.generator = args.generator or ("openai" if args.llm_model else "extractive")
    if args.generator == "openai" and not args.llm_model:
        p.error("--generator openai needs --llm-model")
    if (args.dry_run or args.llm_batch) and args.generator != "openai":
        p.error("--dry-run and --llm-batch plan LLM calls: give --llm-model")
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
                 out: Path) -> tuple[datasets.DatasetDict, MultidocParaphrase, RejectLog]:
    """Run the builder for one language and budget; returns the non-empty splits, memory-mapped
    from `builder_cache(out, config)` (remove it once they are published)."""
    name = MultidocParaphraseConfig.name_for(args.lang, max_tokens)
    rejects = RejectLog(out / "rejects" / f"{MultidocParaphrase.NAME}-{name}.jsonl")
    cache = builder_cache(out, name)
    shutil.rmtree(cache, ignore_errors=True)  # never reuse a stale build
    builder = MultidocParaphrase(config_name=name, cache_dir=cache, generator=generator, rejects=rejects,
                                 **builder_kwargs(args, max_tokens, files))
    try:
        builder.download_and_prepare()
    except Exception as err:
        cause = err.__cause__ or err  # datasets wraps what the generator raised
        raise BuildError(str(cause)) from cause
    finally:
        rejects.close()
    splits = datasets.DatasetDict({k: v for k, v in builder.as_dataset().items() if len(v)})
    return splits, builder, rejects


def builder_kwargs(args: argparse.Namespace, max_tokens: int, files: list[Path]) -> dict:
    """The builder config fields that the command line sets."""
    return dict(lang=args.lang, max_tokens=max_tokens, corpus=tuple(str(f) for f in files),
                group_size=args.group_size, turns=args.turns, seed=args.seed, num_samples=args.num_samples,
                unanswerable_ratio=args.unanswerable_ratio, validation_ratio=args.validation_ratio,
                test_ratio=args.test_ratio, text_field=args.text_field, id_field=args.id_field,
                tokenizer=args.tokenizer, num_proc=args.num_proc)


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
        **({"llm": generator.stats.as_dict()} if hasattr(generator, "stats") else {}),
        "counts": {"samples": {k: len(v) for k, v in splits.items()}, "rejects": dict(rejects.counts),
                   "qa_rejects": {s: dict(st.qa_rejects) for s, st in builder.stats.items()}},
    }


def make_generator(args: argparse.Namespace) -> Generator:
    if args.generator == "extractive":
        return ExtractiveGenerator()
    from .llm.openai_gen import OpenAIGenerator

    return OpenAIGenerator(
        args.llm_model, base_url=args.llm_base_url, api_key_env=args.llm_api_key_env,
        cache_path=args.llm_cache or Path(args.out) / "llm-cache.sqlite", concurrency=args.llm_concurrency,
        timeout=args.llm_timeout, max_attempts=args.llm_max_attempts, backoff_initial=args.llm_backoff,
        temperature=args.llm_temperature,
        max_tokens=args.llm_max_tokens)


def all_requests(args: argparse.Namespace, files: list[Path]) -> list[QARequest]:
    """Every QA request of every config and split, each document once (budgets share them)."""
    requests: dict[str, QARequest] = {}
    for max_tokens in args.max_tokens:
        builder = MultidocParaphrase(config_name=MultidocParaphraseConfig.name_for(args.lang, max_tokens),
                                     **builder_kwargs(args, max_tokens, files))
        for req in builder.planned_requests():
            requests.setdefault(req.key, req)
    return list(requests.values())


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    generator = make_generator(args)
    repo_dir = out / MultidocParaphrase.NAME
    files = corpus_files(args.corpus) if args.corpus else [demo_corpus(args.lang)]
    if args.dry_run or args.llm_batch:
        from .llm.batch import run_batch
        from .llm.cost import plan_cost

        requests = all_requests(args, files)
        print(plan_cost(generator, requests, args.price_in, args.price_out, batch=args.llm_batch))
        if args.dry_run:
            return 0
        try:
            print(run_batch(generator, requests, poll_interval=args.batch_poll))
        except LLMUnavailableError as err:
            print(f"error: {err}\nAnswered requests are cached; run the same command again to resume.", file=sys.stderr)
            return 3
    input_hashes = {f.name: file_sha256(f) for f in files}
    for max_tokens in args.max_tokens:
        started = time.time()
        try:
            splits, builder, rejects = build_config(args, max_tokens, generator, files, out)
        except BuildError as err:
            resume = "\nAnswered requests are cached; run the same command again to resume." \
                if isinstance(err.__cause__, LLMUnavailableError) else ""
            print(f"error: {err}{resume}", file=sys.stderr)
            return 3 if resume else 2
        manifest = manifest_for(args, builder, splits, rejects, generator, input_hashes)
        publish_config(repo_dir, MultidocParaphrase.NAME, builder.config.name, splits, manifest)
        shutil.rmtree(builder_cache(out, builder.config.name))
        print_summary(builder.config.name, splits, builder.stats, rejects, repo_dir, time.time() - started,
                      llm_stats=getattr(generator, "stats", None))
    return 0


if __name__ == "__main__":
    sys.exit(main())
