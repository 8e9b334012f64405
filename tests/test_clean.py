"""Quality rules and dedup: demo corpora untouched, planted near-duplicates found, distinct
real documents kept apart, exact duplicates always, the CLI report."""
from __future__ import annotations

import json
import random
from itertools import islice

import pytest

from longdata.clean.dedup import DedupConfig, NearDuplicates, shingles
from longdata.clean.filters import first_failure
from longdata.data import demo_books, demo_corpus
from longdata.documents import read_documents


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_no_demo_document_is_dropped(lang):
    for doc in read_documents([demo_corpus(lang), demo_books(lang)]):
        assert first_failure(doc.text, lang) is None, doc.id


@pytest.mark.parametrize("text, lang, reason", [
    ("今天北京的天气很好，我们去公园散步。", "zh", "too few words"),
    ("价格：" + "1234567890" * 30 + "元。" * 40, "zh", "digit ratio"),
    ("这是一段正常的新闻报道，内容涉及经济与社会发展。" * 10 + "啊" * 40, "zh", "repeated character"),
    ("\n".join(["Home | About | Contact"] * 10 + ["A real sentence about the river and the mill stands here."] * 2), "en",
     "duplicated lines"),
    ("\n".join(f"menu item {i} link" for i in range(60)), "en", "lines without terminal punctuation"),
])
def test_rules_name_their_reason(text, lang, reason):
    assert (first_failure(text, lang) or "").startswith(reason)


def jaccard(a, b):
    a, b = set(a), set(b)
    return len(a & b) / len(a | b)


def edit(text: str, lang: str, rng: random.Random, rate: float) -> str:
    """Replace a share of the words (characters for zh) at random."""
    units = list(text) if lang == "zh" else text.split()
    for i in rng.sample(range(len(units)), int(len(units) * rate)):
        units[i] = rng.choice("天地人山水火") if lang == "zh" else rng.choice(["alpha", "beta", "gamma", "delta"])
    return ("" if lang == "zh" else " ").join(units)


@pytest.mark.parametrize("lang, name", [("zh", "zh_news.jsonl"), ("en", "en_web.jsonl")])
def test_planted_near_duplicates_are_found_and_distinct_documents_kept(corpora, lang, name):
    rng = random.Random(7)
    docs = [d.text for d in read_documents([corpora / name]) if d.lang == lang and len(d.text) > 800][:400]
    planted, texts = [], list(docs)
    for i in rng.sample(range(len(docs)), 150):
        for rate in (0.004, 0.008, 0.012, 0.016):  # pick an edit rate that gives Jaccard 0.8-0.95
            copy = edit(docs[i], lang, rng, rate)
            j = jaccard(shingles(docs[i], lang), shingles(copy, lang))
            if 0.8 <= j <= 0.95:
                planted.append((i, len(texts)))
                texts.append(copy)
                break
    texts.append(docs[0])  # an exact duplicate
    near = NearDuplicates(DedupConfig())
    for k in range(0, len(texts), 128):
        near.add_batch(texts[k:k + 128], lang)
    found = sum(near.duplicate_of(i) == near.duplicate_of(j) for i, j in planted)
    assert len(planted) >= 100 and found / len(planted) >= 0.95, (found, len(planted))
    merged = sum(near.duplicate_of(i) != i for i in range(len(docs)))  # originals wrongly merged
    assert merged / len(docs) <= 0.01, merged
    assert near.duplicate_of(len(texts) - 1) == near.duplicate_of(0)


def test_cli_clean_writes_shards_and_a_report(tmp_path, capsys):
    from longdata.cli import main
    from longdata.documents import read_documents as read

    corpus = tmp_path / "c.jsonl"
    rows = [json.loads(line) for line in demo_corpus("en").read_text(encoding="utf-8").splitlines()[:30]]
    rows += [dict(rows[3], id="copy-3"), {"id": "junk", "lang": "en", "text": "\n".join(f"menu {i} link" for i in range(60))}]
    corpus.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    assert main(["clean", "--lang", "en", "--corpus", str(corpus), "--out", str(tmp_path / "out")]) == 0
    report = json.loads((tmp_path / "out" / "clean-en-report.json").read_text())
    assert report["kept"] == 30 and report["dropped"] == {"exact duplicate": 1, "lines without terminal punctuation": 1}
    kept = [d.id for d in read([tmp_path / "out"])]
    assert kept == [r["id"] for r in rows[:30]]
    assert "kept 30" in capsys.readouterr().out


def _regex_normalize(text: str) -> str:
    """The definition `normalize_batch` vectorises: one regular-expression step per character."""
    import re
    import unicodedata

    text = re.sub(r"[\W_]+", " ", text)
    if not unicodedata.is_normalized("NFKC", text):
        text = re.sub(r"[\W_]+", " ", unicodedata.normalize("NFKC", text))
    return text.lower().strip()


def _odd_texts(rng: random.Random, count: int) -> list[str]:
    """Random code points of every plane mixed with the characters normalising trips on."""
    tricky = " _.,!İ\u3000ａＢ①™ﬁé\u0301x9\n\t。，“”\u00a0"
    return ["".join(chr(rng.randrange(0x110000)) if rng.random() < 0.3 else rng.choice(tricky)
                    for _ in range(rng.randint(0, 30))) for _ in range(count)]


