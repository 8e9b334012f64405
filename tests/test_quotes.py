"""Quote verification: exact, normalised and fuzzy location, rejection, verbatim output."""
import random
import time

import pytest

from longdata.qa.quotes import (QuoteMatch, QuoteMiss, contains_passage, effective_ratio, extract_quote,
                             locate_quote)

EN = ("The Lumen Bridge opened in 1932 after six years of construction. Its central span of 410 metres "
      "made it the longest suspension bridge in the region until 1958. Tolls were abolished in 1975.\n"
      "The bridge was painted red in 1990, and again in 2010 after a public vote.")
ZH = "长江是中国最长的河流，全长约6300公里。它发源于青藏高原的唐古拉山脉。三峡大坝位于湖北省宜昌市，于2006年全面建成。"
SPAN = "Its central span of 410 metres made it the longest suspension bridge in the region until 1958."


def test_exact():
    m = locate_quote(SPAN, EN)
    assert isinstance(m, QuoteMatch) and m.method == "exact" and m.text == SPAN
    assert EN[m.start:m.end] == SPAN


def test_quote_marks_around_the_quote_are_ignored():
    m = locate_quote(f"“{SPAN}”", EN)
    assert m.method == "exact" and m.text == SPAN


@pytest.mark.parametrize("variant", [
    "its central span of 410 metres, made it the longest  suspension bridge in the region until 1958.",
    "Its central span of 410 metres made it the longest suspension bridge in the region until 1958!",
    "Its central span of ４１０ metres made it the longest suspension-bridge in the region until 1958.",
])
def test_normalised_maps_back_to_original_offsets(variant):
    m = locate_quote(variant, EN)
    assert m.method == "normalized"
    assert m.text == EN[m.start:m.end]
    assert m.text.startswith("Its central span") and m.text.rstrip(".").endswith("until 1958")


def test_normalised_chinese_punctuation_and_spaces():
    m = locate_quote("三峡大坝位于湖北省宜昌市, 于2006年全面建成", ZH)
    assert m.method == "normalized" and m.text == "三峡大坝位于湖北省宜昌市，于2006年全面建成"


@pytest.mark.parametrize("quote, expected", [
    ("Its central span of 401 metres made it the longest suspension bridge in this region until 1958.", SPAN),
    ("central span of 410 metres made it the longest suspension bridge in the region until 1958 and beyond",
     "central span of 410 metres made it the longest suspension bridge in the region until 1958"),
    ("The bridge was painted red in 1990, and again in 2010 after a public vota",
     "The bridge was painted red in 1990, and again in 2010 after a public vote"),
])
def test_fuzzy_repairs_to_the_verbatim_span(quote, expected):
    m = locate_quote(quote, EN)
    assert isinstance(m, QuoteMatch) and m.method == "fuzzy" and m.score >= 90
    assert m.text == expected and EN[m.start:m.end] == expected


def test_fuzzy_chinese():
    m = locate_quote("三峡大坝位于湖北宜昌市，于2006年全部建成。", ZH)
    assert m.method == "fuzzy" and m.text == "三峡大坝位于湖北省宜昌市，于2006年全面建成。"


@pytest.mark.parametrize("quote, reason", [
    ("The moon is made of green cheese according to the annals.", "quote_not_found"),
    ("Its central span made it the tallest tower in all of the country for decades.", "quote_not_found"),
    ("ok", "quote_too_short"),
    ("  “ ” ", "quote_empty"),
])
def test_rejects_below_threshold(quote, reason):
    m = locate_quote(quote, EN)
    assert isinstance(m, QuoteMiss) and m.reason == reason and m.detail


def test_threshold_is_configurable():
    edited = "Its central span of 410 metres made it the longest bridge in the region until 1958."
    assert isinstance(locate_quote(edited, EN), QuoteMiss)
    assert locate_quote(edited, EN, threshold=80).method == "fuzzy"


def test_every_match_is_verbatim_under_random_edits():
    """Property: whatever the edit, a match is always an exact slice of the document."""
    rng = random.Random(7)
    words = "alpha beta gamma delta epsilon zeta eta theta iota kappa lambda omicron".split()
    doc = " ".join(f"{rng.choice(words).title()} {' '.join(rng.choices(words, k=9))} {rng.randint(1, 999)}."
                   for _ in range(60))
    matched = 0
    for _ in range(150):
        start = rng.randrange(0, len(doc) - 120)
        chars = list(doc[start:start + rng.randint(30, 110)])
        for _ in range(rng.randint(0, 4)):
            i = rng.randrange(len(chars))
            op = rng.choice("sdi")
            if op == "s":
                chars[i] = rng.choice("xyz ,")
            elif op == "d":
                del chars[i]
            else:
                chars.insert(i, rng.choice("qw ."))
        m = locate_quote("".join(chars), doc)
        if isinstance(m, QuoteMatch):
            matched += 1
            assert doc[m.start:m.end] == m.text and m.text in doc
    assert matched > 100


def test_long_document_is_fast():
    rng = random.Random(0)
    doc = " ".join(f"Sentence {i} reports item {rng.randint(0, 10**6)} with some detail." for i in range(4000))
    quote = doc[120_000:120_200].replace("item", "itme")
    t = time.perf_counter()
    m = locate_quote(quote, doc)
    assert time.perf_counter() - t < 2.0
    assert m.method == "fuzzy" and abs(m.start - 120_000) < 10


def test_extract_quote_from_free_text():
    assert extract_quote("根据文档[7]的原文：“三峡大坝位于湖北省宜昌市”，所以答案是宜昌。") == "三峡大坝位于湖北省宜昌市"
    assert extract_quote('According to Document [3]: "It opened in 1932." So 1932.') == "It opened in 1932."
    assert extract_quote("no quote here") is None


def test_contains_passage_ignores_spacing_and_punctuation():
    assert contains_passage(ZH, "三峡大坝位于湖北省宜昌市, 于2006年")
    assert contains_passage(EN, "TOLLS were abolished in 1975")
    assert not contains_passage(ZH, "黄河是中国第二长的河流")
    assert not contains_passage(EN, " ... ")


def test_effective_ratio():
    assert effective_ratio(60, 100) == 0.6
    assert effective_ratio(10, 0) == 0.0
    assert effective_ratio(120, 100) == 1.0
