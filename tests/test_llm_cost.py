"""The dry-run cost plan: calls, tokens and cost, without a single request."""
import pytest
from llm_support import fast_generator, make_docs, make_requests

from longdata.llm.cost import count_message_tokens, plan_cost


def test_dry_run_plan_makes_no_request(start_server, monkeypatch, tmp_path):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)  # a plan needs no key either
    server = start_server()
    reqs = make_requests(make_docs(10) + make_docs(5, "zh"))
    gen = fast_generator(server.url, tmp_path / "c.sqlite", max_tokens=800)
    plan = plan_cost(gen.chat, gen.planned_calls(reqs + reqs[:3]), gen.max_tokens, price_in=2.5, price_out=10.0)
    assert server.chat_calls == 0 and not server.files and not server.batches
    prompt = sum(count_message_tokens(gen.first_call(r).messages) for r in reqs)
    assert (plan.calls, plan.cached, plan.prompt_tokens) == (15, 0, prompt)
    assert plan.completion_tokens == 15 * 300 and plan.completion_tokens_max == 15 * 800
    assert plan.cost == pytest.approx((prompt * 2.5 + 15 * 300 * 10.0) / 1e6)
    assert plan.cost_max > plan.cost
    batch = plan_cost(gen.chat, gen.planned_calls(reqs), gen.max_tokens, price_in=2.5, price_out=10.0, batch=True)
    assert batch.cost == pytest.approx(plan.cost / 2)
    text = str(plan)
    assert "15" in text and "$" in text and plan.as_dict()["calls"] == 15


def test_plan_counts_only_uncached_calls(start_server, monkeypatch, tmp_path):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-x")
    server = start_server()
    reqs = make_requests(make_docs(6))
    gen = fast_generator(server.url, tmp_path / "c.sqlite")
    gen.make_qas(reqs[:4])
    plan = plan_cost(gen.chat, gen.planned_calls(reqs), gen.max_tokens, price_in=1.0, price_out=1.0)
    assert (plan.calls, plan.cached) == (2, 4)
