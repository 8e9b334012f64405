"""Eval scoring: LongBench's retrieval metric reproduced exactly, ours by the cited paragraph
(quotes ignored), needle containment after folding, buckets, plots and input errors."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from longdata.eval.score import (cited_number, depth_label, longbench_retrieval, needle_heatmap_png,
                                 needle_hits, position_curve_png, read_predictions, score_file, score_record,
                                 summary_text)

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def write_jsonl(path: Path, records: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    return path


def longbench_record(pred: str, answers: list[str], length: int = 5000) -> dict:
    """A line as LongBench's pred.py writes it."""
    return {"pred": pred, "answers": answers, "all_classes": None, "length": length}


# --- the two LongBench examples ---------------------------------------------------------

def test_longbench_examples():
    zh = "摘要出自段落3：“2019年…12亿元”"
    en = "Paragraph 3 3 3 or Paragraph 7"
    assert longbench_retrieval(zh, "段落3", "zh") == 1 / 3  # numbers 3, 2019, 12
    assert longbench_retrieval(en, "Paragraph 3", "en") == 0.75  # numbers 3, 3, 3, 7
    assert score_record({"pred": zh, "answers": ["段落3"]}, "passage_retrieval", "zh") == (1.0, 1 / 3)
    assert score_record({"pred": en, "answers": ["Paragraph 3"]}, "passage_retrieval", "en") == (1.0, 0.75)


def test_longbench_compares_numbers_as_strings_and_needs_its_gold_pattern():
    assert longbench_retrieval("段落03", "段落3", "zh") == 0.0
    assert longbench_retrieval("no idea", "Paragraph 3", "en") == 0.0
    with pytest.raises(ValueError, match="Paragraph"):
        longbench_retrieval("Paragraph 3", "段落3", "en")


def test_longbench_file_score_by_hand(tmp_path):
    """Index-only answers, some wrong, some with extra numbers; every term from the definition."""
    records = [
        longbench_record("段落3", ["段落3"]),                # 1 of 1 numbers
        longbench_record("段落5", ["段落3"]),                # wrong: 0
        longbench_record("答案是段落12，不是段落2", ["段落12"]),  # 12, 2: 1/2
        longbench_record("段落7和段落7，共30段", ["段落7"]),     # 7, 7, 30: 2/3
        longbench_record("我不知道", ["段落1"]),              # no numbers: 0
        longbench_record("段落 4", ["段落4"]),               # 1
        longbench_record("段落03", ["段落3"]),               # "03" != "3": 0
        longbench_record("段落5", ["段落5", "段落3"]),         # max over answers: 1
    ]
    path = write_jsonl(tmp_path / "passage_retrieval_zh.jsonl", records)
    result = score_file(path, "passage_retrieval_zh")
    longbench = round(100 * (1 + 0 + 1 / 2 + 2 / 3 + 0 + 1 + 0 + 1) / 8, 2)
    assert longbench == 52.08
    assert result["longbench"] == longbench
    assert result["longdata"] == round(100 * 6 / 8, 2)  # ours: only 段落5 (gold 3) and 我不知道 miss
    assert result["task"] == "passage_retrieval" and result["n"] == 8
    assert result["by_position"] == {}  # LongBench's files carry no position
    assert result["by_length"] == {"4k-8k": {"n": 8, "longdata": 75.0, "longbench": longbench}}


def test_longbench_english_file_language_from_the_suffix_or_the_answers(tmp_path):
    en = write_jsonl(tmp_path / "en.jsonl", [longbench_record("Paragraph 2, see 2019", ["Paragraph 2"])])
    zh = write_jsonl(tmp_path / "zh.jsonl", [longbench_record("段落2", ["段落2"])])
    assert score_file(en, "passage_retrieval_en")["longbench"] == 50.0
    assert score_file(zh, "passage_retrieval")["longbench"] == 100.0  # 段落 in the answers -> zh
    with pytest.raises(ValueError, match="Paragraph"):
        score_file(zh, "passage_retrieval_en")


# --- ours: the cited paragraph -------------------------------------------------------------

