"""QA generators: extractive (offline, no model) and OpenAI-compatible chat models."""
from .base import QA, Generator, QARequest, Reject

__all__ = ["QA", "Generator", "QARequest", "Reject"]
