"""The shapes every QA generator shares."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol, Sequence

from ..documents import Document


@dataclass(frozen=True)
class QA:
    """A question about one gold document and an answer that quotes it first.

    `quote` is a verbatim slice of the gold document's text; `answer` is what follows
    the quote in the assistant turn.
    """

    question: str
    quote: str
    answer: str
    doc_id: str
    generator: str = "extractive"  # who wrote it: `extractive` or the model's name
    cues: tuple[str, ...] = ()     # terms of the quote that single out its passage (all occur in it)


@dataclass(frozen=True)
class Reject:
    """Why no QA came out for a document (counted by `reason` in summaries and cards)."""

    doc_id: str
    reason: str
    detail: str = ""


@dataclass(frozen=True)
class QARequest:
    """One gold document to write a QA for; `key` seeds every random choice about it."""

    doc: Document
    key: str
    lang: str
    # (id, text as `text.fold` gives it) of the documents the question must tell the gold
    # one from: the extractive writer picks cues few of them hold
    context: tuple[tuple[str, str], ...] = field(default=(), compare=False, repr=False)


class Generator(Protocol):
    """Extractive (offline) or an OpenAI-compatible model: a `Resolver` of QA requests.
    `make_qas` takes a batch so a model backend can run the requests concurrently; results
    come back in request order."""

    name: str
    local: bool

    def make_qas(self, requests: Sequence[QARequest]) -> list[QA | Reject]: ...

    def resolve(self, requests: Sequence[QARequest]) -> list[QA | Reject]: ...
