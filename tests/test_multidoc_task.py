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
    # two groups of 20 give six samples of three turns each; the synthetic documents share
    # their words so much (12 topics) that a turn may lose its only answerable cues
    assert 10 <= len(samples) <= 12
    for s in samples:
        check_sample(s, 1400)
        assert s["num_docs"] < 20  # irrelevant documents were dropped to fit 1400 tokens
    assert sum(len(s["gold_docs"]) for s in samples) <= 36 and stats.group("qa_rejects")


def test_output_does_not_depend_on_process_count():
    docs = [doc(i) for i in range(60)]
    assert build(docs, num_proc=1)[0] == build(docs, num_proc=2)[0]


def test_a_started_pooled_run_hands_out_units_before_it_is_iterated():
    cfg = multidoc.MultidocConfig(lang="en", max_tokens=4096, group_size=10, turns=3)
    task = multidoc.MultidocTask()
    handed = []

    def units():
        for unit in task.units([doc(i) for i in range(120)], cfg, RejectLog()):
            handed.append(unit)
            yield unit

    run = engine.run(task, cfg, units(), ExtractiveGenerator(), num_proc=2)
    engine.start(run)
    assert len(handed) == 8  # four jobs per worker in flight, none of them asked for yet
    started = [s for r in run for s in r.samples]
    assert len(handed) == 12 and started == build([doc(i) for i in range(120)], group_size=10)[0]
    stopped = engine.run(task, cfg, task.units([doc(i) for i in range(120)], cfg, RejectLog()), ExtractiveGenerator(), 2)
    engine.start(stopped)
    stopped.close()  # its jobs in flight are dropped with the pool; the next run gets a new one
    assert [s for r in engine.run(task, cfg, task.units([doc(i) for i in range(120)], cfg, RejectLog()),
                                  ExtractiveGenerator(), 2) for s in r.samples] == started


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
    assert stats.group("drops")["distractor holding a quote or all cues of a question"] >= 1
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
    settings = multidoc.MultidocConfig(lang="en", group_size=10, turns=3, shuffle_buffer=0)
    sizes = lambda n: [len(g.docs) for g in multidoc.groups([doc(i) for i in range(n)], settings)]
    assert sizes(23) == [10, 7, 6]
    assert sizes(20) == [10, 10]
    assert sizes(9) == [9]
    assert sizes(3) == []  # fewer than a sample needs


def test_quotes_holding_quotation_marks_get_other_marks_that_a_regex_recovers():
    zh = [Document(f"z{i}", "".join(f"第{i}号馆长说：“{t}馆的第{k}号展品来自{1900 + i + k}年。”随后展品移交给{t}博物院。"
                                    for k in range(4)), "zh", "s", {})
          for i, t in enumerate(["青石", "白沙", "临江", "云岭", "北湖", "东山", "西河", "南塘", "黄岗", "紫溪"])]
    en = [Document(f"e{i}", " ".join(f'Curator {i} said "item {k} of the {t} Museum dates from {1900 + i + k}" to the '
                                     f'visiting {t} delegation.' for k in range(4)), "en", "s", {})
          for i, t in enumerate(["Alder", "Birch", "Cedar", "Dogwood", "Elm", "Fir", "Ginkgo", "Hazel", "Ivy", "Juniper"])]
    for lang, docs in (("zh", zh), ("en", en)):
        cfg = multidoc.MultidocConfig(lang=lang, max_tokens=4096, group_size=10, turns=3, unanswerable_ratio=0)
        task = multidoc.MultidocTask()
        samples = [s for r in engine.run(task, cfg, task.units(docs, cfg, RejectLog()), ExtractiveGenerator()) for s in r.samples]
        assert samples
        answers = [m["content"] for s in samples for m in s["messages"] if m["role"] == "assistant"]
        assert all(a.split("：" if lang == "zh" else ": ", 1)[1][0] in "「“" for a in answers)  # never the default mark
        for s in samples:
            check_sample(s, 4096)  # recovers each quote exactly from its marks


def test_long_documents_become_passages_instead_of_rejects():
    long_doc = Document("long", "\n\n".join(doc(100 + k).text for k in range(12)), "en", "s", {})
    samples, stats = build([doc(i) for i in range(12)] + [long_doc], max_tokens=2048, group_size=30, turns=2)
    assert stats.group("documents")["split into passages"] == 1
    ids = {i for s in samples for i in s["source_ids"]}
    assert "long" not in ids and any(i.startswith("long#") for i in ids)
    for s in samples:
        check_sample(s, 2048)
