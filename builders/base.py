"""`TaskBuilder`: the one `datasets.GeneratorBasedBuilder` every published dataset uses.

A dataset's builder names its task and budgets; the BuilderConfig class is derived from
the task's config dataclass (plus `datasets.BuilderConfig`'s own fields), so the builder,
the CLI and the library share one definition. Built in code (`download_and_prepare`);
the Hub only ever gets parquet and a card.
"""
from __future__ import annotations

import dataclasses
from collections import deque
from typing import Any, ClassVar, Iterator

import datasets
from tqdm.auto import tqdm

from longdata import engine
from longdata.config import TaskConfig, config_name, task_fields
from longdata.documents import Document, RejectLog, read_documents
from longdata.report import Report
from longdata.tasks.base import Resolver, Result, Task


class NotEnoughData(RuntimeError):
    """Nothing usable for one sample: says what is needed."""


def builder_config_class(config_class: type[TaskConfig]) -> type:
    """`datasets.BuilderConfig` + the task's config dataclass, validated by both."""

    def __post_init__(self):
        datasets.BuilderConfig.__post_init__(self)
        config_class.__post_init__(self)

    cls = type(config_class.__name__.replace("Config", "BuilderConfig"), (datasets.BuilderConfig, config_class),
               {"__post_init__": __post_init__, "__doc__": config_class.__doc__})
    return dataclasses.dataclass(cls)


