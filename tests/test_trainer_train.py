"""`longdata train` end to end on CPU with a tiny random Qwen2: the loss goes down, the
adapter saves, reloads (with its YaRN settings) and merges; QLoRA runs only on CUDA."""
import json
import re

import pytest
import torch
from datasets import Dataset, get_dataset_config_names
from trainer_helpers import conversation, demo_dataset, load_demo

from longdata.trainer import train
from longdata.trainer.batch import collate
from longdata.trainer.data import encode_rows
from longdata.trainer.loss import token_losses, weight_function
from longdata.trainer.model import load_trained, use_qlora
from longdata.trainer.tiny import row_texts, save_tiny
from longdata.trainer.yarn import YarnSettings


def mean_loss(model, examples, pad_id) -> float:
    batch = collate([[e] for e in examples], pad_id, weight_function(examples, "token"))
    with torch.no_grad():
        return (token_losses(model.eval(), batch["input_ids"], batch["position_ids"], batch["targets"])
                * batch["weights"]).sum().item()


def step_losses(stdout: str) -> list[float]:
    return [float(m) for m in re.findall(r"^step \d+/\d+  loss ([0-9.]+)", stdout, re.MULTILINE)]


def test_thirty_steps_lower_the_loss_and_the_adapter_reloads(tmp_path, capsys):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    demo = demo_dataset()
    rows = load_demo(demo)
    base, out = tmp_path / "base", tmp_path / "adapter"
    save_tiny(str(base), row_texts(rows))
    assert train.main(["--model", str(base), "--data", str(demo),
                       "--config", get_dataset_config_names(str(demo))[0], "--output", str(out),
                       "--max-steps", "30", "--batch-size", "2", "--micro-batch-size", "2", "--no-packing",
                       "--lr", "2e-3", "--max-length", "16384", "--original-max-position-embeddings", "1024",
                       "--train-norms", "--merge"]) == 0
    losses = step_losses(capsys.readouterr().out)
    assert len(losses) == 30 and sum(losses[-5:]) < sum(losses[:5])
    summary = json.loads((out / train.SUMMARY_FILE).read_text())
    assert summary["steps"] == 30 and summary["data_counts"]["samples"] == len(rows)

    tokenizer = AutoTokenizer.from_pretrained(out)
    examples, _ = encode_rows(rows, tokenizer, "sft", 16384)
    assert YarnSettings.load(out) == YarnSettings("dynamic", 1024)
    trained = load_trained(str(out), dtype=torch.float32)
    assert trained.base_model.model.model.rotary_emb.original == 1024
    untrained = AutoModelForCausalLM.from_pretrained(base)
    YarnSettings.load(out).apply(untrained)
    assert mean_loss(trained, examples, tokenizer.pad_token_id) < mean_loss(untrained, examples, tokenizer.pad_token_id) - 0.05

    merged = AutoModelForCausalLM.from_pretrained(out / "merged")
    YarnSettings.load(out / "merged").apply(merged)
    ids = torch.tensor(examples[0].input_ids[None], dtype=torch.long)
    with torch.no_grad():
        torch.testing.assert_close(merged(ids).logits, trained(ids).logits, rtol=1e-4, atol=1e-4)


@pytest.fixture
def chat_folder(tmp_path):
    """A small local dataset folder laid out like a Hub repo, and a tiny model for it."""
    rows = [{"messages": conversation(seed, turns=2), "text": " ".join(m["content"] for m in conversation(seed))}
            for seed in range(6)]
    Dataset.from_list(rows).to_parquet(tmp_path / "data" / "data" / "train-00000-of-00001.parquet")
    save_tiny(str(tmp_path / "base"), row_texts(rows))
    return tmp_path


def run_quick(folder, *extra) -> dict:
    out = folder / "out"
    assert train.main(["--model", str(folder / "base"), "--data", str(folder / "data"), "--output", str(out),
                       "--max-steps", "2", "--batch-size", "2", "--max-length", "512", *extra]) == 0
    return json.loads((out / train.SUMMARY_FILE).read_text())


def test_pretrain_phase_with_sequence_average_and_static_yarn(chat_folder):
    summary = run_quick(chat_folder, "--phase", "pretrain", "--loss-average", "sequence", "--yarn", "static",
                        "--original-max-position-embeddings", "256")
    assert summary["phase"] == "pretrain" and summary["steps"] == 2 and summary["yarn"] == "static"
    assert YarnSettings.load(chat_folder / "out") == YarnSettings("static", 256, (512 + 512) / 256)


@pytest.mark.parametrize("bad", [["--sorted-batching"], ["--micro-batch-size", "2", "--attn-implementation",
                                                          "flash_attention_2"], ["--max-steps", "0"]])
def test_settings_that_cannot_work_are_refused(bad, capsys):
    with pytest.raises(SystemExit):
        train.main(["--model", "x", "--data", "y", *bad])
    assert "error:" in capsys.readouterr().err


def test_sorted_batching_without_packing(chat_folder):
    assert run_quick(chat_folder, "--no-packing", "--sorted-batching")["steps"] == 2


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the CPU fallback")
def test_cpu_falls_back_to_lora_with_a_notice(capsys):
    assert use_qlora(True) is False
    notice = capsys.readouterr().out
    assert "CUDA is not available" in notice and "plain LoRA" in notice
    assert use_qlora(False) is False and capsys.readouterr().out == ""


@pytest.mark.skipif(not torch.cuda.is_available(), reason="QLoRA needs CUDA")
def test_qlora_trains_a_4bit_base(chat_folder):
    pytest.importorskip("bitsandbytes")
    import bitsandbytes as bnb

    from longdata.trainer.model import load_base

    summary = run_quick(chat_folder)
    assert summary["method"] == "qlora" and summary["last_loss"] == summary["last_loss"]  # not NaN
    base = load_base(str(chat_folder / "base"), qlora=True)
    assert any(isinstance(m, bnb.nn.Linear4bit) for m in base.modules())
