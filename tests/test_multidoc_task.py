"""Unit tests of the multidoc task and the extractive generator on small synthetic groups."""
from __future__ import annotations


import pytest

from longdata import engine
from longdata.builders import NotEnoughData
from longdata.counts import Counts
from longdata.documents import Document, RejectLog
from longdata.qa.base import QA, QARequest, Reject
from longdata.qa.extractive import ExtractiveGenerator
from longdata.tasks import multidoc
from multidoc_checks import check_sample

TOPICS = ["glaciers", "volcanoes", "coral reefs", "deserts", "rainforests", "tundra", "estuaries", "savannas",
          "mangroves", "fjords", "steppes", "wetlands"]


def doc(i: int) -> Document:
    t = TOPICS[i % len(TOPICS)]
    text = (f"Document {i} is about {t} and the Station{i} observatory. Researchers at Station{i} measured the "
            f"Parameter{i} of {t} during the winter of {1900 + i}. The Parameter{i} value grew steadily across the "
            f"Region{i} basin. Later surveys of Region{i} confirmed the trend reported by Station{i} scientists.")
    return Document(f"d{i:03d}", text, "en", "synthetic.jsonl", {})


def build(docs, num_proc=1, **kw):
    """Samples and the added-up counts of running the task on `docs` with the local engine."""
    cfg = multidoc.MultidocConfig(lang="en", max_tokens=kw.pop("max_tokens", 4096), group_size=kw.pop("group_size", 20),
                                  turns=kw.pop("turns", 3), **kw)
    task = multidoc.MultidocTask()
    rejects = RejectLog()
    results = list(engine.run(task, cfg, task.units(docs, cfg, rejects), ExtractiveGenerator(), num_proc))
    if not results:
        raise NotEnoughData(task.not_enough(cfg, rejects))
    samples = [s for r in results for s in r.samples]
    return samples, sum((r.counts for r in results), start=Counts())


def test_extractive_qa_quotes_the_document_and_is_deterministic():
    gen = ExtractiveGenerator()
    d = doc(3)
    qa = gen.make_qa(QARequest(d, "seed:d003", "en"))
    assert isinstance(qa, QA) and qa.quote in d.text and qa.doc_id == d.id
    assert gen.make_qa(QARequest(d, "seed:d003", "en")) == qa
    assert qa.question.count('"') >= 4  # two cue words in quotes
    zh = Document("z", "长江是中国最长的河流，全长约六千三百公里。它发源于青藏高原，流经十一个省级行政区。长江流域是中国经济最发达的地区之一。", "zh", "s", {})
    zqa = gen.make_qa(QARequest(zh, "k", "zh"))
    assert isinstance(zqa, QA) and zqa.quote in zh.text and "“" in zqa.question
    assert isinstance(gen.make_qa(QARequest(Document("x", "Too short.", "en", "s", {}), "k", "en")), Reject)


def test_samples_hold_invariants_and_fit_the_budget():
    samples, stats = build([doc(i) for i in range(40)], max_tokens=1400)
    assert len(samples) == 12  # two groups of 20, six samples of three turns each
    for s in samples:
        check_sample(s, 1400)
        assert s["num_docs"] < 20  # irrelevant documents were dropped to fit 1400 tokens
    assert sum(len(s["gold_docs"]) for s in samples) == 36


def test_output_does_not_depend_on_process_count():
    docs = [doc(i) for i in range(60)]
    assert build(docs, num_proc=1)[0] == build(docs, num_proc=2)[0]


def test_seed_changes_the_layout():
    docs = [doc(i) for i in range(20)]
    a, _ = build(docs, seed=1)
    b, _ = build(docs, seed=2)
    assert [s["source_ids"] for s in a] != [s["source_ids"] for s in b]


def test_unanswerable_turns_leave_the_gold_document_out():
    samples, _ = build([doc(i) for i in range(40)], unanswerable_ratio=0.5)
    assert sum(s["gold_docs"].count(0) for s in samples) > 0
    for s in samples:
        for turn, gold in enumerate(s["gold_docs"]):
            if gold == 0:
                assert s["gold_positions"][turn] == -1.0
        assert any(s["gold_docs"])  # every sample keeps an answerable turn


def test_no_other_context_document_contains_a_quote():
    docs = [doc(i) for i in range(20)]
    docs += [Document(f"copy{i}", "Copied: " + docs[i].text, "en", "s", {}) for i in range(5)]  # near-duplicates
    samples, stats = build(docs, group_size=25, max_tokens=8192, unanswerable_ratio=0.3)
    assert stats.group("drops")["distractor holding a quote"] >= 1
    texts = {d.id: d.text for d in docs}
    for s in samples:
        for turn, gold in enumerate(s["gold_docs"]):
            answer = s["messages"][2 * turn + 1]["content"]
            if gold:
                quote = answer.split('"')[1]
                holders = [i for i in s["source_ids"] if quote in texts[i]]
                assert holders == [s["source_ids"][gold - 1]]


def test_too_few_documents_is_a_clear_error():
    with pytest.raises(NotEnoughData, match="at least 4 usable en documents"):
        build([doc(i) for i in range(3)])


def test_the_tail_is_split_into_near_equal_groups():
    settings = multidoc.MultidocConfig(lang="en", group_size=10, turns=3)
    sizes = lambda n: [len(g.docs) for g in multidoc.groups([doc(i) for i in range(n)], settings)]
    assert sizes(23) == [10, 7, 6]
    assert sizes(20) == [10, 10]
    assert sizes(9) == [9]
    assert sizes(3) == []  # fewer than a sample needs