@pytest.mark.parametrize("pred, lang, gold", [
    ("“2019年公司营收12亿元，详见段落7。”这段摘要出自段落3。", "zh", "段落3"),
    ("「2019年营收12亿元，段落7」出自段落3", "zh", "段落3"),
    ('"In 2019 the firm earned $12 million (see Paragraph 7)." comes from Paragraph 3.', "en", "Paragraph 3"),
    ("The abstract «Paragraph 7 of 2019 says 12» is from Paragraph 3", "en", "Paragraph 3"),
])
def test_quote_first_answers_get_full_marks_from_ours_only(pred, lang, gold):
    ours, longbench = score_record({"pred": pred, "answers": [gold]}, "passage_retrieval", lang)
    assert ours == 1.0
    assert longbench == 0.25  # numbers 2019, 12, 7, 3 in some order


@pytest.mark.parametrize("pred", [
    "根据文档[3]的原文：“…段落5…”\n所以答案是段落3。",
    "『段落7写于2019年』——出自段落3",
    "‘Paragraph 7’ is not it; Paragraph 3 is.",
    "<<<Paragraph 7, 12 items>>> Passage 3",
])
def test_citations_inside_quotes_are_ignored(pred):
    assert cited_number(pred) == 3


def test_unclosed_quote_runs_to_the_end():
    assert cited_number("摘要是“来自段落7的内容，共12亿元") is None
    assert cited_number('Paragraph 3: "the text of Paragraph 7') == 3


@pytest.mark.parametrize("pred", ["段落12", "段落 12", "第12段", "paragraph 12", "PARAGRAPH 12", "[12]",
                                  "文档[12]", "Document [12]", "Document 12", "Passage 12", "段落１２"])
def test_citation_forms(pred):
    assert cited_number(f"答案：{pred}。") == 12


def test_first_citation_wins():
    assert cited_number("Paragraph 2 (not Paragraph 3)") == 2
    assert cited_number("第5段，也可能是段落6") == 5
    record = {"pred": "Paragraph 2, or maybe Paragraph 3", "answers": ["Paragraph 3"]}
    assert score_record(record, "passage_retrieval", "en") == (0.0, 0.5)


def test_no_citation_scores_zero():
    assert cited_number("I cannot tell.") is None
    assert cited_number("There are 30 paragraphs in 2019") is None  # numbers, but no citation
    record = {"pred": "I cannot tell.", "answers": ["Paragraph 3"]}
    assert score_record(record, "passage_retrieval", "en") == (0.0, 0.0)


@pytest.mark.parametrize("pred", ["12", " 12。", "“12”", "12.\n"])
def test_bare_integer_answer(pred):
    assert cited_number(pred) == 12
    assert score_record({"pred": pred, "answers": ["段落12"]}, "passage_retrieval", "zh")[0] == 1.0


def test_gold_from_an_int_answer():
    assert score_record({"pred": "段落4，2019年", "answers": [4]}, "passage_retrieval", "zh") == (1.0, 0.5)
    assert score_record({"pred": "Paragraph 5", "answers": [4]}, "passage_retrieval", "en") == (0.0, 0.0)


# --- needles -------------------------------------------------------------------------------

def test_needle_found_despite_punctuation_case_and_width():
    assert needle_hits("I recall that the SECRET code is ４７２.", ["The secret code is 4-7-2!"]) == 1.0
    assert needle_hits("文中说：“小明最喜欢的水果是 芒果”", ["小明最喜欢的水果是：芒果。"]) == 1.0
    assert needle_hits("the secret code is 427", ["The secret code is 4-7-2!"]) == 0.0


def test_multi_needle_partial_score():
    needles = ["The vault code is 1234.", "The courier's name is Ada.", "The meeting is on Friday."]
    pred = "The vault code is 1,234 and the courier's name is ADA; I don't know when they meet."
    assert needle_hits(pred, needles) == 2 / 3
    assert score_record({"pred": pred, "needles": needles}, "needle", "en") == (2 / 3, None)


# --- our files: buckets, plots -------------------------------------------------------------

def ours_retrieval(i: int, correct: bool, length: int, position: float) -> dict:
    return {"id": f"r{i}", "dataset": "eval-passage-retrieval", "lang": "en", "answers": ["Paragraph 4"],
            "pred": "Paragraph 4" if correct else "Paragraph 9", "length": length, "position": position}


