"""The Ray engine: the same pure task functions as the local engine, as Ray tasks.

Units go in windows as locally; each window's jobs are submitted together and their
results taken back in unit order, so the output is byte-identical to `--engine local`
for any cluster size. Requests to a remote resolver (an LLM) are sent from the driver,
between the prepare and assemble rounds, as locally. `ray.init` joins `--ray-address`
when given, else starts a local instance with `num_proc` CPUs (about 4 s).
"""
from __future__ import annotations

from collections import deque
from typing import Any, Iterable, Iterator

from ..tasks.base import Resolver, Result, Task
from .local import _assemble, _prepare, _whole, answer_rounds, windows


def connect(num_proc: int, address: str | None = None) -> None:
    import ray

    if not ray.is_initialized():
        ray.init(address=address, num_cpus=None if address else max(1, num_proc), include_dashboard=False,
                 log_to_driver=False, configure_logging=False)


def run(task: Task, cfg, units: Iterable[Any], resolver: Resolver | None = None, num_proc: int = 1,
        address: str | None = None) -> Iterator[Result]:
    """One `Result` per unit, in unit order, computed by Ray workers."""
    import ray

    connect(num_proc, address)
    whole, prepare, assemble = (ray.remote(f) for f in (_whole, _prepare, _assemble))
    in_worker = resolver is None or resolver.local
    size = max(2, 2 * int(ray.cluster_resources().get("CPU", num_proc)))
    for batch in windows(units, size):
        if in_worker:
            yield from ray.get([whole.remote((task, u, cfg, resolver)) for u in batch])
            continue
        preps = ray.get([prepare.remote((task, u, cfg)) for u in batch])
        answers = answer_rounds(task, preps, cfg, resolver)
        yield from ray.get([assemble.remote((task, p, answers, cfg)) for p in preps])


def map_ordered(fn, items: Iterable, num_proc: int = 1, address: str | None = None) -> Iterator:
    """`fn` over `items` as Ray tasks, results in item order, a few per CPU in flight."""
    import ray

    connect(num_proc, address)
    remote = ray.remote(fn)
    depth = max(2, 4 * int(ray.cluster_resources().get("CPU", num_proc)))
    pending: deque = deque()
    for item in items:
        pending.append(remote.remote(item))
        if len(pending) >= depth:
            yield ray.get(pending.popleft())
    while pending:
        yield ray.get(pending.popleft())
