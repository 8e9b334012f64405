"""A local OpenAI-compatible server that answers QA prompts deterministically, with faults.

It exists so that the LLM path can be tested, benchmarked and tried without a model or a
network: `python -m longdata.llm.testserver --port 8000`, then point the generator at
http://127.0.0.1:8000/v1. It finds the document in the prompt and quotes one of its real
sentences, so everything downstream (parsing, quote verification, caching) runs for real.

Faults, decided by a seeded RNG per (message hash, how many times that request was seen),
so a run's faults do not depend on request order:
- transport (`fault_rate`): 429 with Retry-After, 500, a reply slower than the client's
  timeout, a dropped connection, a truncated JSON body;
- content (`content_fault_rate`, decided per message hash, so retries see the same reply):
  a near-miss reply with wrong keys (fixed by the repair request), a quote that is not in
  the document, a quote with small typos, a quote with changed spacing and punctuation.
Counters (`seen`, `answered`, `faults`) let tests assert what the client did.
"""
from __future__ import annotations

import argparse
import email.parser
import email.policy
import hashlib
import json
import random
import re
import sys
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Sequence

from ..retrieval import bm25_rank, terms
from ..text import cjk_ratio, sentence_spans
from .cost import count_message_tokens, count_tokens

TRANSPORT_FAULTS = ("429", "500", "slow", "drop", "badjson")
CONTENT_FAULTS = ("malformed", "quote_fake", "quote_typo", "quote_punct")
_DOC = re.compile(r"<document>\n(.*)\n</document>", re.S)
_REPLY = re.compile(r"<reply>\n(.*)\n</reply>", re.S)
_FAKE = {"en": "The committee approved the proposal only after a long debate about the annual budget.",
         "zh": "委员会在经过关于年度预算的长时间辩论后，才批准了这项提案。"}
_MALFORMED_KEYS = {"question": "q", "quote": "citation", "answer": "response", "cues": "keywords"}


class _HTTPServer(ThreadingHTTPServer):
    request_queue_size = 128  # the default 5 refuses connections under a burst of clients
    daemon_threads = True

    def handle_error(self, request, client_address) -> None:
        """Clients closing keep-alive connections (or timing out) are normal here."""
        if not isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            super().handle_error(request, client_address)


def messages_hash(messages: Sequence[dict]) -> str:
    canon = json.dumps([{"role": m.get("role"), "content": m.get("content")} for m in messages],
                       sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canon.encode("utf-8")).hexdigest()


