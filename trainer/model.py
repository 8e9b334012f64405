"""Load the base model (4-bit QLoRA on CUDA, full precision on CPU) and add LoRA."""
from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class LoraSettings:
    """The method's defaults: r=16, alpha=64, dropout 0.1 on every linear layer."""

    r: int = 16
    alpha: int = 64
    dropout: float = 0.1
    train_norms: bool = False


def use_qlora(requested: bool) -> bool:
    """QLoRA needs CUDA (and bitsandbytes); elsewhere say so and fall back to LoRA."""
    if requested and not torch.cuda.is_available():
        print("notice: CUDA is not available, so this trains plain LoRA on a float32 model "
              "(QLoRA's 4-bit layers need CUDA and bitsandbytes)")
        return False
    return requested


def compute_dtype() -> torch.dtype:
    """bf16 on CUDA (QLoRA's compute dtype), float32 on CPU."""
    return torch.bfloat16 if torch.cuda.is_available() else torch.float32


def load_base(name_or_path: str, qlora: bool, activation_checkpointing: bool = True,
              attn_implementation: str = "sdpa"):
    """The causal LM, 4-bit nf4 with double quantisation when `qlora`, ready for training."""
    from transformers import AutoModelForCausalLM

    kwargs = {"dtype": compute_dtype(), "attn_implementation": attn_implementation}
    if qlora:
        from transformers import BitsAndBytesConfig  # bitsandbytes is imported only here

        kwargs.update(device_map={"": torch.cuda.current_device()}, quantization_config=BitsAndBytesConfig(
            load_in_4bit=True, bnb_4bit_quant_type="nf4", bnb_4bit_use_double_quant=True,
            bnb_4bit_compute_dtype=torch.bfloat16))
    elif torch.cuda.is_available():
        kwargs["device_map"] = {"": torch.cuda.current_device()}
    model = AutoModelForCausalLM.from_pretrained(name_or_path, **kwargs)
    model.config.use_cache = False
    checkpointing = {"use_reentrant": False}
    if qlora:
        from peft import prepare_model_for_kbit_training

        model = prepare_model_for_kbit_training(model, use_gradient_checkpointing=activation_checkpointing,
                                                gradient_checkpointing_kwargs=checkpointing)
    elif activation_checkpointing:
        model.activation_checkpointing_enable(checkpointing)
    return model


def norm_module_names(model: torch.nn.Module) -> list[str]:
    """Last name parts of the normalisation layers (input_layernorm, norm, q_norm, ...)."""
    return sorted({name.rsplit(".", 1)[-1] for name, module in model.named_modules()
                   if name and "norm" in type(module).__name__.lower()})


def add_lora(model: torch.nn.Module, settings: LoraSettings):
    """Wrap with LoRA on all linear layers; with `train_norms` the norm layers train too
    and are saved with the adapter."""
    from peft import LoraConfig, get_peft_model

    config = LoraConfig(r=settings.r, lora_alpha=settings.alpha, lora_dropout=settings.dropout,
                        target_modules="all-linear", task_type="CAUSAL_LM",
                        modules_to_save=norm_module_names(model) if settings.train_norms else None)
    return get_peft_model(model, config)


def load_trained(adapter_dir: str, base: str | None = None, dtype: torch.dtype | None = None):
    """Base model (from the adapter's config unless `base` is given) with the saved YaRN
    settings applied and the adapter loaded: for inference, evaluation and merging."""
    from peft import PeftConfig, PeftModel
    from transformers import AutoModelForCausalLM

    from .yarn import YarnSettings

    base = base or PeftConfig.from_pretrained(adapter_dir).base_model_name_or_path
    model = AutoModelForCausalLM.from_pretrained(base, dtype=dtype or compute_dtype())
    YarnSettings.load(adapter_dir).apply(model)
    return PeftModel.from_pretrained(model, adapter_dir)
