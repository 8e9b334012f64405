"""`longdata train`: fine-tune a Qwen2-family model on a LongData dataset with (Q)LoRA.

Reads `load_dataset(DATA, CONFIG)` (a Hub id or a local Hub-shaped folder), learns only
the assistant turns (`--phase sft`, `messages` column) or every token (`--phase pretrain`,
`text` column), switches the model to dynamic YaRN, packs samples, and saves a LoRA
adapter (optionally merged into the base model).
"""
from __future__ import annotations

import argparse
import json
import math
import random
import sys
import time
from pathlib import Path

from .data import PHASES
from .loss import AVERAGES
from .yarn import MARGIN, MODES, dynamic_factor

SUMMARY_FILE = "train_summary.json"


def positive(value: str) -> int:
    number = int(value)
    if number < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return number


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="longdata train", description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--model", required=True, help="base model: Hub id or local folder")
    p.add_argument("--data", required=True, help="dataset: Hub id or local Hub-shaped folder")
    p.add_argument("--config", default=None, help="dataset config, e.g. en-32k")
    p.add_argument("--split", default="train")
    p.add_argument("--output", default="longdata-adapter", help="folder for the adapter and summary")
    p.add_argument("--phase", choices=PHASES, default="sft",
                   help="sft: loss on assistant turns of `messages`; pretrain: plain LM loss on `text`")
    p.add_argument("--max-length", type=positive, default=32768,
                   help="longest row; longer SFT samples are skipped, longer texts cut into windows")
    p.add_argument("--packing", action=argparse.BooleanOptionalAction, default=True,
                   help="pack samples into rows of --max-length (best-fit decreasing)")
    p.add_argument("--sorted-batching", action="store_true",
                   help="without packing: batch samples of similar length, in shuffled batch order")
    p.add_argument("--loss-average", choices=AVERAGES, default="token",
                   help="token: mean over learned tokens; sequence: mean of per-sample means (LongAlign)")
    p.add_argument("--yarn", choices=MODES, default="dynamic",
                   help=f"dynamic: factor max(1, (length + {MARGIN}) / original context) per sequence; "
                        f"static: transformers' YaRN with the factor of --max-length")
    p.add_argument("--original-max-position-embeddings", type=positive, default=None,
                   help="the base model's pre-training context (default: from its config)")
    p.add_argument("--qlora", action=argparse.BooleanOptionalAction, default=True,
                   help="4-bit nf4 base with double quantisation and bf16 compute (CUDA only)")
    p.add_argument("--lora-r", type=positive, default=16)
    p.add_argument("--lora-alpha", type=int, default=64)
    p.add_argument("--lora-dropout", type=float, default=0.1)
    p.add_argument("--train-norms", action="store_true",
                   help="train the normalisation layers too (continued pre-training phase)")
    p.add_argument("--lr", type=float, default=5e-5, help="peak learning rate (linear schedule)")
    p.add_argument("--warmup", type=float, default=0.01, help="share of steps for linear warm-up")
    p.add_argument("--batch-size", type=positive, default=64, help="samples per optimizer step")
    p.add_argument("--micro-batch-size", type=positive, default=1,
                   help="rows per forward pass; a step accumulates gradients over its micro-batches")
    p.add_argument("--epochs", type=positive, default=1)
    p.add_argument("--max-steps", type=positive, default=None, help="stop after this many steps (repeats epochs)")
    p.add_argument("--activation-checkpointing", action=argparse.BooleanOptionalAction, default=True)
    p.add_argument("--attn-implementation", default="sdpa",
                   help="flash_attention_2 (with flash-attn installed) packs without a row x row mask")
    p.add_argument("--merge", action="store_true", help="also save the base model with the adapter merged in")
    p.add_argument("--tokenizer", default=None, help="tokenizer, if not the model's")
    p.add_argument("--seed", type=int, default=0)
    return p


def plan(lengths: list[int], args: argparse.Namespace) -> list:
    """Steps for `--epochs` epochs, or as many epochs as `--max-steps` needs."""
    from .packing import make_rows, make_steps

    rng = random.Random(args.seed)
    steps: list = []
    epochs = 0
    while epochs < args.epochs or (args.max_steps and len(steps) < args.max_steps):
        rows = make_rows(lengths, args.max_length, args.packing, args.sorted_batching, args.batch_size, rng)
        steps += make_steps(rows, args.batch_size, args.micro_batch_size)
        epochs += 1
    return steps[:args.max_steps] if args.max_steps else steps


