"""Per-token losses and the weights that average them over an optimizer step.

Each token's loss is multiplied by a weight fixed before the step starts, so the sum over
all micro-batches of a step is exactly the step's average however the samples were packed
or split for gradient accumulation:
- `token`: every learned token counts the same (weight 1 / tokens in the step);
- `sequence` (LongAlign's loss weighting): each sample's mean loss counts the same
  (weight 1 / (sample's tokens * samples in the step)), so long answers do not drown
  short ones when samples are packed.
"""
from __future__ import annotations

from typing import Sequence

import torch
import torch.nn.functional as F
from torch.utils.checkpoint import checkpoint

from .data import IGNORE, Example

AVERAGES = ("token", "sequence")


def weight_function(step_examples: Sequence[Example], average: str):
    """The per-token weight of each sample of one step, as a function of the sample."""
    if average == "token":
        total = sum(e.num_targets for e in step_examples)
        return lambda example: 1.0 / total
    if average == "sequence":
        count = len(step_examples)
        return lambda example: 1.0 / (example.num_targets * count)
    raise ValueError(f"loss average must be one of {AVERAGES}, got {average!r}")


def _causal_lm(model: torch.nn.Module) -> torch.nn.Module:
    """The transformers model under a PEFT wrapper (LoRA layers are injected in place)."""
    return model.get_base_model() if hasattr(model, "get_base_model") else model


def _chunk_losses(head: torch.nn.Module, hidden: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    return F.cross_entropy(head(hidden).float(), targets, reduction="none")


def token_losses(model: torch.nn.Module, input_ids: torch.Tensor, position_ids: torch.Tensor,
                 targets: torch.Tensor, chunk_size: int = 4096) -> torch.Tensor:
    """Cross-entropy per token, (batch, length), 0 where the target is IGNORE.

    No attention mask and no cache: transformers then builds the block-diagonal mask of
    packed rows from `position_ids`. Logits are computed only for learned positions, a
    chunk at a time and recomputed in backward, so a 32k row with a 150k vocabulary never
    holds its full logits.
    """
    lm = _causal_lm(model)
    hidden = lm.get_decoder()(input_ids=input_ids, position_ids=position_ids,
                              use_cache=False).last_hidden_state
    learned = targets != IGNORE
    selected, wanted = hidden[learned], targets[learned]
    head = lm.get_output_embeddings()
    pieces = [checkpoint(_chunk_losses, head, selected[i:i + chunk_size], wanted[i:i + chunk_size],
                         use_reentrant=False) if torch.is_grad_enabled()
              else _chunk_losses(head, selected[i:i + chunk_size], wanted[i:i + chunk_size])
              for i in range(0, len(wanted), chunk_size)]
    out = torch.zeros(targets.shape, dtype=torch.float32, device=hidden.device)
    if pieces:
        out[learned] = torch.cat(pieces)
    return out