class FakeOpenAIServer:
    """Chat completions, files and batches on 127.0.0.1; `port=0` picks a free port."""

    def __init__(self, port: int = 0, host: str = "127.0.0.1", *, latency: float = 0.0,
                 fault_rate: float = 0.0, faults: Sequence[str] = TRANSPORT_FAULTS,
                 content_fault_rate: float = 0.0, content_faults: Sequence[str] = CONTENT_FAULTS,
                 seed: int = 0, retry_after: float = 1.0, slow_delay: float = 5.0, usage: bool = True,
                 batch_polls: int = 1, require_key: str | None = None, max_prompt_tokens: int | None = None,
                 verbose: bool = False):
        unknown = set(faults) - set(TRANSPORT_FAULTS) | set(content_faults) - set(CONTENT_FAULTS)
        if unknown:
            raise ValueError(f"unknown fault kinds: {sorted(unknown)}")
        self.latency, self.fault_rate, self.faults = latency, fault_rate, tuple(faults)
        self.content_fault_rate, self.content_faults = content_fault_rate, tuple(content_faults)
        self.seed, self.retry_after, self.slow_delay, self.usage = seed, retry_after, slow_delay, usage
        self.batch_polls, self.require_key, self.verbose = batch_polls, require_key, verbose
        self.max_prompt_tokens = max_prompt_tokens
        self.seen: Counter[str] = Counter()       # chat requests per message hash
        self.answered: Counter[str] = Counter()   # successful chat answers per message hash
        self.faults_sent: Counter[str] = Counter()
        self.content_by_hash: dict[str, str] = {}  # content fault of each answered request
        self.in_flight = self.max_in_flight = 0     # concurrent chat requests, now and at most
        self.batch_lines: Counter[str] = Counter()
        self.files: dict[str, dict] = {}
        self.batches: dict[str, dict] = {}
        self._lock = threading.Lock()
        count_tokens("")  # load the tokenizer now, not while the first clients wait
        self._httpd = _HTTPServer((host, port), _handler_for(self))
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}/v1"

    @property
    def chat_calls(self) -> int:
        return sum(self.seen.values())

    def start(self) -> "FakeOpenAIServer":
        self._thread = threading.Thread(target=self._httpd.serve_forever, args=(0.05,), daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread is not None:
            self._httpd.shutdown()
            self._thread = None
        self._httpd.server_close()

    def __enter__(self) -> "FakeOpenAIServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # -- decisions ------------------------------------------------------------------------
    def transport_fault(self, h: str) -> str | None:
        with self._lock:
            self.seen[h] += 1
            n = self.seen[h]
        rng = random.Random(f"{self.seed}:{h}:{n}")
        if self.faults and rng.random() < self.fault_rate:
            kind = rng.choice(self.faults)
            with self._lock:
                self.faults_sent[kind] += 1
            return kind
        return None

    def content_fault(self, h: str, messages: Sequence[dict]) -> str | None:
        """Replies to repair requests are always well formed (the repair is the fix)."""
        if any(_REPLY.search(m.get("content") or "") for m in messages):
            return None
        rng = random.Random(f"{self.seed}:{h}:content")
        if self.content_faults and rng.random() < self.content_fault_rate:
            return rng.choice(self.content_faults)
        return None

    def completion(self, body: dict, h: str, content_fault: str | None) -> dict:
        """A chat.completion object answering `body` (usage from cl100k counts)."""
        text = reply_for(body.get("messages", []), h, content_fault)
        out = {"id": f"chatcmpl-{h[:24]}", "object": "chat.completion", "created": int(time.time()),
               "model": body.get("model", "test"),
               "choices": [{"index": 0, "finish_reason": "stop", "logprobs": None,
                            "message": {"role": "assistant", "content": text}}]}
        if self.usage:
            p, c = count_message_tokens(body.get("messages", [])), count_tokens(text)
            out["usage"] = {"prompt_tokens": p, "completion_tokens": c, "total_tokens": p + c}
        return out

    # -- batches --------------------------------------------------------------------------
    def run_batch(self, batch: dict) -> None:
        """Answer every line of the input file now (content faults apply, transport faults
        become per-line errors); the batch reports `in_progress` for `batch_polls` polls."""
        lines, errors = [], 0
        for raw in self.files[batch["input_file_id"]]["content"].decode("utf-8").splitlines():
            if not raw.strip():
                continue
            req = json.loads(raw)
            h = messages_hash(req["body"].get("messages", []))
            with self._lock:
                self.batch_lines[h] += 1
            rng = random.Random(f"{self.seed}:{h}:batch")
            if rng.random() < self.fault_rate:
                errors += 1
                lines.append({"id": f"batch_req_{h[:12]}", "custom_id": req["custom_id"],
                              "response": {"status_code": 500, "request_id": h[:12],
                                           "body": {"error": {"message": "injected fault"}}}, "error": None})
                continue
            body = self.completion(req["body"], h, self.content_fault(h, req["body"].get("messages", [])))
            lines.append({"id": f"batch_req_{h[:12]}", "custom_id": req["custom_id"],
                          "response": {"status_code": 200, "request_id": h[:12], "body": body}, "error": None})
        out = self.add_file("\n".join(json.dumps(x, ensure_ascii=False) for x in lines).encode() + b"\n",
                            "batch_output.jsonl", "batch_output")
        batch.update(output_file_id=out["id"], request_counts={
            "total": len(lines), "completed": len(lines) - errors, "failed": errors})

    def add_file(self, content: bytes, filename: str, purpose: str) -> dict:
        with self._lock:
            fid = f"file-{len(self.files) + 1:06d}"
            meta = {"id": fid, "object": "file", "bytes": len(content), "created_at": int(time.time()),
                    "filename": filename, "purpose": purpose, "status": "processed"}
            self.files[fid] = {"meta": meta, "content": content}
        return meta

    def serve_forever(self) -> None:
        self._httpd.serve_forever()


def reply_for(messages: Sequence[dict], h: str, content_fault: str | None) -> str:
    """What the fake model says: a JSON QA quoting one real sentence of the document, a
    reformatted reply for a repair request, or prose when there is no document."""
    user = next((m.get("content") or "" for m in reversed(messages) if m.get("role") == "user"), "")
    repair = _REPLY.search(user)
    if repair:
        return _reformat(repair.group(1))
    if "[[rating]]" in user:
        return _judge_reply(user, h)
    if "摘要出自哪一段" in user or "which paragraph the abstract is from" in user:
        return _retrieval_reply(user)
    if "夹着一些事实" in user or "a few facts hidden in it" in user:
        return _needle_reply(user)
    doc = _DOC.search(user)
    if not doc:
        return "Please give me a document between <document> tags."
    text = doc.group(1)
    lang = "zh" if cjk_ratio(text[:2000]) >= 0.3 else "en"
    spans = [s for s in sentence_spans(text, lang) if s[1] - s[0] >= 20] or sentence_spans(text, lang)
    if not spans:
        return "The document is empty."
    start, end = spans[int(h[:8], 16) % len(spans)]
    sentence = text[start:end]
    quote = _corrupt(sentence, lang, content_fault)
    head = sentence[:12] if lang == "zh" else " ".join(sentence.split()[:6])
    if lang == "zh":
        qa = {"question": f"关于“{head}”，原文是怎么说的？", "quote": quote, "answer": f"原文说的是：{sentence}"}
    else:
        qa = {"question": f"What is said about \"{head}\"?", "quote": quote, "answer": f"It says: {sentence}"}
    qa["cues"] = _cues(sentence, lang)
    if content_fault == "malformed":
        return "Sure, here it is:\n" + json.dumps({_MALFORMED_KEYS[k]: v for k, v in qa.items()}, ensure_ascii=False)
    return json.dumps(qa, ensure_ascii=False)


def _best(query: str, texts: Sequence[str], lang: str) -> list[int]:
    """Indices of `texts` by BM25 score for `query`, best first (a lexical stand-in for a model)."""
    docs = [terms(t, lang) for t in texts]
    q = terms(query, lang)
    ranks = [bm25_rank(q, docs, i) for i in range(len(docs))]
    return sorted(range(len(docs)), key=lambda i: (ranks[i], i))


def _retrieval_reply(user: str) -> str:
    """Passage retrieval: the paragraph that best matches the abstract, cited, then quoted
    (digits in the quote are what LongBench's metric wrongly counts)."""
    zh = "摘要出自哪一段" in user
    head = r"段落(\d+)：" if zh else r"Paragraph (\d+): "
    tail = "\n\n下面是一个摘要\n\n" if zh else "\n\nThe following is an abstract.\n\n"
    context, _, rest = user.partition(tail)
    abstract = rest.split("\n\n")[0]
    parts = re.split(head, context)[1:]
    numbers, texts = parts[0::2], [t.strip() for t in parts[1::2]]
    if not texts:
        return "I cannot find the paragraphs."
    n = numbers[_best(abstract, texts, "zh" if zh else "en")[0]]
    return f"摘要出自段落{n}：“{abstract[:30]}”" if zh else f'Paragraph {n}: "{abstract[:80]}"'


def _needle_reply(user: str) -> str:
    """Needles: for each question, the haystack sentence that best matches it, quoted."""
    zh = "夹着一些事实" in user
    body, _, question = user.rpartition("\n\n问题：" if zh else "\n\nQuestion: ")
    lang = "zh" if zh else "en"
    sentences = [body[a:b] for a, b in sentence_spans(body, lang)]
    asks = [q for q in re.split(r"(?<=[？?])", question) if q.strip()]
    picks = [sentences[_best(q, sentences, lang)[0]] for q in asks if sentences]
    return "\n".join(f"根据原文：“{p}”" if zh else f'The text says: "{p}"' for p in picks)


def _judge_reply(user: str, h: str) -> str:
    """A judge: a rating on the prompt's own scale, from the request's hash."""
    top = 3 if "1, 2, 3" in user else 5 if "1 to 5" in user else 10
    return f"The answer covers part of the reference. Rating: [[{1 + int(h[:8], 16) % top}]]"


def _cues(sentence: str, lang: str) -> list[str]:
    """Three terms of the true sentence: its longest words (zh: three-character pieces of its
    runs of Han characters and digits, from the start, middle and end)."""
    if lang == "zh":
        runs = [m.group() for m in re.finditer(r"[\u4e00-\u9fff\d]{3,}", sentence)] or [sentence]
        pieces = [r[i:i + 3] for r in runs for i in range(0, max(1, len(r) - 2), 3)]
        picks = [pieces[0], pieces[len(pieces) // 2], pieces[-1]]
    else:
        words = sorted({w.strip(".,;:!?\"'()") for w in sentence.split()}, key=lambda w: (-len(w), w))
        picks = words[:3]
    return list(dict.fromkeys(p for p in picks if p))


def _corrupt(sentence: str, lang: str, fault: str | None) -> str:
    if fault == "quote_fake":
        return _FAKE[lang]
    if fault == "quote_typo":  # every 25th letter or digit changed, from the 3rd on
        chars = list(sentence)
        alnum = [i for i, ch in enumerate(chars) if ch.isalnum()]
        for i in alnum[2::25]:
            chars[i] = ("的" if chars[i] != "的" else "了") if lang == "zh" else ("x" if chars[i] != "x" else "y")
        return "".join(chars)
    if fault == "quote_punct":  # extra space, and the closing punctuation dropped
        return (sentence[:2] + " " + sentence[2:]).rstrip(".!?。！？；;”\"'")
    return sentence


def _reformat(reply: str) -> str:
    start, end = reply.find("{"), reply.rfind("}")
    try:
        obj = json.loads(reply[start:end + 1])
    except json.JSONDecodeError:
        return reply
    back = {v: k for k, v in _MALFORMED_KEYS.items()}
    return json.dumps({back.get(k, k): v for k, v in obj.items()}, ensure_ascii=False)


def _handler_for(server: FakeOpenAIServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as real servers do
        disable_nagle_algorithm = True  # headers and body are separate writes: no 40 ms stalls

        def log_message(self, fmt: str, *args) -> None:
            if server.verbose:
                super().log_message(fmt, *args)

        def _send(self, status: int, payload: dict | bytes, headers: dict | None = None,
                  content_type: str | None = None) -> None:
            data = payload if isinstance(payload, bytes) else json.dumps(payload, ensure_ascii=False).encode()
            self.send_response(status)
            self.send_header("Content-Type", content_type or (
                "application/octet-stream" if isinstance(payload, bytes) else "application/json"))
            self.send_header("Content-Length", str(len(data)))
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.end_headers()
            try:
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):
                self.close_connection = True

        def _body(self) -> bytes:
            return self.rfile.read(int(self.headers.get("Content-Length") or 0))

        def _error(self, status: int, message: str, headers: dict | None = None) -> None:
            self._send(status, {"error": {"message": message, "type": "test_server", "code": status}}, headers)

        def _authorized(self) -> bool:
            """Without `require_key` any key is accepted; the key itself is never stored."""
            if server.require_key is None or self.headers.get("Authorization") == f"Bearer {server.require_key}":
                return True
            self._error(401, "Incorrect API key provided.")
            return False

        def do_POST(self) -> None:
            body = self._body()
            if not self._authorized():
                return
            if self.path.endswith("/chat/completions"):
                self._chat(json.loads(body))
            elif self.path.endswith("/files"):
                self._upload(body)
            elif self.path.endswith("/batches"):
                self._create_batch(json.loads(body))
            else:
                self._error(404, f"no route {self.path}")

        def do_GET(self) -> None:
            if not self._authorized():
                return
            parts = self.path.rstrip("/").split("/")
            if len(parts) >= 2 and parts[-2] == "batches" and parts[-1] in server.batches:
                self._poll_batch(server.batches[parts[-1]])
            elif len(parts) >= 3 and parts[-1] == "content" and parts[-2] in server.files:
                self._send(200, server.files[parts[-2]]["content"])
            elif len(parts) >= 2 and parts[-1] in server.files:
                self._send(200, server.files[parts[-1]]["meta"])
            else:
                self._error(404, f"no route {self.path}")

        def _chat(self, body: dict) -> None:
            with server._lock:
                server.in_flight += 1
                server.max_in_flight = max(server.max_in_flight, server.in_flight)
            try:
                self._answer_chat(body)
            finally:
                with server._lock:
                    server.in_flight -= 1

        def _answer_chat(self, body: dict) -> None:
            messages = body.get("messages", [])
            h = messages_hash(messages)
            fault = server.transport_fault(h)
            time.sleep(server.latency)
            if fault == "drop":
                self.close_connection = True  # close the socket without a response
                return
            if fault == "429":
                self._error(429, "rate limited (injected)", {"Retry-After": f"{server.retry_after:g}"})
                return
            if fault == "500":
                self._error(500, "server error (injected)")
                return
            limit = server.max_prompt_tokens
            if limit is not None and count_message_tokens(messages) > limit:
                self._error(400, f"This model's maximum context length is {limit} tokens.")
                return
            content_fault = server.content_fault(h, messages)
            completion = server.completion(body, h, content_fault)
            if fault == "badjson":
                data = json.dumps(completion).encode()
                self._send(200, data[: len(data) // 2], content_type="application/json")
                return
            if fault == "slow":
                time.sleep(server.slow_delay)
            else:
                with server._lock:
                    server.answered[h] += 1
                    if content_fault:
                        server.content_by_hash[h] = content_fault
            self._send(200, completion)

        def _upload(self, body: bytes) -> None:
            head = f"Content-Type: {self.headers.get('Content-Type')}\r\n\r\n".encode()
            msg = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + body)
            fields = {p.get_param("name", header="content-disposition"): p for p in msg.iter_parts()}
            if "file" not in fields:
                self._error(400, "multipart field 'file' is required")
                return
            part = fields["file"]
            purpose = fields["purpose"].get_payload(decode=True).decode() if "purpose" in fields else "batch"
            self._send(200, server.add_file(part.get_payload(decode=True), part.get_filename() or "upload", purpose))

        def _create_batch(self, body: dict) -> None:
            if body.get("input_file_id") not in server.files:
                self._error(400, "unknown input_file_id")
                return
            bid = f"batch_{len(server.batches) + 1:06d}"
            batch = {"id": bid, "object": "batch", "endpoint": body.get("endpoint"), "errors": None,
                     "input_file_id": body["input_file_id"], "completion_window": body.get("completion_window"),
                     "status": "in_progress", "created_at": int(time.time()), "polls": 0}
            server.run_batch(batch)
            server.batches[bid] = batch
            self._send(200, _public(batch))

        def _poll_batch(self, batch: dict) -> None:
            batch["polls"] += 1
            if batch["polls"] > server.batch_polls:
                batch["status"] = "completed"
            self._send(200, _public(batch))

    return Handler


def _public(batch: dict) -> dict:
    """The batch as the API shows it: the output file only once it is completed."""
    out = {k: v for k, v in batch.items() if k != "polls"}
    if out["status"] != "completed":
        out.pop("output_file_id", None)
    return out


def main(argv: Sequence[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=8000)
    ap.add_argument("--latency", type=float, default=0.0, help="seconds before every reply")
    ap.add_argument("--fault-rate", type=float, default=0.0, help="share of requests given a transport fault")
    ap.add_argument("--faults", default=",".join(TRANSPORT_FAULTS), help="transport fault kinds to mix")
    ap.add_argument("--content-fault-rate", type=float, default=0.0, help="share of replies with a bad format or quote")
    ap.add_argument("--content-faults", default=",".join(CONTENT_FAULTS), help="content fault kinds to mix")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--retry-after", type=float, default=1.0, help="Retry-After seconds sent with 429")
    ap.add_argument("--slow-delay", type=float, default=5.0, help="extra seconds of a 'slow' reply")
    ap.add_argument("--no-usage", action="store_true", help="omit token usage from replies")
    ap.add_argument("--batch-polls", type=int, default=1, help="polls a batch stays in_progress")
    ap.add_argument("--require-key", help="answer 401 unless this bearer key is sent")
    ap.add_argument("--max-prompt-tokens", type=int, help="answer 400 to longer prompts")
    ap.add_argument("--verbose", action="store_true", help="log every request")
    a = ap.parse_args(argv)
    server = FakeOpenAIServer(
        a.port, a.host, latency=a.latency, fault_rate=a.fault_rate, faults=[f for f in a.faults.split(",") if f],
        content_fault_rate=a.content_fault_rate, content_faults=[f for f in a.content_faults.split(",") if f],
        seed=a.seed, retry_after=a.retry_after, slow_delay=a.slow_delay, usage=not a.no_usage,
        batch_polls=a.batch_polls, require_key=a.require_key,
        max_prompt_tokens=a.max_prompt_tokens, verbose=a.verbose)
    print(f"OpenAI-compatible test server on {server.url} (Ctrl-C to stop)", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()


if __name__ == "__main__":
    main()
