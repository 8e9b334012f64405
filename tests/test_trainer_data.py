"""Chat rendering and labels: only assistant replies are learned, through <|im_end|>."""
import pytest
from trainer_helpers import conversation, demo_dataset, load_demo, tokenizer

from longdata.trainer.batch import collate
from longdata.trainer.data import IGNORE, encode_chat, encode_rows, encode_text
from longdata.trainer.tiny import tiny_tokenizer, row_texts


def learned_segments(example, tok) -> list[str]:
    """Decoded runs of consecutive learned tokens (a target at t learns token t + 1)."""
    learned = [False] + [t != IGNORE for t in example.targets[:-1].tolist()]
    runs, current = [], []
    for token, keep in zip(example.input_ids.tolist(), learned):
        if keep:
            current.append(token)
        elif current:
            runs.append(current)
            current = []
    if current:
        runs.append(current)
    return [tok.decode(run) for run in runs]


def assert_labels_are_the_answers(messages, tok):
    example = encode_chat(messages, tok)
    assert example.input_ids.tolist() == tok(tok.apply_chat_template(messages, tokenize=False),
                                             add_special_tokens=False)["input_ids"]
    assert learned_segments(example, tok) == [m["content"] + "<|im_end|>" for m in messages
                                              if m["role"] == "assistant"]
    learned = example.targets != IGNORE
    assert (example.targets[learned] == example.input_ids[1:][learned[:-1]]).all()
    assert example.targets[-1] == IGNORE


@pytest.mark.parametrize("seed", range(5))
def test_labels_cover_exactly_the_assistant_replies(seed):
    assert_labels_are_the_answers(conversation(seed, turns=3), tokenizer())


def test_labels_on_the_demo_dataset():
    rows = load_demo(demo_dataset())
    tok = tiny_tokenizer(row_texts(rows))
    assert len(tok) <= 1024
    for row in rows:
        assert_labels_are_the_answers(row["messages"], tok)


QWEN3_LIKE = ("{% for m in messages %}{{ '<|im_start|>' + m['role'] + '\\n' }}"
             "{% if m['role'] == 'assistant' and loop.last %}{{ '<think>\\n\\n</think>\\n\\n' }}{% endif %}"
             "{{ m['content'] + '<|im_end|>\\n' }}{% endfor %}")


def test_labels_skip_template_decorations_that_only_the_last_turn_gets():
    """Qwen3's template adds an empty think block to the last reply only, so rendering
    the conversation prefix by prefix would not work; the labels still are the replies."""
    tok = tiny_tokenizer(["think " * 50, " ".join(m["content"] for m in conversation(8, turns=3))])
    tok.chat_template = QWEN3_LIKE
    messages = conversation(8, turns=3)
    assert "<think>" in tok.apply_chat_template(messages, tokenize=False)
    assert_labels_are_the_answers(messages, tok)


def test_samples_without_answers_or_too_long_are_skipped_and_counted():
    tok = tokenizer()
    rows = [{"messages": conversation(1)}, {"messages": [{"role": "user", "content": "no answer"}]},
            {"messages": conversation(2, turns=8, words=60)}, {"messages": conversation(3)}]
    examples, counts = encode_rows(rows, tok, "sft", max_length=400)
    assert [len(e) for e in examples] == [len(encode_chat(rows[i]["messages"], tok)) for i in (0, 3)]
    assert counts == {"rows": 4, "samples": 2, "skipped_no_labels": 1, "skipped_too_long": 1}


def test_pretrain_learns_every_token_in_windows():
    tok = tokenizer()
    text = " ".join(m["content"] for m in conversation(4, turns=6))
    ids = tok(text, add_special_tokens=False)["input_ids"]
    windows = encode_text(text, tok, max_length=64)
    assert [t for w in windows for t in w.input_ids.tolist()] == ids
    assert all(len(w) <= 64 and w.targets.tolist() == w.input_ids[1:].tolist() + [IGNORE] for w in windows)
    examples, counts = encode_rows([{"text": text}], tok, "pretrain", max_length=64)
    assert counts["samples"] == len(examples) == len(windows)


def test_packed_rows_restart_positions_and_never_learn_across_samples():
    tok = tokenizer()
    a, b, c = (encode_chat(conversation(s), tok) for s in (5, 6, 7))
    batch = collate([[a, b], [c]], pad_id=tok.pad_token_id, weight_of=lambda e: 1.0)
    width = len(a) + len(b)
    assert batch["input_ids"].shape == (2, max(width, len(c)))
    assert batch["position_ids"][0].tolist() == list(range(len(a))) + list(range(len(b)))
    assert batch["targets"][0].tolist() == a.targets.tolist() + b.targets.tolist()
    assert batch["targets"][0, len(a) - 1].item() == IGNORE  # a's last token predicts nothing of b
    pad = width - len(c)
    assert batch["targets"][1, len(c):].eq(IGNORE).all() and batch["weights"][1, len(c):].eq(0).all()
    assert batch["input_ids"][1, len(c):].eq(tok.pad_token_id).all()
    assert batch["position_ids"][1, len(c):].tolist() == list(range(pad))
