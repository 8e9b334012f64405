"""Dynamic YaRN for Qwen2-family models (Qwen1.5/2/2.5/3 and their MoE variants).

transformers ships static YaRN (one factor for every length) and dynamic NTK, but not
dynamic YaRN. The method scales each sequence by factor = max(1, (length + 512) /
original context): short sequences keep the original rotary frequencies exactly and long
ones get just enough interpolation, with 512 positions of head room for the answer.
The frequencies and attention scale come from transformers' own YaRN function, so the
two agree whenever the factors agree.
"""
from __future__ import annotations

import copy
import json
from collections import OrderedDict
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import torch
from torch import nn
from transformers.modeling_rope_utils import ROPE_INIT_FUNCTIONS

MARGIN = 512
MODES = ("dynamic", "static", "none")
SETTINGS_FILE = "yarn.json"
# Keys of a model's rope_parameters that shape YaRN besides the factor; a fixed
# `attention_factor` is left out on purpose: it belongs to one factor only.
_YARN_KEYS = ("rope_theta", "partial_rotary_factor", "beta_fast", "beta_slow", "mscale",
              "mscale_all_dim", "truncate")


def dynamic_factor(length: int, original: int, margin: int = MARGIN) -> float:
    """The YaRN factor for a sequence of `length` tokens: max(1, (length + margin) / original)."""
    return max(1.0, (length + margin) / original)


def original_context(config) -> int:
    """The pre-training context: YaRN's `original_max_position_embeddings` if the config
    already carries one, else `max_position_embeddings`."""
    return int((config.rope_parameters or {}).get("original_max_position_embeddings")
               or config.max_position_embeddings)


def yarn_config(config, factor: float, original: int):
    """A shallow copy of `config` whose rope_parameters ask for static YaRN at `factor`."""
    base = {k: v for k, v in (config.rope_parameters or {}).items() if k in _YARN_KEYS}
    out = copy.copy(config)
    out.rope_parameters = {**base, "rope_type": "yarn", "factor": float(factor),
                           "original_max_position_embeddings": int(original)}
    return out


def segment_lengths(position_ids: torch.Tensor) -> torch.Tensor:
    """Per token, the length of the sequence it belongs to. A new sequence starts wherever
    the position does not go up by one, the rule transformers' packed-sequence mask uses."""
    rows, cols = position_ids.shape
    starts = torch.ones_like(position_ids, dtype=torch.bool)
    starts[:, 1:] = position_ids[:, 1:] - position_ids[:, :-1] != 1
    segment = starts.cumsum(-1) - 1 + torch.arange(rows, device=position_ids.device)[:, None] * cols
    longest = torch.zeros(rows * cols, dtype=position_ids.dtype, device=position_ids.device)
    longest.scatter_reduce_(0, segment.flatten(), position_ids.flatten() + 1, "amax")
    return longest[segment]