def test_retrieval_buckets_by_length_and_position(tmp_path):
    path = write_jsonl(tmp_path / "ret.jsonl", [
        ours_retrieval(0, True, 4096, 0.0),
        ours_retrieval(1, True, 4097, 1.0),
        ours_retrieval(2, False, 8192, 3 / 10),
        ours_retrieval(3, False, 32768, 0.95),
        ours_retrieval(4, True, 40000, 0.29),
    ])
    result = score_file(path)
    assert result["by_length"] == {
        "0-4k": {"n": 1, "longdata": 100.0, "longbench": 100.0},
        "4k-8k": {"n": 2, "longdata": 50.0, "longbench": 50.0},
        "16k-32k": {"n": 1, "longdata": 0.0, "longbench": 0.0},
        "32k+": {"n": 1, "longdata": 100.0, "longbench": 100.0},
    }
    assert list(result["by_position"]) == ["0-10%", "20-30%", "30-40%", "90-100%"]
    assert result["by_position"]["90-100%"] == {"n": 2, "longdata": 50.0, "longbench": 50.0}
    assert result["by_position"]["30-40%"]["n"] == 1
    assert (result["n"], result["longdata"]) == (5, 60.0)
    text = summary_text(result)
    assert "by length" in text and "90-100%" in text and "60.00" in text and "longbench" in text
    first = position_curve_png(result)
    assert first.startswith(PNG_SIGNATURE) and first == position_curve_png(result)


def ours_needle(i: int, length: int, depth: float, found: int) -> dict:
    needles = ["The vault code is 1234.", "The courier is Ada."]
    return {"id": f"n{i}", "dataset": "eval-needle", "lang": "en", "pred": " ".join(needles[:found]),
            "answers": needles, "needles": needles, "length": length, "depth": depth}


@pytest.mark.parametrize("depth, label", [(0, "0%"), (4.9, "0%"), (5, "10%"), (45, "50%"), (47.5, "50%"),
                                          (100, "100%")])
def test_depth_label_rounds_to_the_nearest_ten_halves_up(depth, label):
    assert depth_label(depth) == label


def test_needle_buckets_by_depth_and_grid(tmp_path):
    path = write_jsonl(tmp_path / "needle.jsonl", [
        ours_needle(0, 3000, 0.0, 2),
        ours_needle(1, 3000, 47.5, 1),
        ours_needle(2, 3000, 44.9, 0),
        ours_needle(3, 20000, 100.0, 2),
        ours_needle(4, 20000, 52.0, 2),
    ])
    result = score_file(path, "passage_retrieval_zh")  # the records' own dataset wins
    assert result["task"] == "needle" and "longbench" not in result
    assert result["longdata"] == round(100 * (1 + 0.5 + 0 + 1 + 1) / 5, 2)
    assert result["by_depth"] == {"0%": {"n": 1, "longdata": 100.0}, "40%": {"n": 1, "longdata": 0.0},
                                  "50%": {"n": 2, "longdata": 75.0}, "100%": {"n": 1, "longdata": 100.0}}
    assert result["grid"] == {"0-4k": {"0%": 100.0, "40%": 0.0, "50%": 50.0},
                              "16k-32k": {"50%": 100.0, "100%": 100.0}}
    assert "by depth" in summary_text(result)
    first = needle_heatmap_png(result)
    assert first.startswith(PNG_SIGNATURE) and first == needle_heatmap_png(result)


# --- input -----------------------------------------------------------------------------------

def test_reads_both_formats(tmp_path):
    path = write_jsonl(tmp_path / "mixed.jsonl", [longbench_record("段落1", ["段落1"]),
                                                   ours_retrieval(1, True, 100, 0.5)])
    assert [r["pred"] for r in read_predictions(path)] == ["段落1", "Paragraph 4"]


def test_malformed_line_names_file_and_line(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text(json.dumps(longbench_record("段落1", ["段落1"])) + "\n\n{not json\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"bad\.jsonl, line 3: not valid JSON"):
        read_predictions(path)
    path.write_text('{"pred": "段落1", "answers": ["段落1"]}\n["a list"]\n', encoding="utf-8")
    with pytest.raises(ValueError, match=r"bad\.jsonl, line 2"):
        score_file(path, "passage_retrieval_zh")


def test_record_errors_name_the_line(tmp_path):
    record = ours_needle(0, 100, 10.0, 1)
    del record["needles"]
    path = write_jsonl(tmp_path / "n.jsonl", [ours_needle(1, 100, 10.0, 1), record])
    with pytest.raises(ValueError, match=r"n\.jsonl, line 2: missing field 'needles'"):
        score_file(path)
    lonely = write_jsonl(tmp_path / "nodataset.jsonl", [longbench_record("段落1", ["段落1"])])
    with pytest.raises(ValueError, match="line 1: no dataset"):
        score_file(lonely)
