"""book-summary: chapters found, parts within the budget, each target about exactly its chapters."""
from __future__ import annotations

import json

import pytest
from datasets import load_dataset

from conftest import run_generate
from longdata.books import split_chapters
from longdata.documents import read_documents
from longdata.books import read_books
from multidoc_checks import qwen_chat_tokens
from test_generate import parquet_bytes

DATASET = "book-summary"


def rows(out, config):
    return list(load_dataset(str(out / DATASET), config, split="train"))


def check_parts(rows_, max_tokens):
    by_book: dict[str, list] = {}
    for r in rows_:
        assert r["num_tokens"] == qwen_chat_tokens(r["messages"]) <= max_tokens
        by_book.setdefault(r["book_id"], []).append(r)
    for parts in by_book.values():
        parts.sort(key=lambda r: r["part"])
        assert [r["part"] for r in parts] == list(range(1, parts[0]["num_parts"] + 1))
        for a, b in zip(parts, parts[1:]):
            assert b["chapters"][0] > a["chapters"][1]  # consecutive, never overlapping
    return by_book


def test_demo_books_build_in_parts_from_their_given_chapter_summaries(tmp_path):
    run_generate("--dataset", DATASET, "--lang", "zh", "--max-tokens", "8192", "--out", str(tmp_path), cwd=tmp_path)
    got = rows(tmp_path, "zh-8k")
    assert len(got) >= 2 and {r["summary_source"] for r in got} == {"given"}
    from longdata.data import demo_summaries

    given = json.loads(demo_summaries("zh").read_text(encoding="utf-8"))["chapter_summaries"]
    for parts in check_parts(got, 8192).values():
        for r in parts:
            first, last = r["chapters"]
            target = r["messages"][1]["content"]
            assert [s for s in given if s in target] == given[first - 1:last]  # exactly its chapters


def test_chinese_novels_get_outlines_of_their_own_chapters(corpora, tmp_path):
    books = sorted((corpora / "zh_books").glob("*.chapters.jsonl"))
    args = [x for b in books for x in ("--corpus", str(b))]
    run_generate("--dataset", DATASET, "--lang", "zh", *args, "--max-tokens", "32768", "--validation-ratio", "0",
                 "--test-ratio", "0", "--out", str(tmp_path), cwd=tmp_path)
    got = rows(tmp_path, "zh-32k")
    titles = {}
    for b in books:
        for line in b.read_text(encoding="utf-8").splitlines():
            rec = json.loads(line)
            titles[(b.name.split(".")[0], rec["chapter"])] = " ".join(rec["title"].split())
    for book, parts in check_parts(got, 32768).items():
        assert len(parts) > 10
        covered = []
        for r in parts:
            assert r["summary_source"] == "outline"
            first, last = r["chapters"]
            lines = r["messages"][1]["content"].split("\n")
            want = [titles[(book, n)] for n in range(first, last + 1) if (book, n) in titles]
            assert lines == want
            covered += range(first, last + 1)
        assert len(covered) == len(set(covered))


def test_english_books_with_given_summaries(corpora, tmp_path):
    """A summaries file written here: each chapter's 'summary' is its first sentence."""
    summaries = tmp_path / "summaries.jsonl"
    with open(summaries, "w", encoding="utf-8") as fh:
        for book, _ in read_books(read_documents([corpora / "en_books"])):
            numbered = [c for c in book.chapters if c.number]
            fh.write(json.dumps({"book": book.id, "chapter_summaries": [c.text.split(".")[0][:200] for c in numbered]}) + "\n")
    run_generate("--dataset", DATASET, "--lang", "en", "--corpus", str(corpora / "en_books"), "--summaries",
                 str(summaries), "--max-tokens", "16384", "--validation-ratio", "0", "--test-ratio", "0",
                 "--out", str(tmp_path / "out"), cwd=tmp_path)
    got = rows(tmp_path / "out", "en-16k")
    by_book = check_parts(got, 16384)
    assert len(by_book) == 4 and all(r["summary_source"] == "given" for r in got)


def test_a_book_without_headings_or_summaries_is_a_named_reject_not_a_crash(tmp_path):
    folder = tmp_path / "books"
    folder.mkdir()
    prose = "\n\n".join(f"Paragraph {i} tells how the river rose near the mill in spring {1800 + i}." * 6
                        for i in range(300))
    (folder / "plain.txt").write_text(prose, encoding="utf-8")
    titled = "\n\n".join(f"CHAPTER {i}. The Miller Counts the Sacks of Year {1800 + i}\n\n" + "The sacks were counted. " * 80
                         for i in range(1, 9))
    (folder / "titled.txt").write_text(titled, encoding="utf-8")
    out = tmp_path / "out"
    proc = run_generate("--dataset", DATASET, "--lang", "en", "--corpus", str(folder), "--max-tokens", "4096",
                        "--validation-ratio", "0", "--test-ratio", "0", "--out", str(out), cwd=tmp_path)
    got = rows(out, "en-4k")
    assert {r["book_id"] for r in got} == {"titled"}  # the plain book has no summary source
    assert "no summary source" in proc.stdout and "no chapter headings" in proc.stdout
    check_parts(got, 4096)


def test_rebuilds_and_process_counts_give_the_same_bytes(tmp_path):
    outs = []
    for name, procs in (("a", "1"), ("b", "1"), ("c", "2")):
        run_generate("--dataset", DATASET, "--lang", "en", "--max-tokens", "8192", "--num-proc", procs,
                     "--out", str(tmp_path / name), cwd=tmp_path)
        outs.append(parquet_bytes(tmp_path / name / DATASET))
    assert outs[0] and outs[0] == outs[1] == outs[2]


@pytest.mark.parametrize("text, found", [
    ("第一回　甲乙丙丁　戊己庚辛\n\n正文一。\n\n第二回 天地玄黄\n\n正文二。", ["第一回 甲乙丙丁 戊己庚辛", "第二回 天地玄黄"]),
    ("CHAPTER IV. The End\n\nText.\n\nChapter 5\n\nMore.", ["CHAPTER IV. The End", "Chapter 5"]),
])
def test_headings(text, found):
    lang = "zh" if "第" in text else "en"
    assert [c.heading for c in split_chapters(text, lang)[0]] == found