class DynamicYarnRotaryEmbedding(nn.Module):
    """Drop-in for `Qwen2RotaryEmbedding` (same `forward(x, position_ids) -> (cos, sin)`).

    Each packed sequence gets the factor of its own length, so packing does not change a
    sample's positions. A forward whose positions do not start at 0 continues the
    sequences of the previous one (generation with a KV cache): it keeps the factors fixed
    at prefill, because the cached keys were rotated with them.
    """

    def __init__(self, config, original_max_position_embeddings: int, margin: int = MARGIN,
                 cache_size: int = 64):
        super().__init__()
        self.config = config
        self.original = int(original_max_position_embeddings)
        self.margin = margin
        self.cache_size = cache_size
        self._cache: OrderedDict[tuple[float, torch.device], tuple[torch.Tensor, float]] = OrderedDict()
        self._prefill_factors: torch.Tensor | None = None

    def parameters_for(self, factor: float, device: torch.device) -> tuple[torch.Tensor, float]:
        """(inv_freq, attention scale) for `factor`, computed by transformers and cached."""
        key = (factor, device)
        if key not in self._cache:
            inv_freq, scale = ROPE_INIT_FUNCTIONS["yarn"](yarn_config(self.config, factor, self.original))
            self._cache[key] = (inv_freq.to(device), float(scale))
            while len(self._cache) > self.cache_size:
                self._cache.popitem(last=False)
        self._cache.move_to_end(key)
        return self._cache[key]

    def token_factors(self, position_ids: torch.Tensor) -> torch.Tensor:
        """Per token factor, (batch, length), float64 so equal lengths give equal keys."""
        continuing = self._prefill_factors is not None and bool(position_ids.min() > 0)
        if continuing:
            if self._prefill_factors.shape[0] != position_ids.shape[0]:
                raise RuntimeError("dynamic YaRN: the batch changed size since prefill; start the "
                                   "sequences again from position 0")
            return self._prefill_factors[:, None].expand(position_ids.shape)
        lengths = segment_lengths(position_ids).double()
        factors = ((lengths + self.margin) / self.original).clamp(min=1.0)
        self._prefill_factors = factors[:, -1].clone()
        return factors

    @torch.no_grad()
    def forward(self, x: torch.Tensor, position_ids: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        factors = self.token_factors(position_ids)
        unique, index = torch.unique(factors, return_inverse=True)
        params = [self.parameters_for(f, x.device) for f in unique.tolist()]
        inv_freq = torch.stack([p[0] for p in params]).float()[index]
        scale = torch.tensor([p[1] for p in params], device=x.device)[index][..., None]
        freqs = position_ids[..., None].float() * inv_freq
        emb = torch.cat((freqs, freqs), dim=-1)
        return (emb.cos() * scale).to(x.dtype), (emb.sin() * scale).to(x.dtype)


def _rotary_parents(model: nn.Module) -> list[nn.Module]:
    """Modules holding a `rotary_emb` child (the decoder of a Qwen2-family model)."""
    return [m for m in model.modules() if isinstance(getattr(m, "rotary_emb", None), nn.Module)]


@dataclass(frozen=True)
class YarnSettings:
    """How a model's rotary embedding was changed; saved beside an adapter so that the
    model is rebuilt the same way for inference or merging.

    `static` is transformers' own YaRN at `factor`: the config gets `rope_type: yarn`, so a
    merged model saved afterwards loads with it. `dynamic` cannot be written into a
    config: apply these settings again after loading the model.
    """

    mode: str = "dynamic"
    original_max_position_embeddings: int | None = None
    factor: float | None = None

    def __post_init__(self):
        if self.mode not in MODES:
            raise ValueError(f"YaRN mode must be one of {MODES}, got {self.mode!r}")
        if self.mode == "static" and not self.factor:
            raise ValueError("static YaRN needs a factor")

    def apply(self, model: nn.Module) -> "YarnSettings":
        """Patch `model` (before PEFT wraps it); returns the settings with the original
        context filled in from the config when it was not given."""
        settings = replace(self, original_max_position_embeddings=int(
            self.original_max_position_embeddings or original_context(model.config)))
        if self.mode == "none":
            return settings
        parents = _rotary_parents(model)
        if not parents:
            raise ValueError(f"{type(model).__name__} has no `rotary_emb` module: not a Qwen2-family model")
        original = settings.original_max_position_embeddings
        if self.mode == "static":
            model.config.rope_parameters = yarn_config(model.config, self.factor, original).rope_parameters
        for parent in parents:
            old = parent.rotary_emb
            device = next(iter(old.buffers()), torch.empty(0)).device
            parent.rotary_emb = (type(old)(config=model.config).to(device) if self.mode == "static"
                                 else DynamicYarnRotaryEmbedding(model.config, original))
        return settings

    def save(self, folder: str | Path) -> None:
        (Path(folder) / SETTINGS_FILE).write_text(json.dumps(asdict(self), indent=2) + "\n")

    @classmethod
    def load(cls, folder: str | Path) -> "YarnSettings":
        path = Path(folder) / SETTINGS_FILE
        return cls(**json.loads(path.read_text())) if path.is_file() else cls(mode="none")


def patch_model(model: nn.Module, original_max_position_embeddings: int | None = None,
                mode: str = "dynamic", factor: float | None = None) -> YarnSettings:
    """Switch a loaded Qwen2-family model to dynamic YaRN (or static YaRN at `factor`)."""
    return YarnSettings(mode, original_max_position_embeddings, factor).apply(model)
