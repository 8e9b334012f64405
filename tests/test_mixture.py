"""mixture: record formats and their rejects, exact counts, ratios within one sample, the
length target, and an end-to-end build from a built long dataset and user files."""
from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
from datasets import load_dataset

from conftest import run_generate
from longdata.conversations import to_messages
from longdata.data import demo_corpus
from longdata.mixing import COMPONENTS, allocate, component_counts, largest_remainder, parse_length_target
from multidoc_checks import qwen_chat_tokens
from test_generate import parquet_bytes


def test_the_three_formats_give_the_same_messages():
    want = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Name a colour.\n\nOne word."},
            {"role": "assistant", "content": "Blue."}]
    assert to_messages({"messages": want}) == want
    assert to_messages({"conversations": [{"from": "system", "value": "Be brief."},
                                          {"from": "human", "value": "Name a colour.\n\nOne word."},
                                          {"from": "gpt", "value": " Blue. "}]}) == want
    assert to_messages({"system": "Be brief.", "instruction": "Name a colour.", "input": "One word.",
                        "output": "Blue."}) == want
    assert to_messages({"instruction": "Name a colour.", "input": "", "output": "Blue."})[0]["content"] == "Name a colour."


@pytest.mark.parametrize("record, reason", [
    ({"conversations": [{"from": "human", "value": "hi"}, {"from": "bot", "value": "hello"}]}, "unknown role"),
    ({"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "  "}]}, "empty turn"),
    ({"messages": [{"role": "user", "content": "a"}, {"role": "user", "content": "b"},
                   {"role": "assistant", "content": "c"}]}, "two user turns in a row"),
    ({"messages": [{"role": "user", "content": "a"}, {"role": "assistant", "content": "b"},
                   {"role": "user", "content": "c"}]}, "no final assistant turn"),
    ({"messages": [{"role": "assistant", "content": "a"}]}, "starts with an assistant turn"),
    ({"messages": [{"role": "user", "content": "a"}, {"role": "system", "content": "b"}]}, "system turn not first"),
    ({"text": "a document"}, "unknown format"),
    (["not", "a", "record"], "not a JSON object"),
])
def test_unusable_records_are_rejected_by_name(record, reason):
    got = to_messages(record)
    assert isinstance(got, str) and got.split(":")[0] == reason, got


def test_counts_are_exact_or_refused():
    assert component_counts({"long": 50, "short": 9, "conversations": 4}, {"long": 20, "short": 9}, None, None) == \
        {"long": 20, "short": 9, "conversations": 0}
    with pytest.raises(ValueError, match="short 10 but 9 usable"):
        component_counts({"long": 50, "short": 9}, {"short": 10}, None, None)


def test_ratios_are_within_one_sample_and_as_large_as_the_inputs_allow():
    rng = random.Random(0)
    for _ in range(300):
        available = {c: rng.randint(0, 400) for c in COMPONENTS}
        ratios = {c: rng.choice([0, 1, 2.5, 7]) for c in COMPONENTS}
        if not any(ratios[c] and available[c] for c in COMPONENTS) or any(ratios[c] and not available[c]
                                                                          for c in COMPONENTS):
            continue
        got = component_counts(available, None, ratios, None)
        total = sum(got.values())
        weight = sum(ratios.values())
        for c in COMPONENTS:
            assert got[c] <= available[c]
            assert abs(got[c] - total * ratios[c] / weight) < 1, (available, ratios, got)
        bigger = largest_remainder([ratios[c] / weight for c in COMPONENTS], total + 1)
        assert any(k > available[c] for c, k in zip(COMPONENTS, bigger)), "a larger mix would have fitted"


def test_the_length_target_is_met_when_the_inputs_allow_and_approached_when_not():
    shares = [share for _, share in parse_length_target("0-8k:38,8k-16k:40,16k-32k:22", 32768)]
    plenty = allocate({"long": 700, "short": 200, "conversations": 100},
                      {"long": [500, 500, 500], "short": [300, 0, 0], "conversations": [50, 80, 30]}, shares)
    assert [sum(v[b] for v in plenty.values()) for b in range(3)] == largest_remainder(shares, 1000) == [380, 400, 220]
    assert plenty["short"] == [200, 0, 0]
    # the long data holds only 100 samples over 16k: the rest of the mix leans on the nearer bins
    scarce = allocate({"long": 800, "short": 200}, {"long": [900, 900, 100], "short": [300, 0, 0]}, shares)
    assert scarce["long"][2] == 100 and sum(scarce["long"]) == 800 and scarce["short"] == [200, 0, 0]
    assert abs(scarce["long"][0] + 200 - scarce["long"][1]) <= 1 + 20  # both bins over target by about as much
    with pytest.raises(ValueError, match="fall in a --length-target range"):
        allocate({"long": 10}, {"long": [3, 3, 3]}, shares)


def _conversation(n: int, words: int) -> dict:
    """A conversation about `words` words of real English text, distinct per `n`."""
    docs = [json.loads(line)["text"] for line in demo_corpus("en").read_text(encoding="utf-8").splitlines()]
    pool = " ".join(docs[n % len(docs):] + docs[: n % len(docs)]).split()
    text = " ".join(pool[:words])
    return {"id": f"c{n}", "conversations": [
        {"from": "human", "value": f"Question {n}: please read this and summarise it.\n\n{text}"},
        {"from": "gpt", "value": f"Here is a summary of the {words} words you sent: they describe local news."},
        {"from": "human", "value": "Thanks. Which word comes first?"},
        {"from": "gpt", "value": f"The first word is {text.split()[0]}."}]}


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """A built long dataset (paper-summary en-8k) and conversation files of varied length."""
    root = tmp_path_factory.mktemp("mix")
    run_generate("--dataset", "paper-summary", "--lang", "en", "--max-tokens", "8192", "--validation-ratio", "0",
                 "--test-ratio", "0", "--out", str(root / "out"), cwd=root)
    lengths = [50 * (i % 7 + 1) for i in range(30)] + [900 + 150 * i for i in range(10)] + \
        [3600 + 200 * i for i in range(8)]
    rows = [_conversation(i, w) for i, w in enumerate(lengths)]
    rows += [rows[3],  # an exact copy
             {"conversations": [{"from": "human", "value": "hi"}, {"from": "bot", "value": "hello"}]},
             {"messages": [{"role": "user", "content": "a"}, {"role": "user", "content": "b"},
                           {"role": "assistant", "content": "c"}]},
             _conversation(99, 9000)]  # over the budget
    convs = root / "convs.jsonl"
    convs.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    short = root / "short.json"  # Alpaca's own form: one JSON list
    short.write_text(json.dumps([{"instruction": f"Add {i} and {i + 1}.", "input": "", "output": f"{2 * i + 1}"}
                                 for i in range(1, 13)]), encoding="utf-8")
    return root, convs, short


def _mix(root: Path, out: str, convs: Path, short: Path, *extra: str):
    return run_generate("--dataset", "mixture", "--lang", "en", "--max-tokens", "8192", "--long",
                        str(root / "out" / "paper-summary"), "--conversations", str(convs), "--short", str(short),
                        "--out", str(root / out), *extra, cwd=root)


def test_a_mix_by_counts_with_a_length_target(built):
    root, convs, short = built
    proc = _mix(root, "a", convs, short, "--counts", "long:3,short:5,conversations:20",
                "--length-target", "0-1k:50,1k-4k:30,4k-8k:20")
    rows = load_dataset(str(root / "a" / "mixture"), "en-8k", split="train")
    assert {c: rows["component"].count(c) for c in COMPONENTS} == {"long": 3, "short": 5, "conversations": 20}
    assert len(set(rows["id"])) == len(rows) == 28
    for row in rows:
        assert to_messages({"messages": row["messages"]}) == row["messages"]
        assert row["num_tokens"] == qwen_chat_tokens(row["messages"]) <= 8192
    ranges = ((0, 1024), (1024, 4096), (4096, 8192))
    candidates = [qwen_chat_tokens(m) for m in map(to_messages, map(json.loads, convs.read_text().splitlines()))
                  if not isinstance(m, str)]
    assert [sum(lo < n <= hi for n in candidates) for lo, hi in ranges][1:] >= [8, 6]  # enough in each range
    bins = [sum(lo < n <= hi for n in rows["num_tokens"]) for lo, hi in ranges]
    assert bins == [14, 8, 6]  # 50/30/20 % of 28 (largest remainder): the inputs allow it exactly
    assert "length histogram: 0-1k 14 (50%; target 14)" in proc.stdout
    card = (root / "a" / "mixture" / "README.md").read_text(encoding="utf-8")
    assert "0-1k: 14 (50%), target 14" in card and "$" not in card
    rejects = [json.loads(line) for line in (root / "a" / "rejects" / "mixture-en-8k.jsonl").read_text().splitlines()]
    assert {(r["file"], r["line"], r["reason"].split(":")[0]) for r in rejects} == {
        ("convs.jsonl", 49, "duplicate"), ("convs.jsonl", 50, "unknown role"),
        ("convs.jsonl", 51, "two user turns in a row"), ("convs.jsonl", 52, "over the budget")}
    long_rows = [r for r in rows if r["component"] == "long"]
    assert all(r["source"].startswith("paper-summary/en-8k:") for r in long_rows)


def test_rebuilds_and_process_counts_give_the_same_bytes(built):
    root, convs, short = built
    args = ("--ratios", "long:1,short:1,conversations:4")
    _mix(root, "r1", convs, short, *args)
    _mix(root, "r2", convs, short, *args, "--num-proc", "2")
    first = parquet_bytes(root / "r1" / "mixture")
    assert first and first == parquet_bytes(root / "r2" / "mixture")
    rows = load_dataset(str(root / "r1" / "mixture"), "en-8k", split="train")
    counts = [rows["component"].count(c) for c in COMPONENTS]
    # the 3 papers bound the mix: 19 is the largest total with every component within one
    # sample of its share (3.17, 3.17, 12.67), and 20 would need 3.33 -> 4 papers
    assert counts == [3, 3, 13]


def test_asking_for_more_than_the_inputs_hold_is_a_clear_error(built):
    root, convs, short = built
    proc = run_generate("--dataset", "mixture", "--lang", "en", "--max-tokens", "8192", "--short", str(short),
                        "--conversations", str(convs), "--counts", "short:50", "--out", str(root / "e"), cwd=root,
                        check=False)
    assert proc.returncode == 2 and "short 50 but 12 usable" in proc.stderr
