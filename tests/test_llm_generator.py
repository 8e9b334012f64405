"""OpenAIGenerator against the local test server, through the real openai client."""
import time
from collections import Counter

import pytest
from llm_support import as_json, fast_generator, make_docs, make_requests

from longdata.qa.base import QA, Reject
from longdata.llm.cost import count_message_tokens, count_tokens
from longdata.llm.client import LLMUnavailableError
from longdata.tokens import get_counter

# server fault kind -> the generator's stats key
TRANSPORT = {"429": "http_429", "500": "http_5xx", "slow": "timeout", "drop": "connection",
             "badjson": "bad_response"}


def test_30_percent_faults_every_request_answered_and_counted(start_server, api_key, tmp_path):
    docs = make_docs(40, "en") + make_docs(12, "zh")
    reqs = make_requests(docs)
    server = start_server(fault_rate=0.3, content_fault_rate=0.3, seed=3, retry_after=0.02, slow_delay=1.5)
    gen = fast_generator(server.url, tmp_path / "cache.sqlite", timeout=1.0)
    results = gen.make_qas(reqs)

    # nothing lost, nothing duplicated, in request order
    assert [r.doc_id for r in results] == [d.id for d in docs]
    assert max(server.answered.values()) == 1
    # every transport fault the server injected was seen, retried and counted
    for kind, key in TRANSPORT.items():
        assert server.faults_sent[kind] > 0, kind
        assert gen.stats.faults[key] >= server.faults_sent[kind], kind
    for kind in ("429", "500", "badjson", "drop"):
        assert gen.stats.faults[TRANSPORT[kind]] == server.faults_sent[kind], kind
    # every content fault is repaired or rejected, and counted as such
    content = Counter(server.content_by_hash.values())
    assert all(content[k] > 0 for k in ("malformed", "quote_fake", "quote_typo", "quote_punct")), content
    assert gen.stats.malformed_output == gen.stats.format_repaired == content["malformed"]
    assert gen.stats.quotes["fuzzy"] == content["quote_typo"]
    assert gen.stats.quotes["normalized"] == content["quote_punct"]
    assert gen.stats.quotes["rejected"] == gen.stats.rejects["quote_not_found"] == content["quote_fake"]
    assert gen.stats.quote_repaired == content["quote_typo"] + content["quote_punct"]
    # 100% of returned quotes are verbatim slices of their gold document
    qas = [r for r in results if isinstance(r, QA)]
    assert len(qas) == len(docs) - content["quote_fake"]
    by_id = {d.id: d for d in docs}
    assert all(qa.quote in by_id[qa.doc_id].text for qa in qas)
    assert all(isinstance(r, Reject) and r.reason == "quote_not_found" for r in results if not isinstance(r, QA))
    assert gen.stats.api_ok == len(docs) + content["malformed"]
    assert gen.stats.prompt_tokens > 0 and gen.stats.usage_estimated == 0

    # a rerun is served from the cache: zero calls, identical output and outcome counts
    calls = server.chat_calls
    again = fast_generator(server.url, tmp_path / "cache.sqlite")
    assert as_json(again.make_qas(reqs)) == as_json(results)
    assert server.chat_calls == calls and again.stats.api_calls == 0
    assert again.stats.cache_hits == gen.stats.api_ok
    assert again.stats.quotes == gen.stats.quotes and again.stats.rejects == gen.stats.rejects
    summary = str(gen.stats)
    assert "http_429=" in summary and "rejected" in summary


def test_prompt_holds_only_the_gold_document(start_server, api_key):
    docs = make_docs(2, "en") + make_docs(2, "zh") + make_docs(1, "en", seed=1, sentences=400) \
        + make_docs(1, "zh", seed=1, sentences=400)
    reqs = make_requests(docs)
    server = start_server()
    gen = fast_generator(server.url, None)
    assert all(isinstance(r, QA) for r in gen.make_qas(reqs))
    qwen = get_counter("qwen")
    for req in reqs:
        call = gen.first_call(req)
        doc_tokens = count_tokens(req.doc.text)
        assert count_message_tokens(call.messages) <= doc_tokens + 600
        assert qwen.count_chat(call.messages) <= qwen.count(req.doc.text) + 600
        assert gen.chat.cache.get(call.key).prompt_tokens <= doc_tokens + 600  # as the server counted
        others = [d.text for d in docs if d is not req.doc]
        assert not any(o in call.messages[-1]["content"] for o in others)


