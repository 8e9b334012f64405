"""How work runs: `local` (a process pool) or `ray` (Ray tasks, for clusters); both give
results in input order, so the output is the same whatever runs it. `run` drives a task's
units (`start` begins a run before its results are wanted); `map_ordered` maps any pure
function (the cleaning passes use it)."""
from __future__ import annotations

from typing import Any, Iterable, Iterator

from . import local

ENGINES = ("local", "ray")


def run(task, cfg, units: Iterable[Any], resolver=None, num_proc: int = 1, engine: str = "local",
        address: str | None = None) -> Iterator:
    """Results of `task` over `units` in unit order, on the chosen engine."""
    if engine == "ray":
        from . import ray_engine

        return ray_engine.run(task, cfg, units, resolver, num_proc, address)
    if engine != "local":
        raise ValueError(f"unknown engine {engine!r}: choose from {', '.join(ENGINES)}")
    return local.run(task, cfg, units, resolver, num_proc)


def start(run: Iterator) -> None:
    """Begin `run` now where its engine can: a pooled local run hands its workers their
    first units. Other runs begin when their results are first wanted."""
    begin = getattr(run, "start", None)
    if begin is not None:
        begin()


def map_ordered(fn, items: Iterable, num_proc: int = 1, engine: str = "local", address: str | None = None) -> Iterator:
    """A pure function over items (e.g. batches of documents to clean), in item order."""
    if engine == "ray":
        from . import ray_engine

        return ray_engine.map_ordered(fn, items, num_proc, address)
    if engine != "local":
        raise ValueError(f"unknown engine {engine!r}: choose from {', '.join(ENGINES)}")
    return local.map_ordered(fn, items, num_proc)


__all__ = ["ENGINES", "map_ordered", "run", "start"]
