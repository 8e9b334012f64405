"""Which samples go together: rows, micro-batches and optimizer steps.

A row is what the model sees as one sequence of the batch: with packing, several samples
placed by best-fit decreasing into at most `max_length` tokens, each restarting its
`position_ids` at 0 so that transformers masks attention between them; without packing,
one sample. An optimizer step takes rows until it holds `batch_size` samples and runs
them `micro_batch_size` rows at a time (gradient accumulation).
"""
from __future__ import annotations

import bisect
import random
from typing import Sequence

Row = list[int]           # sample indices, in order
MicroBatch = list[Row]
Step = list[MicroBatch]


def best_fit_decreasing(lengths: Sequence[int], capacity: int) -> list[Row]:
    """Bins of sample indices, longest samples first, each into the fullest bin it fits."""
    too_long = [n for n in lengths if n > capacity]
    if too_long:
        raise ValueError(f"{len(too_long)} samples are longer than the bin ({max(too_long)} > {capacity})")
    bins: list[Row] = []
    free: list[tuple[int, int]] = []  # (free space, bin index), sorted
    for i in sorted(range(len(lengths)), key=lambda i: -lengths[i]):
        at = bisect.bisect_left(free, (lengths[i], -1))
        if at == len(free):
            bins.append([])
            space, b = capacity, len(bins) - 1
        else:
            space, b = free.pop(at)
        bins[b].append(i)
        bisect.insort(free, (space - lengths[i], b))
    return bins


def make_rows(lengths: Sequence[int], max_length: int, packing: bool, sorted_batching: bool,
              batch_size: int, rng: random.Random) -> list[Row]:
    """Rows in training order. Packed rows are shuffled; unpacked samples are shuffled, or
    with `sorted_batching` sorted by length into steps of similar lengths whose order is
    shuffled (LongAlign), which cuts padding without packing."""
    if packing:
        rows = best_fit_decreasing(lengths, max_length)
        rng.shuffle(rows)
        return rows
    order = list(range(len(lengths)))
    if not sorted_batching:
        rng.shuffle(order)
        return [[i] for i in order]
    order.sort(key=lambda i: lengths[i])
    steps = [order[i:i + batch_size] for i in range(0, len(order), batch_size)]
    rng.shuffle(steps)
    return [[i] for step in steps for i in step]


def make_steps(rows: Sequence[Row], batch_size: int, micro_batch_size: int) -> list[Step]:
    """Consecutive rows into steps of at least `batch_size` samples (the last may hold
    fewer), each split into micro-batches of `micro_batch_size` rows."""
    steps: list[Step] = []
    current: list[Row] = []
    samples = 0
    for row in rows:
        current.append(row)
        samples += len(row)
        if samples >= batch_size:
            steps.append(_micro_batches(current, micro_batch_size))
            current, samples = [], 0
    if current:
        steps.append(_micro_batches(current, micro_batch_size))
    return steps


def _micro_batches(rows: list[Row], size: int) -> Step:
    return [rows[i:i + size] for i in range(0, len(rows), size)]


def non_padding_share(steps: Sequence[Step], lengths: Sequence[int], row_length: int | None = None) -> float:
    """Real tokens over computed tokens: each micro-batch is padded to its longest row, or
    to `row_length` (fixed-size packed rows) when given."""
    real = computed = 0
    for step in steps:
        for micro in step:
            row_sizes = [sum(lengths[i] for i in row) for row in micro]
            real += sum(row_sizes)
            computed += len(micro) * (row_length or max(row_sizes))
    return real / computed if computed else 0.0
