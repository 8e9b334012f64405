"""A run killed half way resumes: no answered request is sent again, and the output is
byte-identical to an uninterrupted run. Also: the test server runs on its own."""
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import openai
from llm_support import API_KEY, ROOT, as_json, fast_generator, make_docs, make_requests

from longdata.llm.testserver import messages_hash

SUPPORT = Path(__file__).with_name("llm_support.py")


def _rows(cache: Path) -> int:
    if not cache.exists():
        return 0
    try:
        with sqlite3.connect(cache, timeout=5) as db:
            return db.execute("SELECT COUNT(*) FROM responses").fetchone()[0]
    except sqlite3.OperationalError:  # the child has not created the table yet
        return 0


def test_sigkill_half_way_then_resume(start_server, tmp_path, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", API_KEY)
    n = 60
    server = start_server(latency=0.03)
    cache, out = tmp_path / "cache.sqlite", tmp_path / "out.json"
    cmd = [sys.executable, str(SUPPORT), server.url, str(cache), str(out), str(n)]
    child = subprocess.Popen(cmd)
    deadline = time.monotonic() + 60
    while _rows(cache) < n // 2:
        assert child.poll() is None and time.monotonic() < deadline, "the child ended before the kill"
        time.sleep(0.01)
    child.send_signal(signal.SIGKILL)
    child.wait(timeout=10)
    assert not out.exists()
    with sqlite3.connect(cache) as db:
        answered_before = {r[0] for r in db.execute("SELECT key FROM responses")}
    assert n // 2 <= len(answered_before) < n

    subprocess.run(cmd, check=True, timeout=120)

    reqs = make_requests(make_docs(n))
    planner = fast_generator(server.url, None)
    for req in reqs:
        call = planner.first_call(req)
        h = messages_hash(call.messages)
        if call.key in answered_before:
            assert server.seen[h] == 1, "a request answered before the kill was sent again"
        assert server.answered[h] >= 1
    reference = fast_generator(start_server(latency=0.0).url, None).make_qas(reqs)
    assert out.read_text(encoding="utf-8") == as_json(reference)


def test_server_runs_standalone(tmp_path):
    port = _free_port()
    proc = subprocess.Popen([sys.executable, "-m", "longdata.llm.testserver", "--port", str(port),
                             "--fault-rate", "0"], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        assert f"127.0.0.1:{port}/v1" in proc.stdout.readline()
        client = openai.OpenAI(api_key="x", base_url=f"http://127.0.0.1:{port}/v1", max_retries=0, timeout=10)
        doc = make_docs(1)[0].text
        reply = client.chat.completions.create(
            model="m", messages=[{"role": "user", "content": f"<document>\n{doc}\n</document>"}])
        assert '"quote"' in reply.choices[0].message.content and reply.usage.prompt_tokens > 0
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
