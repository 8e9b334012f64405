"""Evaluation sets checked against their own text: the abstract singles out its paragraph
and copies none of its sentences, LongBench's fields say what `messages` says, needles sit
within a sentence of their depth; the leakage guard; `eval run` and `eval judge` end to
end through the loopback test server; the answer styles from one QA cache."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from datasets import load_dataset

from conftest import run_generate
from longdata.eval.judge import rating
from longdata.retrieval import bm25_rank, terms
from longdata.text import split_sentences
from longdata.tokens import get_counter
from multidoc_checks import qwen_chat_tokens


def check_retrieval(folder: Path, config: str, budget: int) -> list[dict]:
    rows = list(load_dataset(str(folder / "eval-passage-retrieval"), config, split="test"))
    assert rows
    for r in rows:
        lang, n, k = r["lang"], r["answer"], r["num_paragraphs"]
        assert r["num_tokens"] == qwen_chat_tokens(r["messages"]) <= budget
        prompt, answer = r["messages"][0]["content"], r["messages"][1]["content"]
        # LongBench's fields and the messages say the same
        assert r["answers"] == [answer] == [("段落" if lang == "zh" else "Paragraph ") + str(n)]
        assert r["context"] in prompt and prompt.index(r["context"]) < prompt.rindex(r["input"])
        assert r["_id"] == r["id"] and r["dataset"] == f"passage_retrieval_{lang}" and r["all_classes"] is None
        assert r["length"] == (len(r["context"]) if lang == "zh" else len(r["context"].split()))
        head = re.compile(r"段落(\d+)：" if lang == "zh" else r"Paragraph (\d+): ")
        parts = head.split(r["context"])[1:]
        assert [int(x) for x in parts[0::2]] == list(range(1, k + 1)) and len(r["source_ids"]) == k
        paragraphs = [p.strip() for p in parts[1::2]]
        gold = paragraphs[n - 1]
        assert r["position"] == pytest.approx((n - 1) / (k - 1))
        # the abstract copies no sentence of its paragraph and singles it out
        assert not any(len(s) >= 8 and s in r["input"] for s in split_sentences(gold, lang))
        assert bm25_rank(terms(r["input"], lang), [terms(p, lang) for p in paragraphs], n - 1) == 1
        assert len(set(r["source_ids"])) == k
    return rows


def check_needles(folder: Path, config: str) -> list[dict]:
    counter = get_counter("qwen")
    rows = list(load_dataset(str(folder / "eval-needle"), config, split="test"))
    assert rows
    for r in rows:
        assert r["num_tokens"] == qwen_chat_tokens(r["messages"]) <= r["length"]
        user, answer = r["messages"][0]["content"], r["messages"][1]["content"]
        body = user.split("\n\n", 1)[1].rsplit("\n\n", 1)[0]
        for value in r["needles"]:
            assert value in answer
        # re-measured from the text: the haystack tokens before each needle, against the asked depth
        haystack = body
        for sentence in r["needle_sentences"]:
            haystack = haystack.replace(sentence, "\x00")
        pieces = haystack.split("\x00")
        total = sum(counter.count(p) for p in pieces)
        sentences = split_sentences(haystack.replace("\x00", ""), r["lang"])
        longest = max(counter.count(s) for s in sentences)
        asked = [r["depth"] + j * (100 - r["depth"]) / r["num_needles"] for j in range(r["num_needles"])]
        before = 0
        for j, want in enumerate(asked):
            before += counter.count(pieces[j])
            assert abs(100 * before / total - want) <= 100 * (longest + 2) / total, (r["id"], j)
            # the recorded depth sums sentence counts; the text joins them (a token or so apart each)
            assert abs(r["depths_reached"][j] - 100 * before / total) <= 1.0
    return rows


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_both_sets_build_from_the_held_out_demo_corpus(tmp_path, lang):
    run_generate("--dataset", "eval-passage-retrieval,eval-needle", "--lang", lang, "--max-tokens", "4096,8192",
                 "--out", str(tmp_path), cwd=tmp_path)
    for config, budget in ((f"{lang}-4k", 4096), (f"{lang}-8k", 8192)):
        rows = check_retrieval(tmp_path, config, budget)
        assert len(rows) >= 40  # every held-out article is the gold paragraph once
        deciles = {min(9, int(r["position"] * 10)) for r in rows}
        assert deciles == set(range(10))  # positions spread over the whole context
        needles = check_needles(tmp_path, config)
        assert {(r["length"], r["depth"], r["num_needles"]) for r in needles} >= {(budget, 0.0, 1), (budget, 100.0, 3)}


def test_real_corpora(corpora, tmp_path):
    for lang, name in (("zh", "zh_news.jsonl"), ("en", "en_web.jsonl")):
        corpus = tmp_path / name
        corpus.write_text("".join((corpora / name).read_text(encoding="utf-8").splitlines(keepends=True)[:240]),
                          encoding="utf-8")
        run_generate("--dataset", "eval-passage-retrieval,eval-needle", "--lang", lang, "--max-tokens", "16384",
                     "--lengths", "4k,16k", "--depths", "0,25,50,75,100", "--corpus", str(corpus), "--out",
                     str(tmp_path / lang), cwd=tmp_path)
        assert len(check_retrieval(tmp_path / lang, f"{lang}-16k", 16384)) >= 150
        assert len(check_needles(tmp_path / lang, f"{lang}-16k")) == 2 * 5 * 2


def test_a_document_used_in_training_is_refused_by_name(tmp_path):
    run_generate("--dataset", "paper-summary", "--lang", "en", "--max-tokens", "8192", "--out", str(tmp_path),
                 cwd=tmp_path)
    from longdata.data import demo_papers

    proc = run_generate("--dataset", "eval-passage-retrieval", "--lang", "en", "--max-tokens", "8192",
                        "--num-paragraphs", "3", "--corpus", str(demo_papers("en")), "--text-field", "body",
                        "--out", str(tmp_path), cwd=tmp_path, check=False)
    paper = json.loads(demo_papers("en").read_text(encoding="utf-8").splitlines()[0])["id"]
    assert proc.returncode == 2 and "is in the training data (paper-summary en-8k" in proc.stderr
    assert f"document {paper!r}" in proc.stderr
    ids = tmp_path / "ids.txt"  # an id list works the same
    ids.write_text(paper + "\n")
    proc = run_generate("--dataset", "eval-needle", "--lang", "en", "--max-tokens", "4096", "--corpus",
                        str(demo_papers("en")), "--text-field", "body", "--exclude", str(ids),
                        "--out", str(tmp_path / "other"), cwd=tmp_path, check=False)
    assert proc.returncode == 2 and "ids.txt:1" in proc.stderr


def _eval(*args: str, cwd: Path, env: dict):
    import os
    import subprocess
    import sys

    return subprocess.run([sys.executable, "-m", "longdata.cli", "eval", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=600, env={**os.environ, **env})


def test_eval_run_and_judge_end_to_end_with_a_rerun_making_no_calls(tmp_path, start_server, api_key):
    run_generate("--dataset", "eval-passage-retrieval,eval-needle", "--lang", "zh", "--max-tokens", "4096",
                 "--out", str(tmp_path), cwd=tmp_path)
    server = start_server()
    env = {"OPENAI_API_KEY": api_key}
    model = ("--llm-model", "fake", "--llm-base-url", server.url, "--out", str(tmp_path / "eval"))
    first = _eval("run", "--eval-set", f"{tmp_path}/eval-passage-retrieval:zh-4k", *model, cwd=tmp_path, env=env)
    assert first.returncode == 0, first.stderr
    calls = server.chat_calls
    assert calls >= 40
    again = _eval("run", "--eval-set", f"{tmp_path}/eval-passage-retrieval:zh-4k", *model, cwd=tmp_path, env=env)
    assert again.returncode == 0 and server.chat_calls == calls  # all from the cache
    scores = json.loads((tmp_path / "eval" / "scores-eval-passage-retrieval-zh-4k-fake.json").read_text())
    # the fake model cites the best lexical match, then quotes the abstract (digits and all)
    assert scores["longdata"] >= 90 and scores["longbench"] < scores["longdata"]
    assert (tmp_path / "eval" / "positions-eval-passage-retrieval-zh-4k-fake.png").read_bytes()[:4] == b"\x89PNG"
    cli = _eval("score", "--predictions", str(tmp_path / "eval" / "predictions-eval-passage-retrieval-zh-4k-fake.jsonl"),
                "--json", cwd=tmp_path, env=env)
    assert json.loads(cli.stdout)["longdata"] == scores["longdata"]
    needles = _eval("run", "--eval-set", f"{tmp_path}/eval-needle:zh-4k", *model, cwd=tmp_path, env=env)
    assert needles.returncode == 0, needles.stderr
    assert (tmp_path / "eval" / "heatmap-eval-needle-zh-4k-fake.png").is_file()
    # the judge: free-form answers of a paper-summary test split
    run_generate("--dataset", "paper-summary", "--lang", "en", "--max-tokens", "8192", "--test-ratio", "0.6",
                 "--validation-ratio", "0", "--out", str(tmp_path), cwd=tmp_path)
    run = _eval("run", "--eval-set", f"{tmp_path}/paper-summary:en-8k", *model, cwd=tmp_path, env=env)
    assert run.returncode == 0 and "longdata eval judge" in run.stdout
    predictions = tmp_path / "eval" / "predictions-paper-summary-en-8k-fake.jsonl"
    judge = ("judge", "--predictions", str(predictions), "--llm-model", "judge", "--llm-base-url", server.url)
    calls = server.chat_calls
    result = _eval(*judge, cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout[: result.stdout.rindex("}") + 1])
    assert summary["unrated"] == 0 and 1 <= summary["summary"]["mean"] <= 5
    judged = [json.loads(line) for line in (tmp_path / "eval" / f"judged-{predictions.name}").read_text().splitlines()]
    assert all(r["rating"] == rating(r["judge_reply"], "summary") for r in judged)
    made = server.chat_calls - calls
    assert made == len(judged) and _eval(*judge, cwd=tmp_path, env=env).returncode == 0
    assert server.chat_calls == calls + made  # the rerun: zero calls


def test_judge_ratings_are_read_from_double_brackets():
    assert rating("Good. Rating: [[7]]", "chat") == 7
    assert rating("[[2]] then [[3]]", "qa") == 3  # the last one, as LongAlign reads it
    assert rating("Rating: [[9]]", "qa") is None  # off the 1-3 scale
    assert rating("no rating here", "summary") is None


def test_answer_styles_come_from_one_qa_cache(tmp_path, start_server, api_key):
    server = start_server()
    corpus = tmp_path / "docs.jsonl"
    from longdata.data import demo_corpus

    corpus.write_text("".join(demo_corpus("en").read_text(encoding="utf-8").splitlines(keepends=True)[:40]),
                      encoding="utf-8")
    cache = tmp_path / "cache.sqlite"
    common = ("--lang", "en", "--max-tokens", "8192", "--corpus", str(corpus), "--llm-model", "fake",
              "--llm-base-url", server.url, "--llm-cache", str(cache), "--validation-ratio", "0", "--test-ratio", "0")
    env = {"OPENAI_API_KEY": api_key}
    run_generate(*common, "--out", str(tmp_path / "cite-quote"), cwd=tmp_path, env=env)
    calls = server.chat_calls
    assert calls > 0
    rows = {}
    for style in ("cite-quote", "quote-cite", "index-only", "no-quote"):
        if style != "cite-quote":
            run_generate(*common, "--answer-style", style, "--out", str(tmp_path / style), cwd=tmp_path, env=env)
        rows[style] = list(load_dataset(str(tmp_path / style / "multidoc-paraphrase"), "en-8k", split="train"))
    assert server.chat_calls == calls  # no new LLM call for any style
    base = rows["cite-quote"]
    for style, got in rows.items():
        assert [r["source_ids"] for r in got] == [r["source_ids"] for r in base]  # the same contexts
        assert all(r["num_tokens"] == qwen_chat_tokens(r["messages"]) <= 8192 for r in got)
    answer = lambda r, t: r["messages"][2 * t + 1]["content"]  # noqa: E731
    for r_index, r in enumerate(rows["index-only"]):
        for t, doc in enumerate(r["gold_docs"]):
            if doc > 0:
                assert answer(r, t) == f"Document [{doc}]"
                quoted = answer(base[r_index], t)
                assert quoted.startswith(f"According to Document [{doc}]:")
                assert answer(rows["quote-cite"][r_index], t).split("\n")[0].endswith(f"(Document [{doc}])")
                assert answer(rows["no-quote"][r_index], t) == f"According to Document [{doc}]: " + \
                    quoted.split("\n", 1)[1]
