"""QA writing, shared by multidoc and paper-qa: the offline extractive writer, the LLM
writer on top of the chat client, reply parsing and quote pinning."""
from .base import QA, Generator, QARequest, Reject

__all__ = ["QA", "Generator", "QARequest", "Reject"]
