"""The local engine: a process pool over units, results in unit order.

With a local resolver (pure CPU, e.g. the extractive QA writer) each worker prepares,
answers and assembles its unit in one job, a few jobs ahead of the one whose result is
due, in a pool kept for the whole run; such a run can be started before its results are
wanted (`PooledRun.start`). With a remote one (an LLM) units go in small windows: workers
prepare the window, the main process sends the window's requests together (so the client
runs them concurrently, in rounds while a task asks for more), then workers assemble.
Every random choice is keyed by the item, never by the worker, so the output is the same
for any `num_proc`.
"""
from __future__ import annotations

import atexit
import multiprocessing
from collections import deque
from typing import Any, Iterable, Iterator

from ..tasks.base import Resolver, Result, Task
from ..tokens import get_counter


def answer_rounds(task: Task, preps: list, cfg, resolver: Resolver | None, answers: dict | None = None) -> dict:
    """Ask the task for requests until it has what it needs; each key is answered once.
    Without a resolver nothing is asked: the task assembles from what it has (offline)."""
    answers = {} if answers is None else answers
    while resolver is not None:
        todo = {r.key: r for p in preps for r in task.requests(p, cfg, answers) if r.key not in answers}
        if not todo:
            break
        for key, answer in zip(todo, resolver.resolve(list(todo.values()))):
            answers[key] = answer
    return answers


def _whole(job) -> Result:
    task, unit, cfg, resolver = job
    prep = task.prepare(unit, cfg)
    return task.assemble(prep, answer_rounds(task, [prep], cfg, resolver), cfg)


def _prepare(job):
    task, unit, cfg = job
    return task.prepare(unit, cfg)


def _assemble(job) -> Result:
    task, prep, answers, cfg = job
    return task.assemble(prep, answers, cfg)


def windows(items: Iterable, size: int) -> Iterator[list]:
    batch: list = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


class Ordered:
    """`fn` over `jobs` in the pool, results in job order, with at most `depth` jobs in
    flight: the main process reads the next units while the workers run, and a slow unit
    holds back only its own result, not a whole window. `fill` hands out jobs without
    waiting for a result (a run started before its results are wanted)."""

    def __init__(self, pool, fn, jobs: Iterable, depth: int):
        self.pool, self.fn, self.jobs, self.depth = pool, fn, iter(jobs), depth
        self.pending: deque = deque()
        self.exhausted = False

    def fill(self) -> None:
        while not self.exhausted and len(self.pending) < self.depth:
            job = next(self.jobs, _END)
            if job is _END:
                self.exhausted = True
            else:
                self.pending.append(self.pool.apply_async(self.fn, (job,)))

    def __iter__(self) -> Iterator:
        while True:
            self.fill()
            if not self.pending:
                return
            yield self.pending.popleft().get()


_END = object()


def map_ordered(fn, items: Iterable, num_proc: int = 1) -> Iterator:
    """`fn` over `items` in a fork pool of `num_proc` workers (in this process for 1),
    results in item order. Stopping the iteration stops the pool."""
    if num_proc <= 1:
        yield from map(fn, items)
        return
    pool = multiprocessing.get_context("fork").Pool(num_proc)
    try:
        yield from Ordered(pool, fn, items, 4 * num_proc)
    finally:
        pool.terminate()


_SHARED: dict[tuple, Any] = {}  # pools kept for the runs of this process


def _warm(tokenizer: str, warm_up, lang: str) -> None:
    """A pooled worker's start: its token counter and the resolver's dictionaries."""
    get_counter(tokenizer)
    if warm_up is not None:
        warm_up(lang)


def _shared_pool(num_proc: int, warm_up, lang: str, tokenizer: str) -> tuple[tuple, Any]:
    """A pool kept across runs (a build's splits, a run's configs): forked once, and its
    workers load the token counter and the resolver's dictionaries themselves, in
    parallel, while this process reads the first units (loading them here before forking
    would make that serial)."""
    key = (num_proc, getattr(warm_up, "__qualname__", None), lang, tokenizer)
    if key not in _SHARED:
        _SHARED[key] = multiprocessing.get_context("fork").Pool(num_proc, initializer=_warm,
                                                                initargs=(tokenizer, warm_up, lang))
    return key, _SHARED[key]


@atexit.register
def _close_pools() -> None:
    while _SHARED:
        _SHARED.popitem()[1].terminate()


class PooledRun:
    """Units with a local resolver in the shared pool, each prepared, answered and
    assembled in one job. `start` forks (or reuses) the pool and hands the workers their
    first units before any result is wanted; iterating starts it if need be. Stopping
    early, or `close`, stops the pool: jobs still in flight belong to no one."""

    def __init__(self, task: Task, cfg, units: Iterable[Any], resolver: Resolver | None, num_proc: int):
        self.jobs = ((task, u, cfg, resolver) for u in units)
        self.pool_args = (num_proc, getattr(resolver, "warm_up", None), cfg.lang, cfg.tokenizer)
        self.key: tuple | None = None
        self.ordered: Ordered | None = None
        self.results: Iterator[Result] | None = None

    def start(self) -> None:
        if self.ordered is None:
            self.key, pool = _shared_pool(*self.pool_args)
            self.ordered = Ordered(pool, _whole, self.jobs, 4 * self.pool_args[0])
        self.ordered.fill()

    def __iter__(self) -> Iterator[Result]:
        return self

    def __next__(self) -> Result:
        if self.results is None:
            self.results = self._in_order()
        return next(self.results)

    def _in_order(self) -> Iterator[Result]:
        self.start()
        try:
            yield from self.ordered
        finally:  # also when dropped unfinished
            self.close()

    def close(self) -> None:
        if self.ordered is not None and self.ordered.pending and self.key in _SHARED:
            _SHARED.pop(self.key).terminate()


def run(task: Task, cfg, units: Iterable[Any], resolver: Resolver | None = None, num_proc: int = 1) -> Iterator[Result]:
    """One `Result` per unit, in unit order. Stopping the iteration early stops the pool."""
    in_worker = resolver is None or resolver.local
    if in_worker and num_proc > 1:
        return PooledRun(task, cfg, units, resolver, num_proc)
    return _unpooled(task, cfg, units, resolver, num_proc)


def _unpooled(task: Task, cfg, units: Iterable[Any], resolver: Resolver | None,
                           num_proc: int) -> Iterator[Result]:
    """A local resolver in this process, or a remote one (an LLM) in windows of units."""
    in_worker = resolver is None or resolver.local
    warm_up = getattr(resolver, "warm_up", None)
    get_counter(cfg.tokenizer)  # loaded once, before any worker forks
    if warm_up is not None:
        warm_up(cfg.lang)
    if in_worker:
        yield from (_whole((task, u, cfg, resolver)) for u in units)
        return
    pool = multiprocessing.get_context("fork").Pool(num_proc) if num_proc > 1 else None
    pmap = pool.map if pool else lambda f, jobs: list(map(f, jobs))
    try:
        for batch in windows(units, max(1, num_proc) * 2):
            preps = pmap(_prepare, [(task, u, cfg) for u in batch])
            answers = answer_rounds(task, preps, cfg, resolver)
            yield from pmap(_assemble, [(task, p, answers, cfg) for p in preps])
    finally:
        if pool:
            pool.terminate()
