"""The training loop: one optimizer step per planned step, gradient accumulation over its
micro-batches, with loss, tokens/s and peak memory logged."""
from __future__ import annotations

import resource
import time
from dataclasses import dataclass
from typing import Callable, Sequence

import torch

from .batch import collate
from .data import Example
from .loss import token_losses, weight_function
from .packing import Step


@dataclass(frozen=True)
class StepLog:
    step: int
    loss: float
    lr: float
    tokens: int
    seconds: float
    peak_memory_gib: float

    @property
    def tokens_per_second(self) -> float:
        return self.tokens / self.seconds if self.seconds else 0.0

    def line(self, total: int) -> str:
        return (f"step {self.step}/{total}  loss {self.loss:.4f}  lr {self.lr:.2e}  "
                f"tokens/s {self.tokens_per_second:,.0f}  peak memory {self.peak_memory_gib:.2f} GiB")


def peak_memory_gib(device: torch.device) -> float:
    """Peak allocated GPU memory on CUDA; peak resident memory of the process otherwise."""
    if device.type == "cuda":
        return torch.cuda.max_memory_allocated(device) / 2**30
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20  # KiB on Linux


def step_loss(model: torch.nn.Module, examples: Sequence[Example], step: Step, pad_id: int,
              average: str, device: torch.device) -> float:
    """Forward and backward over the micro-batches of one step; returns the step's loss.

    Each micro-batch's loss carries the step-wide weights, so the accumulated gradient is
    the gradient of the step's average loss."""
    weight_of = weight_function([examples[i] for micro in step for row in micro for i in row], average)
    total = 0.0
    for micro in step:
        batch = collate([[examples[i] for i in row] for row in micro], pad_id, weight_of)
        batch = {k: v.to(device) for k, v in batch.items()}
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=device.type == "cuda"):
            losses = token_losses(model, batch["input_ids"], batch["position_ids"], batch["targets"])
        loss = (losses * batch["weights"]).sum()
        loss.backward()
        total += loss.item()
    return total


def train(model: torch.nn.Module, optimizer: torch.optim.Optimizer, scheduler, steps: Sequence[Step],
          examples: Sequence[Example], pad_id: int, average: str, device: torch.device,
          log: Callable[[StepLog], None], max_grad_norm: float = 1.0) -> list[StepLog]:
    """Run every step; `log` gets each step's record."""
    model.train()
    params = [p for p in model.parameters() if p.requires_grad]
    logs = []
    for n, step in enumerate(steps, 1):
        start = time.perf_counter()
        lr = optimizer.param_groups[0]["lr"]
        loss = step_loss(model, examples, step, pad_id, average, device)
        torch.nn.utils.clip_grad_norm_(params, max_grad_norm)
        optimizer.step()
        scheduler.step()
        optimizer.zero_grad(set_to_none=True)
        tokens = sum(len(examples[i]) for micro in step for row in micro for i in row)
        logs.append(StepLog(n, loss, lr, tokens, time.perf_counter() - start, peak_memory_gib(device)))
        log(logs[-1])
    return logs
