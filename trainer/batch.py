"""Rows of examples -> the tensors of one micro-batch."""
from __future__ import annotations

from typing import Callable, Sequence

import numpy as np
import torch

from .data import IGNORE, Example


def collate(rows: Sequence[Sequence[Example]], pad_id: int,
            weight_of: Callable[[Example], float]) -> dict[str, torch.Tensor]:
    """`input_ids`, `position_ids`, `targets` and per-token loss `weights`, (rows, longest row).

    Positions restart at 0 for every sample (and for the padding at the end of a row), so
    no sample attends to another. Padding has no target and weight 0.
    """
    width = max(sum(len(e) for e in row) for row in rows)
    shape = (len(rows), width)
    ids, targets = np.full(shape, pad_id, dtype=np.int64), np.full(shape, IGNORE, dtype=np.int64)
    positions, weights = np.zeros(shape, dtype=np.int64), np.zeros(shape, dtype=np.float32)
    for r, row in enumerate(rows):
        at = 0
        for example in row:
            end = at + len(example)
            ids[r, at:end], targets[r, at:end] = example.input_ids, example.targets
            positions[r, at:end] = np.arange(len(example))
            weights[r, at:end] = np.where(example.targets != IGNORE, weight_of(example), 0.0)
            at = end
        positions[r, at:] = np.arange(width - at)
    return {"input_ids": torch.from_numpy(ids), "position_ids": torch.from_numpy(positions),
            "targets": torch.from_numpy(targets), "weights": torch.from_numpy(weights)}
