"""Token estimates and the dry-run cost plan.

Estimates use tiktoken's cl100k_base (offline): it is what OpenAI bills for most chat
models, and a fair stand-in for servers that report no usage.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Sequence

from ..tokens import get_counter

# Chat formatting overhead per message and per reply, as OpenAI documents for its models.
TOKENS_PER_MESSAGE = 4
TOKENS_PER_REPLY = 3
# A QA reply (question, quote of one to three sentences, short answer, JSON keys) rarely
# exceeds this; the plan also gives the bound from max_tokens.
EXPECTED_COMPLETION_TOKENS = 300


def count_tokens(text: str) -> int:
    return get_counter("cl100k").count(text)


def count_message_tokens(messages: Sequence[Mapping[str, str]]) -> int:
    """Prompt tokens of a chat request as OpenAI counts them (cl100k estimate)."""
    return sum(TOKENS_PER_MESSAGE + count_tokens(m["content"]) for m in messages) + TOKENS_PER_REPLY


@dataclass(frozen=True)
class CostPlan:
    """Calls still to make and what they should cost (prices in USD per 1M tokens)."""

    calls: int
    cached: int
    prompt_tokens: int
    completion_tokens: int      # expected
    completion_tokens_max: int  # if every reply used max_tokens
    price_in: float
    price_out: float
    batch: bool = False         # the Batch API bills half

    def _cost(self, completion_tokens: int) -> float:
        factor = 0.5 if self.batch else 1.0
        return factor * (self.prompt_tokens * self.price_in + completion_tokens * self.price_out) / 1e6

    @property
    def cost(self) -> float:
        return self._cost(self.completion_tokens)

    @property
    def cost_max(self) -> float:
        return self._cost(self.completion_tokens_max)

    def as_dict(self) -> dict:
        return {"calls": self.calls, "cached": self.cached, "prompt_tokens": self.prompt_tokens,
                "completion_tokens": self.completion_tokens, "completion_tokens_max": self.completion_tokens_max,
                "price_in": self.price_in, "price_out": self.price_out, "batch": self.batch,
                "cost_usd": round(self.cost, 4), "cost_usd_max": round(self.cost_max, 4)}

    def __str__(self) -> str:
        mode = " (Batch API, half price)" if self.batch else ""
        return (f"planned LLM calls: {self.calls} ({self.cached} already cached){mode}\n"
                f"prompt tokens: {self.prompt_tokens:,}; completion tokens: ~{self.completion_tokens:,} "
                f"(at most {self.completion_tokens_max:,})\n"
                f"estimated cost: ${self.cost:,.2f} (at most ${self.cost_max:,.2f}) at "
                f"${self.price_in:g} in / ${self.price_out:g} out per 1M tokens\n"
                "format repairs (rare) are not included")


def plan_cost(chat, calls: Sequence, max_tokens: int, price_in: float, price_out: float, batch: bool = False,
              expected_completion_tokens: int = EXPECTED_COMPLETION_TOKENS) -> CostPlan:
    """Plan the given first calls without sending anything (reads `chat`'s cache only)."""
    todo = chat.uncached(calls)
    unique = len({c.key for c in calls})
    per_reply = min(expected_completion_tokens, max_tokens)
    return CostPlan(
        calls=len(todo), cached=unique - len(todo),
        prompt_tokens=sum(count_message_tokens(c.messages) for c in todo),
        completion_tokens=per_reply * len(todo), completion_tokens_max=max_tokens * len(todo),
        price_in=price_in, price_out=price_out, batch=batch)