class TaskBuilder(datasets.GeneratorBasedBuilder):
    """Subclasses set TASK and BUDGETS_K; configs are `<lang>-<k>k` for zh and en."""

    TASK: ClassVar[Task]
    BUDGETS_K: ClassVar[tuple[int, ...]] = (8, 16, 32)
    # a multidoc row is ~100 KB at 32k: flush the Arrow writer every 32 rows, not 1000
    DEFAULT_WRITER_BATCH_SIZE = 32

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        cls.NAME = cls.TASK.name
        cls.BUILDER_CONFIG_CLASS = builder_config_class(cls.TASK.Config)
        cls.BUILDER_CONFIGS = [cls.BUILDER_CONFIG_CLASS(name=config_name(lang, k * 1024), lang=lang,
                                                        max_tokens=k * 1024)
                               for lang in ("zh", "en") for k in cls.BUDGETS_K]
        cls.DEFAULT_CONFIG_NAME = cls.TASK.default_config

    def __init__(self, *args, task_config: TaskConfig | None = None, resolver: Resolver | None = None,
                 report: Report | None = None, num_proc: int = 1, engine: str = "local",
                 ray_address: str | None = None, **kwargs):
        """`task_config` builds exactly that config (any language or budget); otherwise the
        usual `config_name=` picks one of BUILDER_CONFIGS. `resolver` answers the task's
        requests (default: the task's offline one); `report` receives counts and rejects;
        `num_proc` is how many worker processes run units and `engine` what runs them
        (`local` or `ray`, joining `ray_address` when given): the output is the same for any."""
        if task_config is not None:
            kwargs.update(config_name=None, name=task_config.config_name,
                          **{f.name: getattr(task_config, f.name) for f in task_fields(type(task_config))})
        self.num_proc = num_proc
        self.engine = engine
        self.ray_address = ray_address
        self.report = report if report is not None else Report()
        self._stream: Iterator[tuple[str, Result]] | None = None  # every split's results, see `_results_of`
        self._next: tuple[str, Result] | None = None
        self._finished: set[str] = set()
        super().__init__(*args, **kwargs)
        self.resolver = resolver if resolver is not None else self.TASK.resolver(self.task_config, None, None)

    @property
    def task_config(self) -> TaskConfig:
        """The config as the task's own dataclass (what its pure functions take)."""
        cls = self.TASK.Config
        return cls(**{f.name: getattr(self.config, f.name) for f in task_fields(cls)})

    def _info(self) -> datasets.DatasetInfo:
        return datasets.DatasetInfo(description=self.TASK.description, features=self.TASK.features)

    def _split_generators(self, dl_manager):
        return [datasets.SplitGenerator(name=s, gen_kwargs={"split": s}) for s in self.TASK.splits(self.task_config)]

    def corpus_paths(self) -> list[str]:
        return list(self.config.corpus) or [str(p) for p in self.TASK.demo_corpus(self.config.lang)]

    def split_docs(self, split: str, rejects: RejectLog | None = None) -> Iterator[Document]:
        """The split's documents. Every split re-reads the corpus; record-level rejects
        are logged on the first split's pass (train) only, and the other passes skip the
        records of other splits before checking them."""
        cfg = self.task_config
        read_rejects = rejects if rejects is not None else \
            (self.report.rejects if split == self.TASK.splits(cfg)[0] else RejectLog())
        opts = dataclasses.replace(self.TASK.read_options(cfg), keep=lambda d: self.TASK.split_of(cfg, d) == split,
                                   keep_early=read_rejects is not self.report.rejects)
        return read_documents(self.corpus_paths(), read_rejects, opts)

    def planned_requests(self) -> Iterator[Any]:
        """The first round of requests of every split, without answering them (dry runs, the Batch API)."""
        cfg = self.task_config
        for split in self.TASK.splits(cfg):
            for unit in self.TASK.units(self.split_docs(split, RejectLog()), cfg, RejectLog()):
                yield from self.TASK.requests(self.TASK.prepare(unit, cfg), cfg, {})

    def _stream_results(self) -> Iterator[tuple[str, Result]]:
        """One engine run over every split's units, in split order: the workers start a
        split's first units while the last of the split before still run, instead of
        idling at each split's end. Results stay in unit order, so the output is unchanged."""
        cfg = self.task_config
        order: deque[str] = deque()  # the split of each unit handed to the engine, in order

        def units():
            for split in self.TASK.splits(cfg):
                for unit in self.TASK.units(self.split_docs(split), cfg, self.report.rejects):
                    if split in self._finished:  # capped by --num-samples: read no further
                        break
                    order.append(split)
                    yield unit

        for result in engine.run(self.TASK, cfg, units(), self.resolver, self.num_proc, self.engine, self.ray_address):
            yield order.popleft(), result

    def _results_of(self, split: str) -> Iterator[Result]:
        """The split's results from the shared stream (a split's stale results, left in
        flight by a --num-samples cap, are dropped). A split asked out of order (a streaming
        read) gets an engine run of its own."""
        cfg = self.task_config
        splits = self.TASK.splits(cfg)
        if self._finished != set(splits[:splits.index(split)]):
            units = self.TASK.units(self.split_docs(split), cfg, self.report.rejects)
            yield from engine.run(self.TASK, cfg, units, self.resolver, self.num_proc, self.engine, self.ray_address)
            return
        if self._stream is None:
            self._stream = self._stream_results()
        while True:
            if self._next is None:
                self._next = next(self._stream, None)
                if self._next is None:
                    return
            owner, result = self._next
            if owner != split and owner not in self._finished:
                return  # the next split's: kept for its own call
            self._next = None
            if owner == split:
                yield result

    def _generate_examples(self, split: str):
        cfg = self.task_config
        found, yielded = False, 0
        progress = tqdm(desc=f"{self.TASK.name} {cfg.config_name} {split}", unit="unit", disable=None, leave=False)
        try:
            for result in self._results_of(split):
                found = True
                progress.update()
                self.report.add(split, result)
                for sample in result.samples:
                    if cfg.num_samples is not None and yielded >= cfg.num_samples:
                        return
                    yielded += 1
                    yield sample["id"], sample
        finally:
            progress.close()
            self._finished.add(split)
            if split == self.TASK.splits(cfg)[-1] and self._stream is not None:
                self._stream.close()  # stops the engine if a --num-samples cap left units in flight
        if not found and split == self.TASK.splits(cfg)[0]:
            raise NotEnoughData(self.TASK.not_enough(cfg, self.report.rejects))
        # a small corpus may leave too few items for a validation or test sample
