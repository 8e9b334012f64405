"""QA writing with an LLM, on top of the shared chat client.

Each prompt holds only the gold document. The reply is parsed; a near miss gets one
repair request; the quote is pinned to the document's verbatim text (exact, normalised,
fuzzy) or the QA is rejected by name. Every call goes through `ChatClient`, so it is
cached, retried and run concurrently like any other task's calls.
"""
from __future__ import annotations

from typing import Sequence

from ..llm.client import ChatCall, ChatClient, Refusal, seed_for
from ..prompts import load_qa_prompt
from .base import QA, QARequest, Reject
from .parse import FormatError, parse_qa_reply
from .quotes import DEFAULT_THRESHOLD, QuoteMiss, locate_quote
from ..text import contains, fold


class LLMQAWriter:
    """A `Resolver` of QA requests backed by a chat model.

    temperature, max_tokens: sampling parameters (the seed comes from each request's key).
    quote_threshold: fuzzy similarity (0-100) needed to repair a quote instead of rejecting.
    """

    local = False

    def __init__(self, chat: ChatClient, *, temperature: float = 0.7, max_tokens: int = 1024,
                 quote_threshold: float = DEFAULT_THRESHOLD):
        self.chat = chat
        self.name = chat.model
        self.stats = chat.stats
        self.temperature = temperature
        self.max_tokens = max_tokens
        self.quote_threshold = quote_threshold

    @classmethod
    def connect(cls, model: str, *, temperature: float = 0.7, max_tokens: int = 1024,
                quote_threshold: float = DEFAULT_THRESHOLD, **client_options) -> "LLMQAWriter":
        """A writer with its own `ChatClient(model, **client_options)`."""
        return cls(ChatClient(model, **client_options), temperature=temperature, max_tokens=max_tokens,
                   quote_threshold=quote_threshold)

    # -- planning (shared by the live run, the Batch API and the dry-run cost plan) --------
    def first_call(self, req: QARequest) -> ChatCall:
        """The request that asks for a QA about `req.doc` (only the gold document is sent)."""
        params = {"temperature": self.temperature, "max_tokens": self.max_tokens, "seed": seed_for(req.key)}
        return self.chat.chat_call(load_qa_prompt(req.lang).messages(req.doc.text), params)

    def planned_calls(self, requests: Sequence[QARequest]) -> list[ChatCall]:
        return [self.first_call(r) for r in requests]

    def uncached(self, calls: Sequence[ChatCall]) -> list[ChatCall]:
        return self.chat.uncached(calls)

    # -- the Resolver protocol --------------------------------------------------------------
    def resolve(self, requests: Sequence[QARequest]) -> list[QA | Reject]:
        return self.make_qas(requests)

    def make_qas(self, requests: Sequence[QARequest]) -> list[QA | Reject]:
        """QAs (or rejects) in request order; raises LLMUnavailableError if the server keeps failing."""
        self.stats.requests += len(requests)
        calls = self.planned_calls(requests)
        replies = self.chat.complete(calls, desc=f"QAs from {self.name}")
        repairs: dict[int, ChatCall] = {}
        for i, (req, call, reply) in enumerate(zip(requests, calls, replies)):
            if isinstance(reply, Refusal):
                continue
            parsed = parse_qa_reply(reply.text)
            if isinstance(parsed, FormatError):
                self.stats.malformed_output += 1
                if parsed.near_miss:
                    messages = load_qa_prompt(req.lang).repair_messages(reply.text, parsed.message)
                    repairs[i] = self.chat.chat_call(messages, call.params)
        fixed = dict(zip(repairs, self.chat.complete(list(repairs.values()), desc="QA format repairs"))) if repairs else {}
        results = []
        for i, (req, reply) in enumerate(zip(requests, replies)):
            final = fixed.get(i, reply)
            if isinstance(final, Refusal):
                results.append(self.reject(req, "request_refused", final.detail))
                continue
            if i in fixed and not isinstance(parse_qa_reply(final.text), FormatError):
                self.stats.format_repaired += 1
            results.append(self.to_qa(req, final.text))
        return results

    def to_qa(self, req: QARequest, reply: str) -> QA | Reject:
        """Parse the final reply and pin its quote to the gold document (counted either way)."""
        parsed = parse_qa_reply(reply)
        if isinstance(parsed, FormatError):
            return self.reject(req, "malformed_output", parsed.message)
        match = locate_quote(parsed.quote, req.doc.text, self.quote_threshold)
        if isinstance(match, QuoteMiss):
            self.stats.quotes["rejected"] += 1
            return self.reject(req, match.reason, match.detail)
        self.stats.quotes[match.method] += 1
        folded = fold(match.text, req.lang)
        cues = tuple(c for c in parsed.cues if contains(folded, c, req.lang))[:4]
        if len(cues) < 2:
            return self.reject(req, "cues_not_in_quote", f"cues {list(parsed.cues)} do not occur in the quote")
        if len(cues) < len(parsed.cues):
            self.stats.cues_repaired += 1  # cues not in the quote dropped; enough remain
        return QA(parsed.question, match.text, parsed.answer, req.doc.id, self.name, cues)

    def reject(self, req: QARequest, reason: str, detail: str) -> Reject:
        self.stats.rejects[reason] += 1
        return Reject(req.doc.id, reason, detail)

    def close(self) -> None:
        self.chat.close()
