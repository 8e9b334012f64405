"""paper-summary and paper-qa: the paper reader, no target sentence in the prompt,
quotes verbatim inside their passages, budgets kept, rebuilds identical."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from datasets import load_dataset

from conftest import run_generate
from longdata.documents import read_documents
from longdata.papers import from_document
from longdata.qa.extractive import ExtractiveGenerator
from longdata.tasks.paper_qa import PaperQAConfig, PaperQATask
from longdata.text import split_sentences, word_count
from multidoc_checks import qwen_chat_tokens
from test_generate import parquet_bytes

DATA = Path(__file__).parent / "data"


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_raw_text_paper_is_parsed(lang):
    [doc] = read_documents([DATA / f"raw_paper_{lang}.txt"])
    paper = from_document(doc)
    assert paper.parsed_from == "raw text" and len(paper.abstract) > 100 and paper.title
    for word in ("摘要", "关键词", "参考文献") if lang == "zh" else ("Abstract", "Keywords", "References"):
        assert word not in paper.body[:200] and f"\n{word}\n" not in paper.body
    assert paper.abstract not in paper.body


def check_summaries(folder: Path, config: str, budget: int) -> int:
    rows = load_dataset(str(folder / "paper-summary"), config, split="train")
    for row in rows:
        prompt, target = row["messages"][0]["content"], row["messages"][1]["content"]
        assert row["num_tokens"] == qwen_chat_tokens(row["messages"]) <= budget
        for sentence in split_sentences(target, row["lang"]):
            assert len(sentence) < 8 or sentence not in prompt, sentence
    return len(rows)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_demo_papers_build_both_datasets(tmp_path, lang):
    run_generate("--dataset", "paper-summary,paper-qa", "--lang", lang, "--max-tokens", "8192",
                 "--out", str(tmp_path), cwd=tmp_path)
    assert check_summaries(tmp_path, f"{lang}-8k", 8192) == 3
    rows = load_dataset(str(tmp_path / "paper-qa"), f"{lang}-8k", split="train")
    assert len(rows) == 3 and all(r["num_tokens"] == qwen_chat_tokens(r["messages"]) <= 8192 for r in rows)
    assert sum(r["removed_sentences"] for r in load_dataset(str(tmp_path / "paper-summary"), f"{lang}-8k",
                                                            split="train")) >= 6  # two per paper, written so


def test_real_papers_and_abstract_only_records(corpora, tmp_path):
    run_generate("--dataset", "paper-summary", "--lang", "en", "--corpus", str(corpora / "papers_en.jsonl"),
                 "--max-tokens", "16384", "--validation-ratio", "0", "--test-ratio", "0", "--out", str(tmp_path),
                 cwd=tmp_path)
    assert check_summaries(tmp_path, "en-16k", 16384) >= 8
    proc = run_generate("--dataset", "paper-summary", "--lang", "zh", "--corpus", str(corpora / "papers_zh.jsonl"),
                        "--max-reject-ratio", "1", "--out", str(tmp_path / "zh"), cwd=tmp_path, check=False)
    assert proc.returncode == 2 and "no usable input" in proc.stderr and "no body" in proc.stderr
    rejects = [json.loads(l) for l in (tmp_path / "zh" / "rejects" / "paper-summary-zh-32k.jsonl").read_text().splitlines()]
    assert len(rejects) > 1000 and {r["reason"].split(":")[0] for r in rejects} <= {"no body", "language"}


def test_quotes_lie_in_their_passages_within_the_word_limit():
    task = PaperQATask()
    for lang in ("zh", "en"):
        cfg = PaperQAConfig(lang=lang, max_tokens=8192, passage_words=800, qa_per_paper=3)
        papers = list(task.units(read_documents(task.demo_corpus(lang)), cfg, __import__("longdata").documents.RejectLog()))
        for paper in papers:
            prep = task.prepare(paper, cfg)
            assert len(prep.passages) == 3
            positions = [p for _, p in prep.passages]
            assert positions == sorted(positions) and positions[-1] > 0.5  # spread over the paper
            requests = task.requests(prep, cfg, {})
            answers = {r.key: qa for r, qa in zip(requests, ExtractiveGenerator().make_qas(requests))}
            for (doc, _), req in zip(prep.passages, requests):
                assert word_count(doc.text, lang) <= 800 and doc.text in prep.context
                qa = answers[req.key]
                assert qa.quote in doc.text
            [sample] = task.assemble(prep, answers, cfg).samples
            assert sample["num_tokens"] == qwen_chat_tokens(sample["messages"]) <= 8192


def test_llm_path_and_rerun_from_cache(start_server, api_key, tmp_path):
    server = start_server()
    args = ("--dataset", "paper-qa", "--lang", "en", "--max-tokens", "8192", "--llm-model", "test",
            "--llm-base-url", server.url, "--out", str(tmp_path))
    run_generate(*args, cwd=tmp_path, env={"OPENAI_API_KEY": api_key})
    calls = server.chat_calls
    rows = load_dataset(str(tmp_path / "paper-qa"), "en-8k", split="train")
    assert calls > 0 and len(rows) >= 1 and {r["generator"] for r in rows} == {"test"}
    first = parquet_bytes(tmp_path / "paper-qa")
    run_generate(*args, cwd=tmp_path, env={"OPENAI_API_KEY": api_key})
    assert server.chat_calls == calls and parquet_bytes(tmp_path / "paper-qa") == first


def test_rebuilds_and_process_counts_give_the_same_bytes(tmp_path):
    outs = []
    for name, procs in (("a", "1"), ("b", "2")):
        run_generate("--dataset", "paper-summary,paper-qa", "--lang", "zh", "--max-tokens", "8192", "--num-proc", procs,
                     "--out", str(tmp_path / name), cwd=tmp_path)
        outs.append({d: parquet_bytes(tmp_path / name / d) for d in ("paper-summary", "paper-qa")})
    assert outs[0]["paper-qa"] and outs[0] == outs[1]
