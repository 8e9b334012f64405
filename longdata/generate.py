"""`python -m longdata.generate`: build datasets into Hub-shaped folders.

With no flags it builds multidoc-paraphrase from the Chinese demo corpus with the
offline extractive generator into ./longdata-out; `--dataset all` builds every dataset.
No API key and no network needed. With --llm-model an OpenAI-compatible model writes
the QAs and summaries (responses cached: a rerun makes no calls, an interrupted run
resumes). `python -m longdata.generate --dataset NAME --help` lists that dataset's flags.
"""
from __future__ import annotations

import argparse
import gc
import hashlib
import itertools
import logging
import shutil
import sys
import time
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from . import __version__
from .config import TaskConfig, add_flags, from_flags, multi_values, option
from .documents import RejectLog
from .llm.client import ChatClient, LLMUnavailableError
from .llm.options import LLMOptions
from .report import Report, summary
from .splits import SplitResults
from .tasks import TASKS, Task

if TYPE_CHECKING:
    import datasets


RESUME = "Answered requests are cached; run the same command again to resume."


@dataclass
class RunOptions:
    """How a run executes and where it writes: never part of a dataset's settings."""

    dataset: str = option("multidoc-paraphrase", "dataset(s) to build: a comma list of names, or `all`")
    out: str = option("longdata-out", "output folder; each dataset goes to OUT/<dataset>/, rejects to OUT/rejects/")
    num_proc: int = option(1, "worker processes (the output is byte-identical for any value)")
    engine: str = option("local", "what runs the units: local (process pool) or ray (the `ray` extra; the same "
                                  "bytes)", choices=("local", "ray"))
    ray_address: str | None = option(None, "Ray cluster to join (default: a local Ray with --num-proc CPUs)")
    license: str = option("other", "SPDX license id of the data for the card, or `other` (the data keeps its "
                                   "sources' licenses)")
    clean: bool = option(False, "filter and deduplicate the corpus first (`longdata clean`, into OUT/clean-<lang>/), "
                                "then build from what is kept")
    max_reject_ratio: float = option(0.5, "fail when more than this share of the input records cannot be read "
                                          "(malformed, undecodable, damaged files)")


def chosen_tasks(argv: list[str]) -> list[Task]:
    """The tasks named by --dataset (read before the rest, so --help lists their flags)."""
    pre = argparse.ArgumentParser(add_help=False)
    pre.add_argument("--dataset", default=RunOptions.dataset)
    names = pre.parse_known_args(argv)[0].dataset
    names = list(TASKS) if names == "all" else [n.strip() for n in names.split(",") if n.strip()]
    unknown = [n for n in names if n not in TASKS]
    if unknown or not names:
        raise SystemExit(f"error: unknown --dataset {', '.join(unknown) or '(none)'}: choose from "
                         f"{', '.join(TASKS)} or all")
    return [TASKS[n] for n in names]


