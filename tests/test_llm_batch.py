"""Batch API mode fills the response cache; the normal run then makes no chat calls."""
import json

import pytest
from llm_support import as_json, fast_generator, make_docs, make_requests

from longdata.llm.batch import run_batch
from longdata.llm.client import LLMUnavailableError


def test_batch_fills_the_cache_then_no_chat_calls(start_server, api_key, tmp_path):
    reqs = make_requests(make_docs(20) + make_docs(6, "zh"))
    server = start_server(content_fault_rate=0.3, content_faults=["quote_typo", "quote_fake"], batch_polls=2)
    gen = fast_generator(server.url, tmp_path / "c.sqlite")
    report = run_batch(gen.chat, gen.planned_calls(reqs), poll_interval=0.01, max_wait=10)
    assert (report.submitted, report.cached, report.failed) == (26, 26, 0)
    assert report.prompt_tokens > 0 and len(report.batch_ids) == 1
    assert server.chat_calls == 0 and sum(server.batch_lines.values()) == 26
    line = json.loads(next(iter(server.files.values()))["content"].splitlines()[0])
    assert line["url"] == "/v1/chat/completions" and line["body"]["model"] == "test-model"
    assert line["custom_id"] == gen.first_call(reqs[0]).key

    results = gen.make_qas(reqs)
    assert server.chat_calls == 0 and gen.stats.cache_hits == 26
    assert gen.stats.quotes["fuzzy"] > 0 and gen.stats.quotes["rejected"] > 0
    # the same answers as a live run would give
    live = fast_generator(start_server(content_fault_rate=0.3, content_faults=["quote_typo", "quote_fake"]).url,
                          None).make_qas(reqs)
    assert as_json(results) == as_json(live)
    # nothing left to submit
    assert run_batch(gen.chat, gen.planned_calls(reqs), poll_interval=0.01).submitted == 0 and len(server.batches) == 1


def test_failed_lines_are_sent_live_afterwards(start_server, api_key, tmp_path):
    reqs = make_requests(make_docs(20))
    server = start_server(fault_rate=0.3, faults=["500"], seed=1)
    gen = fast_generator(server.url, tmp_path / "c.sqlite")
    report = run_batch(gen.chat, gen.planned_calls(reqs), poll_interval=0.01)
    assert report.failed > 0 and report.cached + report.failed == 20
    gen.make_qas(reqs)
    assert gen.stats.cache_hits == report.cached and gen.stats.api_ok == report.failed


def test_an_interrupted_batch_is_polled_again_not_resubmitted(start_server, api_key, tmp_path):
    reqs = make_requests(make_docs(8))
    server = start_server(batch_polls=1000)
    gen = fast_generator(server.url, tmp_path / "c.sqlite")
    with pytest.raises(LLMUnavailableError, match="still in_progress"):
        run_batch(gen.chat, gen.planned_calls(reqs), poll_interval=0.01, max_wait=0.1)
    server.batch_polls = 0
    report = run_batch(gen.chat, gen.planned_calls(reqs), poll_interval=0.01)
    assert len(server.batches) == 1 and report.submitted == 0 and report.cached == 8
    assert report.batch_ids == list(server.batches)
