"""Packing changes no sample's loss, and the step weights give the two averages exactly."""
import pytest
import torch
from trainer_helpers import conversation, model, tokenizer

from longdata.trainer.batch import collate
from longdata.trainer.data import IGNORE, encode_chat
from longdata.trainer.loss import token_losses, weight_function
from longdata.trainer.packing import best_fit_decreasing
from longdata.trainer.yarn import patch_model

ORIGINAL = 128  # small, so that dynamic YaRN gives the longer samples factors above 1


def examples():
    tok = tokenizer()
    return [encode_chat(conversation(seed, turns=1 + seed % 3, words=10 + 15 * seed), tok) for seed in range(6)]


def losses_of(m, rows, weight_of=lambda e: 1.0):
    """Per-token losses and weights of one micro-batch of `rows` (lists of examples)."""
    batch = collate(rows, tokenizer().pad_token_id, weight_of)
    with torch.no_grad():
        return token_losses(m, batch["input_ids"], batch["position_ids"], batch["targets"]), batch


def sample_losses(losses, rows):
    """Per-token losses of each sample, cut out of packed rows, in row order."""
    out = []
    for r, row in enumerate(rows):
        start = 0
        for example in row:
            mask = torch.from_numpy(example.targets != IGNORE)
            out.append(losses[r, start:start + len(example)][mask])
            start += len(example)
    return out


@pytest.mark.parametrize("yarn", ["none", "dynamic"])
def test_packed_batch_gives_each_sample_its_loss_alone(yarn):
    m = model()
    if yarn == "dynamic":
        patch_model(m, ORIGINAL)
    data = examples()
    assert max(len(e) for e in data) + 512 > 2 * ORIGINAL  # factors differ between samples
    bins = best_fit_decreasing([len(e) for e in data], max(len(e) for e in data) + 40)
    rows = [[data[i] for i in b] for b in bins]
    assert len(rows) < len(data) and max(map(len, rows)) > 1
    packed = sample_losses(losses_of(m, rows)[0], rows)
    alone = [sample_losses(losses_of(m, [[e]])[0], [[e]])[0] for row in rows for e in row]
    for p, a in zip(packed, alone):
        torch.testing.assert_close(p, a, rtol=0, atol=1e-5)
    # the check has teeth: positions running on across samples change the losses
    joined = collate(rows, tokenizer().pad_token_id, lambda e: 1.0)
    running = torch.arange(joined["input_ids"].shape[1]).expand_as(joined["input_ids"])
    with torch.no_grad():
        leaky = token_losses(m, joined["input_ids"], running, joined["targets"])
    assert max((p - a).abs().max() for p, a in zip(sample_losses(leaky, rows), alone)) > 1e-3


@pytest.mark.parametrize("average", ["sequence", "token"])
def test_step_weights_give_the_average_over_micro_batches(average):
    m = model()
    data = examples()
    alone = [losses_of(m, [[e]])[0] for e in data]
    weight_of = weight_function(data, average)
    micro_batches = [[[data[0], data[3]], [data[1]]], [[data[2], data[4], data[5]]]]  # any split
    step = sum((losses * batch["weights"]).sum() for losses, batch in
               (losses_of(m, rows, weight_of) for rows in micro_batches))
    if average == "sequence":
        expected = torch.stack([a.sum() / e.num_targets for a, e in zip(alone, data)]).mean()
    else:
        expected = torch.stack([a.sum() for a in alone]).sum() / sum(e.num_targets for e in data)
    torch.testing.assert_close(step, expected, rtol=1e-5, atol=1e-6)


def test_the_two_averages_differ_when_answer_lengths_differ():
    m = model()
    data = examples()
    totals = {}
    for average in ("sequence", "token"):
        losses, batch = losses_of(m, [[e] for e in data], weight_function(data, average))
        totals[average] = (losses * batch["weights"]).sum().item()
    assert abs(totals["sequence"] - totals["token"]) > 1e-4


def test_gradients_flow_through_chunked_logits():
    m = model().train()
    data = examples()[:2]
    batch = collate([data], tokenizer().pad_token_id, weight_function(data, "token"))
    full = token_losses(m, batch["input_ids"], batch["position_ids"], batch["targets"])
    chunked = token_losses(m, batch["input_ids"], batch["position_ids"], batch["targets"], chunk_size=7)
    torch.testing.assert_close(full, chunked)
    (chunked * batch["weights"]).sum().backward()
    assert m.lm_head.weight.grad is not None and m.lm_head.weight.grad.abs().sum() > 0
