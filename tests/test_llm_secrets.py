"""The API key appears in no cache file, log line, printed summary, error or upload."""
import json
import logging

import pytest
from llm_support import fast_generator, make_docs, make_requests

from longdata.llm.batch import run_batch
from longdata.llm.cost import plan_cost
from longdata.llm.client import LLMUnavailableError


def test_api_key_appears_nowhere(start_server, api_key, tmp_path, caplog, capsys):
    caplog.set_level(logging.DEBUG)  # every logger, openai's and httpx's included
    cache = tmp_path / "cache.sqlite"
    reqs = make_requests(make_docs(12) + make_docs(4, "zh"))
    server = start_server(fault_rate=0.3, content_fault_rate=0.3, retry_after=0.01, slow_delay=1.0)
    gen = fast_generator(server.url, cache, timeout=0.5)
    print(plan_cost(gen.chat, gen.planned_calls(reqs), gen.max_tokens, 1.0, 2.0))
    run_batch(gen.chat, gen.planned_calls(reqs)[:6], poll_interval=0.01, max_wait=5)
    gen.make_qas(reqs)
    print(gen.stats, json.dumps(gen.stats.as_dict()))
    refusing = start_server(require_key="sk-another-key")
    with pytest.raises(LLMUnavailableError) as err:
        fast_generator(refusing.url, None).make_qas(reqs[:1])
    logging.getLogger("test").error("failed: %s", err.value)

    assert gen.stats.faults and caplog.records  # the run did fail and log something
    out = capsys.readouterr()
    texts = {"log": caplog.text, "stdout": out.out, "stderr": out.err, "error": str(err.value)}
    for name, text in texts.items():
        assert api_key not in text, name
    files = [p for p in tmp_path.iterdir() if p.name.startswith("cache.sqlite")]
    assert files
    for path in files:
        assert api_key.encode() not in path.read_bytes(), path.name
    for f in server.files.values():  # what the batch upload sent
        assert api_key.encode() not in f["content"]