def test_retry_after_is_honoured_and_a_failing_request_stops_clearly(start_server, api_key):
    server = start_server(fault_rate=1.0, faults=["429"], retry_after=0.25)
    gen = fast_generator(server.url, None, max_attempts=3)
    t = time.perf_counter()
    with pytest.raises(LLMUnavailableError) as err:
        gen.make_qas(make_requests(make_docs(1)))
    assert time.perf_counter() - t >= 0.5  # two waits of Retry-After, not millisecond backoff
    assert server.chat_calls == 3
    assert "HTTP 429 after 3 attempts" in str(err.value) and "http_429=3" in str(err.value)
    assert "not kept" in str(err.value)


def test_stops_after_consecutive_failures(start_server, api_key):
    server = start_server(fault_rate=1.0, faults=["500"])
    gen = fast_generator(server.url, None, concurrency=2, max_attempts=2, max_consecutive_failures=3)
    with pytest.raises(LLMUnavailableError, match=r"\d requests in a row failed"):
        gen.make_qas(make_requests(make_docs(30)))
    assert server.chat_calls < 20  # it did not grind through all 30 x 2 attempts


def test_wrong_key_stops_at_once_without_showing_it(start_server, api_key):
    server = start_server(require_key="sk-the-right-one")
    gen = fast_generator(server.url, None, concurrency=1)
    with pytest.raises(LLMUnavailableError) as err:
        gen.make_qas(make_requests(make_docs(5)))
    assert "HTTP 401" in str(err.value) and "$OPENAI_API_KEY" in str(err.value)
    assert api_key not in str(err.value)
    assert gen.stats.api_calls <= 2  # the one refused, and at most one already on its way


def test_key_needed_only_for_calls(start_server, api_key, monkeypatch, tmp_path):
    server = start_server()
    reqs = make_requests(make_docs(3))
    first = fast_generator(server.url, tmp_path / "c.sqlite", api_key_env="MY_LLM_KEY")
    monkeypatch.setenv("MY_LLM_KEY", api_key)
    results = first.make_qas(reqs)
    monkeypatch.delenv("MY_LLM_KEY")
    assert fast_generator(server.url, tmp_path / "c.sqlite", api_key_env="MY_LLM_KEY").make_qas(reqs) == results
    with pytest.raises(LLMUnavailableError, match="MY_LLM_KEY"):
        fast_generator(server.url, tmp_path / "c.sqlite", api_key_env="MY_LLM_KEY").make_qas(
            make_requests(make_docs(1, seed=5)))


def test_identical_requests_share_one_call(start_server, api_key):
    server = start_server(latency=0.05)
    req = make_requests(make_docs(1))[0]
    results = fast_generator(server.url, None).make_qas([req, req, req])
    assert server.chat_calls == 1 and results[0] == results[1] == results[2]


def test_seed_follows_the_request_key(start_server, api_key):
    server = start_server()
    gen = fast_generator(server.url, None)
    doc = make_docs(1)[0]
    a, b = make_requests([doc])[0], make_requests([doc])[0]
    other = type(a)(doc, "another-key", "en")
    assert gen.first_call(a).params["seed"] == gen.first_call(b).params["seed"]
    assert gen.first_call(a).params["seed"] != gen.first_call(other).params["seed"]
    assert gen.first_call(a).key != gen.first_call(other).key


def test_usage_estimated_when_the_server_reports_none(start_server, api_key):
    server = start_server(usage=False)
    reqs = make_requests(make_docs(4))
    gen = fast_generator(server.url, None)
    gen.make_qas(reqs)
    assert gen.stats.usage_estimated == gen.stats.api_ok == 4
    assert gen.stats.prompt_tokens == sum(count_message_tokens(gen.first_call(r).messages) for r in reqs)
    assert gen.stats.completion_tokens > 0


def test_refused_request_becomes_a_counted_reject(start_server, api_key):
    docs = make_docs(3) + make_docs(1, seed=2, sentences=300)
    server = start_server(max_prompt_tokens=2000)
    gen = fast_generator(server.url, None)
    results = gen.make_qas(make_requests(docs))
    assert [type(r) for r in results] == [QA, QA, QA, Reject]
    assert results[-1].reason == "request_refused" and "maximum context length" in results[-1].detail
    assert gen.stats.rejects["request_refused"] == 1 and server.chat_calls == 4


def test_concurrency_is_bounded_and_used(start_server, api_key):
    """The semaphore caps requests in flight at `concurrency`, and the run keeps it full
    (throughput itself is measured by bench/llm_concurrency.py)."""
    server = start_server(latency=0.3)  # long enough for 16 requests to pile up on a busy machine
    gen = fast_generator(server.url, None, concurrency=16)
    t = time.perf_counter()
    gen.make_qas(make_requests(make_docs(64)))
    assert server.max_in_flight == 16
    assert time.perf_counter() - t < 64 / 16 * 0.3 * 3  # far from serial (19.2 s)