def load_examples(args: argparse.Namespace, tokenizer):
    from datasets import load_dataset

    from .data import encode_rows

    dataset = load_dataset(args.data, args.config, split=args.split)
    examples, counts = encode_rows(dataset, tokenizer, args.phase, args.max_length)
    print("data: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
    return examples, counts


def yarn_settings(args: argparse.Namespace, model):
    from .yarn import YarnSettings, original_context

    original = args.original_max_position_embeddings or original_context(model.config)
    factor = dynamic_factor(args.max_length, original) if args.yarn == "static" else None
    return YarnSettings(args.yarn, original, factor)


def merge(output: Path, tokenizer, yarn) -> Path:
    """Reload the base unquantised, apply the adapter and save the merged model (with
    `yarn.json`: dynamic YaRN is not a config setting and must be applied after loading)."""
    from .model import load_trained

    merged_dir = output / "merged"
    load_trained(str(output)).merge_and_unload().save_pretrained(merged_dir)
    tokenizer.save_pretrained(merged_dir)
    yarn.save(merged_dir)
    return merged_dir


def prepare_model(args: argparse.Namespace):
    """Base model (4-bit on CUDA), switched to the chosen YaRN, wrapped with LoRA."""
    from .model import LoraSettings, add_lora, load_base, use_qlora

    qlora = use_qlora(args.qlora)
    model = load_base(args.model, qlora, args.activation_checkpointing, args.attn_implementation)
    yarn = yarn_settings(args, model).apply(model)
    model = add_lora(model, LoraSettings(args.lora_r, args.lora_alpha, args.lora_dropout, args.train_norms))
    return model, yarn, qlora


def summarise(args: argparse.Namespace, counts, steps: list, logs: list, seconds: float, yarn, qlora: bool) -> dict:
    tokens = sum(entry.tokens for entry in logs)
    return {
        "model": args.model, "data": args.data, "config": args.config, "phase": args.phase,
        "method": "qlora" if qlora else "lora", "yarn": yarn.mode,
        "original_max_position_embeddings": yarn.original_max_position_embeddings,
        "data_counts": dict(counts), "steps": len(logs),
        "samples_seen": sum(len(row) for step in steps for micro in step for row in micro),
        "tokens_seen": tokens, "first_loss": logs[0].loss, "last_loss": logs[-1].loss,
        "seconds": round(seconds, 1), "tokens_per_second": round(tokens / seconds, 1),
        "peak_memory_gib": round(max(entry.peak_memory_gib for entry in logs), 3),
    }


def summary_line(summary: dict, output: Path) -> str:
    merged = f", merged model in {summary['merged']}" if "merged" in summary else ""
    return (f"done: {summary['steps']} steps, {summary['samples_seen']} samples, {summary['tokens_seen']:,} tokens "
            f"in {summary['seconds']} s ({summary['tokens_per_second']:,.0f} tokens/s, peak memory "
            f"{summary['peak_memory_gib']} GiB); loss {summary['first_loss']:.4f} -> {summary['last_loss']:.4f}; "
            f"adapter in {output}{merged}")


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.sorted_batching and args.packing:
        parser.error("--sorted-batching applies without packing: add --no-packing")
    if args.packing and args.micro_batch_size > 1 and "flash" in args.attn_implementation:
        parser.error("flash attention keeps packed samples apart only one row at a time: "
                     "use --micro-batch-size 1 with packing")
    import torch
    from transformers import AutoTokenizer, get_linear_schedule_with_warmup

    from .loop import train

    torch.manual_seed(args.seed)
    tokenizer = AutoTokenizer.from_pretrained(args.tokenizer or args.model)
    examples, counts = load_examples(args, tokenizer)
    if not examples:
        print(f"error: no usable samples in {args.data} (see the counts above)", file=sys.stderr)
        return 1
    steps = plan([len(e) for e in examples], args)

    model, yarn, qlora = prepare_model(args)
    device = next(model.parameters()).device
    trainable = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(trainable, lr=args.lr, weight_decay=0.0)
    scheduler = get_linear_schedule_with_warmup(optimizer, math.ceil(args.warmup * len(steps)), len(steps))
    print(f"training {'QLoRA' if qlora else 'LoRA'} ({sum(p.numel() for p in trainable):,} parameters) "
          f"for {len(steps)} steps on {device}; YaRN {yarn.mode}, original context "
          f"{yarn.original_max_position_embeddings}")

    start = time.perf_counter()
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    logs = train(model, optimizer, scheduler, steps, examples, pad_id, args.loss_average, device,
                 log=lambda entry: print(entry.line(len(steps)), flush=True))
    summary = summarise(args, counts, steps, logs, time.perf_counter() - start, yarn, qlora)

    output = Path(args.output)
    model.save_pretrained(output)
    tokenizer.save_pretrained(output)
    yarn.save(output)
    if args.merge:
        summary["merged"] = str(merge(output, tokenizer, yarn))
    (output / SUMMARY_FILE).write_text(json.dumps(summary, indent=2) + "\n")
    print(summary_line(summary, output))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
