"""How units run: `local` (a process pool) or `ray` (Ray tasks, for clusters); both give
the results in unit order, so the output is the same whatever runs it."""
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


__all__ = ["ENGINES", "run"]
