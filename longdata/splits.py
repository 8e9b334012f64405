"""`SplitResults`: every split's results of one build, from one engine run, in split order.

A `TaskBuilder` writes what this yields. One run spans the splits, so the workers start a
split's first units while the last of the split before still run, instead of idling at
each split's end. `start` hands the workers their first units before any result is
wanted: `generate` starts a build, then imports `datasets` and the builders (~1.5 s) while
the workers already run. Results stay in unit order, so the output is the same either way.
"""
from __future__ import annotations

import dataclasses
from collections import deque
from typing import Any, Iterator

from . import engine
from .config import TaskConfig
from .documents import Document, RejectLog, read_documents
from .report import Report
from .tasks.base import Resolver, Result, Task


class SplitResults:
    """The results of `task` under `cfg`, split by split; record rejects go to `report`.
    `resolver` answers the task's requests (default: the task's offline one); `num_proc`
    workers on `engine` (joining `ray_address` when given) run the units."""

    def __init__(self, task: Task, cfg: TaskConfig, report: Report, resolver: Resolver | None = None,
                 num_proc: int = 1, engine: str = "local", ray_address: str | None = None):
        self.task, self.cfg, self.report = task, cfg, report
        self.resolver = resolver if resolver is not None else task.resolver(cfg, None, None)
        self.num_proc, self.engine, self.ray_address = num_proc, engine, ray_address
        self.splits = task.splits(cfg)
        self._run: Iterator[Result] | None = None
        self._stream: Iterator[tuple[str, Result]] | None = None
        self._next: tuple[str, Result] | None = None
        self._finished: set[str] = set()

    def corpus_paths(self) -> list[str]:
        return list(self.cfg.corpus) or [str(p) for p in self.task.demo_corpus(self.cfg.lang)]

    def docs(self, split: str, rejects: RejectLog | None = None) -> Iterator[Document]:
        """The split's documents. Every split re-reads the corpus; record-level rejects
        are logged on the first split's pass (train) only, and the other passes skip the
        records of other splits before checking them."""
        read_rejects = rejects if rejects is not None else \
            (self.report.rejects if split == self.splits[0] else RejectLog())
        opts = dataclasses.replace(self.task.read_options(self.cfg),
                                   keep=lambda d: self.task.split_of(self.cfg, d) == split,
                                   keep_early=read_rejects is not self.report.rejects)
        return read_documents(self.corpus_paths(), read_rejects, opts)

    def planned_requests(self) -> Iterator[Any]:
        """The first round of requests of every split, without answering them (dry runs, the Batch API)."""
        for split in self.splits:
            for unit in self.task.units(self.docs(split, RejectLog()), self.cfg, RejectLog()):
                yield from self.task.requests(self.task.prepare(unit, self.cfg), self.cfg, {})

    def start(self) -> None:
        """Hand the workers their first units now, where the engine can (a process pool);
        elsewhere the run begins when its results are first wanted."""
        engine.start(self._shared_run())

    def of(self, split: str) -> Iterator[Result]:
        """The split's results from the shared run (a split's stale results, left in flight
        by a --num-samples cap, are dropped). A split asked out of order (a streaming read)
        gets an engine run of its own."""
        if self._finished != set(self.splits[:self.splits.index(split)]):
            yield from self._run_over(self.task.units(self.docs(split), self.cfg, self.report.rejects))
            return
        self._shared_run()
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

    def finish(self, split: str) -> None:
        """`split` is written (or capped by --num-samples): read no further units of it."""
        self._finished.add(split)
        if split == self.splits[-1]:
            self.close()

    def close(self) -> None:
        """Stop the run: units still in flight (a --num-samples cap, a failed build) are dropped."""
        for part in (self._stream, self._run):
            if part is not None:
                part.close()

    def _run_over(self, units) -> Iterator[Result]:
        return engine.run(self.task, self.cfg, units, self.resolver, self.num_proc, self.engine, self.ray_address)

    def _shared_run(self) -> Iterator[Result]:
        """The one run over every split's units, in split order, made on first use."""
        if self._run is None:
            order: deque[str] = deque()  # the split of each unit handed to the engine, in order

            def units():
                for split in self.splits:
                    for unit in self.task.units(self.docs(split), self.cfg, self.report.rejects):
                        if split in self._finished:  # capped by --num-samples: read no further
                            break
                        order.append(split)
                        yield unit

            self._run = self._run_over(units())
            self._stream = ((order.popleft(), result) for result in self._run)
        return self._run
