"""longdata-corpus: only long documents, chunks within the budget that give back the cleaned text."""
from __future__ import annotations

import json

import pytest
from datasets import get_dataset_config_names, load_dataset
from huggingface_hub import DatasetCard

from conftest import run_generate
from longdata.clean.normalize import clean_text
from longdata.documents import read_documents
from longdata.text import word_count
from longdata.tokens import get_counter
from test_generate import parquet_bytes

DATASET = "longdata-corpus"


def check_chunks(out, config, sources, min_words, budget):
    rows = list(load_dataset(str(out / DATASET), config, split="train"))
    counter = get_counter("qwen")
    docs = {d.id: d for d in read_documents(sources)}
    by_doc: dict[str, list] = {}
    for r in rows:
        assert r["num_tokens"] == counter.count(r["text"]) <= budget
        by_doc.setdefault(r["doc_id"], []).append(r)
    for doc_id, chunks in by_doc.items():
        chunks.sort(key=lambda r: r["chunk"])
        assert [r["chunk"] for r in chunks] == list(range(chunks[0]["num_chunks"]))
        cleaned, _ = clean_text(docs[doc_id].text)
        assert "".join(r["text"] for r in chunks) == cleaned
        assert word_count(cleaned, docs[doc_id].lang) > min_words
    return by_doc


@pytest.mark.parametrize("lang, folder", [("zh", "zh_books"), ("en", "en_books")])
def test_real_books(corpora, tmp_path, lang, folder):
    files = sorted((corpora / folder).glob("*.txt"))
    args = [x for f in files for x in ("--corpus", str(f))]
    run_generate("--dataset", DATASET, "--lang", lang, *args, "--max-tokens", "16384", "--validation-ratio", "0",
                 "--test-ratio", "0", "--num-proc", "2", "--out", str(tmp_path), cwd=tmp_path)
    by_doc = check_chunks(tmp_path, f"{lang}-16k", files, 16000, 16384)
    long_enough = [f for f in files if word_count(f.read_text(encoding="utf-8"), lang) > 16000]
    assert len(by_doc) == len(long_enough) >= 2


def test_short_documents_are_rejected_and_repeats_collapsed(tmp_path):
    corpus = tmp_path / "docs.jsonl"
    long_text = "\n\n".join(f"Paragraph {i}: the keeper logged the tide at {i % 12} o'clock!!!!!!!!!   Then    slept."
                            for i in range(900))
    corpus.write_text(json.dumps({"id": "long", "text": long_text}) + "\n"
                      + json.dumps({"id": "short", "text": "A short note about tides. " * 40}) + "\n", encoding="utf-8")
    out = tmp_path / "out"
    proc = run_generate("--dataset", DATASET, "--lang", "en", "--corpus", str(corpus), "--min-words", "5000",
                        "--max-tokens", "2048", "--validation-ratio", "0", "--test-ratio", "0", "--out", str(out),
                        cwd=tmp_path)
    by_doc = check_chunks(out, "en-2k", [corpus], 5000, 2048)
    assert list(by_doc) == ["long"] and len(by_doc["long"]) > 3
    assert "!!!!!" not in by_doc["long"][0]["text"] and "repeated runs collapsed" in proc.stdout
    rejects = [json.loads(line) for line in (out / "rejects" / f"{DATASET}-en-2k.jsonl").read_text().splitlines()]
    assert [(r["doc_id"], r["line"], r["reason"].split(":")[0]) for r in rejects] == [("short", 2, "too short")]


def test_every_demo_dataset_builds_offline_and_loads(tmp_path):
    for lang in ("zh", "en"):
        run_generate("--dataset", "all", "--lang", lang, "--max-tokens", "8192", "--out", str(tmp_path), cwd=tmp_path)
    folders = sorted(p for p in tmp_path.iterdir() if (p / "README.md").is_file())
    assert [p.name for p in folders] == ["book-summary", "eval-needle", "eval-passage-retrieval", "longdata-corpus",
                                         "mixture", "multidoc-paraphrase", "paper-qa", "paper-summary"]
    for folder in folders:
        card = DatasetCard.load(folder / "README.md")
        assert card.data.license == "other" and "$" not in card.text
        split = "test" if folder.name.startswith("eval-") else "train"
        for config in get_dataset_config_names(str(folder)):
            assert len(load_dataset(str(folder), config, split=split)) >= 1
    assert len(load_dataset(str(tmp_path / "book-summary"), "zh-8k", split="train")) >= 2  # the demo book's parts
    mix = load_dataset(str(tmp_path / "mixture"), "en-8k", split="train")
    assert set(mix["component"]) == {"long", "short", "conversations"}  # long: every dataset built before it
    sources = {s.split("/")[0] for s, c in zip(mix["source"], mix["component"]) if c == "long"}
    assert sources == {"book-summary", "multidoc-paraphrase", "paper-qa", "paper-summary"}  # chat data only


def test_rebuilds_and_process_counts_give_the_same_bytes(tmp_path):
    outs = []
    for name, procs in (("a", "1"), ("b", "2")):
        run_generate("--dataset", DATASET, "--lang", "zh", "--max-tokens", "4096", "--num-proc", procs,
                     "--out", str(tmp_path / name), cwd=tmp_path)
        outs.append(parquet_bytes(tmp_path / name / DATASET))
    assert outs[0] and outs[0] == outs[1]
