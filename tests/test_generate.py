"""The walking skeleton end to end: `python -m longdata.generate` on the bundled demo corpus."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from datasets import load_dataset

from conftest import run_generate
from multidoc_checks import check_sample

DATASET = "multidoc-paraphrase"


@pytest.fixture(scope="module", params=["zh", "en"])
def demo_build(request, tmp_path_factory):
    lang = request.param
    out = tmp_path_factory.mktemp(f"demo-{lang}")
    proc = run_generate("--lang", lang, "--out", str(out), cwd=out)
    return lang, out, proc.stdout


def test_demo_build_loads_and_holds_the_invariants(demo_build):
    lang, out, stdout = demo_build
    ds = load_dataset(str(out / DATASET), f"{lang}-32k")
    train = ds["train"]
    assert len(train) >= 20
    positions = []
    for row in train:
        assert row["lang"] == lang and row["generator"] == "extractive"
        positions += check_sample(row, 32768)
    # gold positions cover the whole context: every fifth of it holds gold documents
    hist = [sum(1 for p in positions if i / 5 <= p < (i + 1) / 5) for i in range(5)]
    print(f"{lang} gold-position histogram (fifths of the context): {hist}")
    assert min(hist) >= len(positions) / 5 / 3, hist
    for word in ("samples:", "tokens (train):", "effective ratio:", "gold positions", "rejected docs:", "load it:"):
        assert word in stdout


def test_messages_are_trl_conversational(demo_build):
    lang, out, _ = demo_build
    row = load_dataset(str(out / DATASET), f"{lang}-32k", split="train")[0]
    assert set(row["messages"][0]) == {"role", "content"}
    assert row["messages"][0]["role"] == "user" and row["messages"][-1]["role"] == "assistant"


def parquet_bytes(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*.parquet"))}


def test_same_command_gives_byte_identical_parquet_for_any_process_count(tmp_path):
    args = ("--lang", "en", "--max-tokens", "8192", "--num-samples", "12")
    outs = []
    for name, procs in (("a", "1"), ("b", "1"), ("c", "2")):
        out = tmp_path / name
        run_generate(*args, "--out", str(out), "--num-proc", procs, cwd=tmp_path)
        outs.append(parquet_bytes(out / DATASET))
    assert outs[0] and outs[0] == outs[1] == outs[2]


def test_bad_input_is_listed_and_every_valid_document_is_used(tmp_path):
    from longdata.data import demo_corpus

    valid = demo_corpus("en").read_text(encoding="utf-8").splitlines()[:100]
    bad = [
        b'{"id": "broken", "text": "unterminated',
        json.dumps({"id": "empty", "text": ""}).encode(),
        b'{"id": "bad-utf8", "text": "\xff\xfe not utf-8"}',
        json.dumps({"id": "no-text", "content": "wrong field"}).encode(),
        json.dumps({"id": "huge", "text": "A sentence that repeats. " * 800_000}).encode(),  # 20 MB
    ]
    lines = [v.encode("utf-8") for v in valid]
    for i, b in enumerate(bad):
        lines.insert(10 + 20 * i, b)
    corpus = tmp_path / "mixed.jsonl"
    corpus.write_bytes(b"\n".join(lines) + b"\n")
    out = tmp_path / "out"
    run_generate("--lang", "en", "--corpus", str(corpus), "--out", str(out), "--max-tokens", "8192",
                 "--unanswerable-ratio", "0", "--validation-ratio", "0", "--test-ratio", "0", cwd=tmp_path)
    rejects = [json.loads(l) for l in (out / "rejects" / f"{DATASET}-en-8k.jsonl").read_text().splitlines()]
    assert sorted(r["line"] for r in rejects) == [11 + 20 * i for i in range(5)]
    assert all(r["file"] == "mixed.jsonl" and r["reason"] for r in rejects)
    assert {r["reason"].split(":")[0] for r in rejects} == {
        "malformed JSON", "empty text", "invalid UTF-8", "missing text field", "too long"}
    train = load_dataset(str(out / DATASET), "en-8k", split="train")
    gold_ids = {row["source_ids"][g - 1] for row in train for g in row["gold_docs"]}
    assert gold_ids == {json.loads(v)["id"] for v in valid}  # every valid document is a gold document once


def test_too_small_corpus_says_how_many_documents_are_needed(tmp_path):
    corpus = tmp_path / "tiny.jsonl"
    corpus.write_text("".join(json.dumps({"text": f"This is document number {i}, " * 12}) + "\n" for i in range(3)))
    proc = run_generate("--lang", "en", "--corpus", str(corpus), "--out", str(tmp_path / "o"), cwd=tmp_path, check=False)
    assert proc.returncode == 2
    assert "at least 6" in proc.stderr and "found fewer" in proc.stderr


@pytest.mark.parametrize("lang,name", [("zh", "zh_news.jsonl"), ("en", "en_web.jsonl")])
def test_builds_from_the_real_corpora(corpora, tmp_path, lang, name):
    out = tmp_path / "out"
    run_generate("--lang", lang, "--corpus", str(corpora / name), "--out", str(out), "--num-samples", "8",
                 "--max-tokens", "16384", cwd=tmp_path)
    train = load_dataset(str(out / DATASET), f"{lang}-16k", split="train")
    assert len(train) == 8
    for row in train:
        check_sample(row, 16384)