def parse_args(argv: list[str] | None) -> tuple[RunOptions, LLMOptions, list[tuple[Task, list[TaskConfig]]]]:
    """Run options, LLM options, and for each chosen task its configs (one per budget)."""
    argv = sys.argv[1:] if argv is None else list(argv)
    tasks = chosen_tasks(argv)
    p = argparse.ArgumentParser(prog="python -m longdata.generate", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    add_flags(p, [RunOptions])
    add_flags(p.add_argument_group(f"dataset settings ({', '.join(t.name for t in tasks)})"),
              [t.Config for t in tasks])
    add_flags(p.add_argument_group("LLM generator (any OpenAI-compatible server)"), [LLMOptions])
    ns = p.parse_args(argv)
    try:
        run, llm = from_flags(RunOptions, ns), from_flags(LLMOptions, ns)
        plans = []
        for task in tasks:
            multi = {k: v for k, v in multi_values([task.Config], ns).items()}
            combos = [dict(zip(multi, values)) for values in itertools.product(*multi.values())] or [{}]
            plans.append((task, [from_flags(task.Config, ns, **combo) for combo in combos]))
    except ValueError as err:
        p.error(str(err))
    return run, llm, plans


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


@lru_cache(maxsize=None)
def build_modules():
    """(BUILDERS, publish_config), imported on first use: with `datasets`, pandas and
    matplotlib they take ~2 s, which the first build's workers, handed their first units
    before (`SplitResults.start`), overlap instead of waiting for."""
    gc.disable()  # modules make few cycles: no collections while they load, then frozen (see main)
    try:
        from .builders import BUILDERS
        from .publish import publish_config
    finally:
        gc.freeze()
        gc.enable()
    return BUILDERS, publish_config


class BuildError(RuntimeError):
    """A configuration that cannot work, said plainly (datasets wraps our errors)."""


def builder_cache(out: Path, dataset: str, config: str) -> Path:
    """Arrow files of one build; the splits are memory-mapped from here until published."""
    return out / f".build-{dataset}-{config}"


def build_config(task: Task, cfg: TaskConfig, out: Path, *, resolver=None, num_proc: int = 1, engine: str = "local",
                 ray_address: str | None = None):
    """Run the builder for one config; returns (the non-empty splits memory-mapped from
    `builder_cache`, the builder, its report). Remove the cache once published. The
    workers get their first units before the builders are imported (see `SplitResults.start`)."""
    report = Report(RejectLog(out / "rejects" / f"{task.name}-{cfg.config_name}.jsonl"))
    cache = builder_cache(out, task.name, cfg.config_name)
    shutil.rmtree(cache, ignore_errors=True)  # never reuse a stale build
    results = SplitResults(task, cfg, report, resolver, num_proc, engine, ray_address)
    try:
        results.start()
        builders, _ = build_modules()
        builder = builders[task.name](task_config=cfg, cache_dir=str(cache), results=results)
        builder.download_and_prepare()
    except Exception as err:
        cause = err.__cause__ or err  # datasets wraps what the generator raised
        raise BuildError(str(cause)) from cause
    finally:
        results.close()
        report.rejects.close()
    import datasets

    splits = datasets.DatasetDict({name: builder.as_dataset(split=name) for name, info in builder.info.splits.items()
                                   if info.num_examples})
    if not splits:
        raise BuildError(f"no samples in any split ({report.rejects.total} "
                         f"documents rejected: {dict(report.rejects.counts)}; counts: {report.as_dict()})")
    return splits, builder, report


def manifest_for(task: Task, cfg: TaskConfig, splits: datasets.DatasetDict, report: Report, resolver,
                 input_hashes: dict[str, str], license: str = "other") -> dict:
    """What a card and manifest.json record about how a config was made (no secrets)."""
    stats = getattr(resolver, "stats", None)
    return {
        "package": "longdata", "version": __version__, "dataset": task.name, "config": cfg.config_name,
        "settings": cfg.settings(), "generator": getattr(resolver, "name", "none"),
        "prompt_hashes": task.prompt_hashes(cfg.lang), "inputs": input_hashes, "license": license,
        **({"llm": stats.as_dict()} if stats is not None else {}),
        "counts": {"samples": {k: len(v) for k, v in splits.items()}, "rejects": dict(report.rejects.counts),
                   **report.as_dict()},
    }


def plan_llm(run: RunOptions, llm: LLMOptions, plans, chat: ChatClient) -> int | None:
    """--dry-run and --llm-batch: the first calls of every task and budget, planned or sent."""
    from .llm.batch import run_batch
    from .llm.cost import plan_cost

    calls: dict[str, object] = {}
    for task, configs in plans:
        for cfg in configs:
            resolver = task.resolver(cfg, llm, chat)
            if resolver is None or not hasattr(resolver, "planned_calls"):
                continue
            planned = SplitResults(task, cfg, Report(), resolver).planned_requests()
            for call in resolver.planned_calls(list(planned)):
                calls.setdefault(call.key, call)
    print(plan_cost(chat, list(calls.values()), llm.llm_max_tokens, llm.price_in, llm.price_out, batch=llm.llm_batch))
    if llm.dry_run:
        return 0
    try:
        print(run_batch(chat, list(calls.values()), poll_interval=llm.batch_poll))
    except LLMUnavailableError as err:
        print(f"error: {err}\n{RESUME}", file=sys.stderr)
        return 3
    return None


def clean_once(cfg: TaskConfig, task: Task, out: Path, done: dict[tuple, str], run: RunOptions) -> str:
    """The cleaned copy of a config's corpus (made once per language and corpus)."""
    from .clean.pipeline import CleanOptions, clean_corpus

    corpus = tuple(cfg.corpus) or tuple(str(p) for p in task.demo_corpus(cfg.lang))
    key = (cfg.lang, corpus, cfg.text_field, cfg.id_field)
    if key not in done:
        folder = out / f"clean-{cfg.lang}-{len(done)}"
        print(clean_corpus(CleanOptions(lang=cfg.lang, corpus=corpus, out=str(folder), text_field=cfg.text_field,
                                        id_field=cfg.id_field, num_proc=run.num_proc, engine=run.engine,
                                        ray_address=run.ray_address)))
        done[key] = str(folder)
    return done[key]


def main(argv: list[str] | None = None) -> int:
    run, llm, plans = parse_args(argv)
    # what is loaded now lives as long as the run: frozen, full collections skip it (each
    # rescanned the loaded modules, 0.1-0.2 s, four times early in a build) and forked
    # workers' collections leave its pages shared
    gc.freeze()
    try:
        return build_all(run, llm, plans)
    finally:
        gc.unfreeze()  # a caller's later collections see it again


def build_all(run: RunOptions, llm: LLMOptions, plans) -> int:
    """Every planned config built and published into --out; the exit code."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    out = Path(run.out)
    out.mkdir(parents=True, exist_ok=True)
    chat = llm.client(out) if llm.uses_llm else None
    if chat is not None and (llm.dry_run or llm.llm_batch):
        code = plan_llm(run, llm, plans, chat)
        if code is not None:
            return code
    cleaned: dict[tuple, str] = {}
    for task, configs in plans:
        repo_dir = out / task.name
        for cfg in configs:
            if run.clean and task.purpose == "training":
                cfg = replace(cfg, corpus=(clean_once(cfg, task, out, cleaned, run),))
            cfg = task.with_outputs(cfg, out)
            inputs = {name: file_sha256(f) for name, f in task.input_files(cfg).items()}
            resolver = task.resolver(cfg, llm, chat)
            started = time.time()
            try:
                splits, builder, report = build_config(task, cfg, out, resolver=resolver, num_proc=run.num_proc,
                                                       engine=run.engine, ray_address=run.ray_address)
            except BuildError as err:
                unavailable = isinstance(err.__cause__, LLMUnavailableError)
                print(f"error: {task.name} {cfg.config_name}: {err}" + (f"\n{RESUME}" if unavailable else ""),
                      file=sys.stderr)
                return 3 if unavailable else 2
            if report.rejects.bad_share > run.max_reject_ratio:
                print(f"error: {task.name} {cfg.config_name}: {report.rejects.records_rejected} of "
                      f"{report.rejects.records_read + report.rejects.records_rejected} input records could not be "
                      f"read ({report.rejects.bad_share:.0%} > --max-reject-ratio {run.max_reject_ratio}); see "
                      f"{report.rejects.path}", file=sys.stderr)
                return 2
            manifest = manifest_for(task, cfg, splits, report, resolver, inputs, run.license)
            _, publish_config = build_modules()
            publish_config(repo_dir, task.name, cfg.config_name, splits, manifest)
            shutil.rmtree(builder_cache(out, task.name, cfg.config_name))
            print(summary(task, cfg.config_name, splits, report, repo_dir, time.time() - started,
                          llm_stats=getattr(resolver, "stats", None)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
