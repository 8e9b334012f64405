"""The thin fine-tuning path: dynamic-YaRN Qwen, (Q)LoRA, assistant-only loss, packing.

Needs the `train` extra (torch, transformers, peft); bitsandbytes only for QLoRA on CUDA.
"""
