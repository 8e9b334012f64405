"""Quality rules and dedup: demo corpora untouched, planted near-duplicates found, distinct
real documents kept apart, exact duplicates always, the CLI report."""
from __future__ import annotations

import json
import random

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