@pytest.mark.parametrize("lang, name", [("zh", "zh_news.jsonl"), ("en", "en_web.jsonl")])
def test_batch_normalising_and_shingle_hashes_match_their_definitions(corpora, lang, name):
    from longdata.clean.dedup import normalize_batch, shingle_hashes

    rng = random.Random(11)
    texts = [d.text[:3000] for d in islice(read_documents([corpora / name]), 600)]
    texts += _odd_texts(rng, 600) + ["", " ", "a", "a b", "一二", "。。。", "x y z w v u"]
    rng.shuffle(texts)
    norms = normalize_batch(texts)
    assert norms == [_regex_normalize(t) for t in texts]
    flat, offsets = shingle_hashes(norms, lang)
    assert len(offsets) == len(texts) + 1 and int(offsets[-1]) == len(flat)
    hash_of: dict[str, int] = {}
    for i, text in enumerate(texts):  # each text's shingles, in order, one hash per shingle string
        own = flat[int(offsets[i]):int(offsets[i + 1])].tolist()
        strings = shingles(text, lang) or [" " if lang == "zh" else ""]
        assert len(own) == len(strings), (i, text[:40])
        for s, h in zip(strings, own):
            assert hash_of.setdefault(s, h) == h, s
    assert len(set(hash_of.values())) == len(hash_of)  # no two shingles share a hash


def _plain_rules(text: str, lang: str, c) -> dict[str, str | None]:
    """The rules that run on numpy or on bounds, written the slow, obvious way."""
    import re
    from collections import Counter

    import jieba

    words = [w for w in (jieba.cut(text, HMM=False) if lang == "zh" else text.split())
             if w.strip() and any(ch.isalnum() for ch in w)]
    n = len(words)
    out = {"word_count": f"too few words: {n} < {c.min_words}" if n < c.min_words else None}
    symbols = len(re.findall(r"#|\.\.\.|…", text)) / max(1, n)
    out["symbol_ratio"] = f"symbol ratio: {symbols:.2f} > {c.max_symbol_ratio}" if symbols > c.max_symbol_ratio else None
    visible = [ch for ch in text if not ch.isspace()]
    digits = sum(ch.isdigit() for ch in visible) / max(1, len(visible))
    out["digit_ratio"] = f"digit ratio: {digits:.2f} > {c.max_digit_ratio}" if digits > c.max_digit_ratio else None
    run = re.search(r"(\S)\1{%d,}" % (c.max_char_run - 1), text)
    out["char_runs"] = f"repeated character: {run.group(1)!r} {len(run.group())} times in a row" if run else None
    units = list(re.sub(r"\s+", "", text)) if lang == "zh" else words
    out["top_ngram_share"] = None
    for size, limit in sorted(c.max_top_ngram_share.items()):
        grams = Counter(tuple(units[i:i + size]) for i in range(len(units) - size + 1))
        if grams:
            gram, count = grams.most_common(1)[0]
            share = count * sum(map(len, gram)) / (sum(map(len, units)) or 1)
            if share > limit and count > 1:
                out["top_ngram_share"] = f"top {size}-gram share: {share:.2f} > {limit}"
                break
    return out


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_fast_rules_answer_as_their_plain_definitions(corpora, lang):
    from longdata.clean import filters

    rng = random.Random(13)
    texts = [d.text[:rng.randint(100, 4000)] for name in ("zh_news.jsonl", "en_web.jsonl")
             for d in islice(read_documents([corpora / name]), 150)]
    pieces = ["中国", "的", "a", "ab", "#", "...", "…", "\n", " ", "1", "２", "²", "😀", "𠀀", "。", "x" * 35, "的" * 31,
              "Word.", "\u3000"]
    texts += ["".join(rng.choice(pieces) for _ in range(rng.randint(0, 300))) for _ in range(300)]
    config = filters.FilterConfig.for_lang(lang)
    for text in texts:
        stats = filters.Stats(text, lang)
        for rule, reason in _plain_rules(text, lang, config).items():
            assert getattr(filters, rule)(stats, config) == reason, (rule, text[:60])


def test_the_word_bound_holds_for_jiebas_dictionary(corpora):
    """`fewest_words` may skip segmenting only because no dictionary word is longer than
    LONGEST_DICTIONARY_WORD and jieba-rs cuts as jieba does: both checked here."""
    import jieba
    import rjieba

    from longdata.clean.filters import LONGEST_DICTIONARY_WORD, Stats

    jieba.initialize()
    assert max(len(w) for w, freq in jieba.dt.FREQ.items() if freq) == LONGEST_DICTIONARY_WORD
    for doc in islice(read_documents([corpora / "zh_news.jsonl"]), 300):
        assert rjieba.cut(doc.text, hmm=False) == list(jieba.cut(doc.text, HMM=False)), doc.id
        stats = Stats(doc.text, "zh")
        assert stats.fewest_words <= len(stats.words) <= stats.most_words
