"""Plain chat requests of a task (a chapter to summarise, parts to combine) and the
`Resolver` that answers them through the shared chat client."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Sequence

from ..seeding import stable_hash
from .client import ChatCall, ChatClient, Refusal, seed_for


@dataclass(frozen=True)
class ChatRequest:
    """`key` is derived from the messages and parameters (the client adds the model)."""

    messages: tuple[tuple[str, str], ...]
    params: tuple[tuple[str, object], ...] = field(default=())

    @classmethod
    def make(cls, prompt: str, **params) -> "ChatRequest":
        return cls((("user", prompt),), tuple(sorted(params.items())))

    @property
    def key(self) -> str:
        return stable_hash(json.dumps([self.messages, self.params], ensure_ascii=False))


class ChatResolver:
    """Answers ChatRequests with the reply text, or None when the server refused it for good."""

    local = False

    def __init__(self, chat: ChatClient, temperature: float = 0.7, max_tokens: int = 1024):
        self.chat = chat
        self.name = chat.model
        self.stats = chat.stats
        self.params = {"temperature": temperature, "max_tokens": max_tokens}

    def call(self, req: ChatRequest) -> ChatCall:
        messages = [{"role": role, "content": content} for role, content in req.messages]
        return self.chat.chat_call(messages, {**self.params, **dict(req.params), "seed": seed_for(req.key)})

    def planned_calls(self, requests: Sequence[ChatRequest]) -> list[ChatCall]:
        return [self.call(r) for r in requests]

    def resolve(self, requests: Sequence[ChatRequest]) -> list[str | None]:
        self.stats.requests += len(requests)
        replies = self.chat.complete(self.planned_calls(requests), desc=f"summaries from {self.name}")
        return [None if isinstance(r, Refusal) else r.text.strip() for r in replies]
