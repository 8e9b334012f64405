"""The LLM flags every task shares (one dataclass, the CLI derived from it)."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..config import option
from .client import ChatClient


@dataclass
class EndpointOptions:
    """Where the model is and how to talk to it: what `longdata eval run` and `eval judge`
    need too (they set their own sampling)."""

    llm_model: str | None = option(None, "model name, e.g. gpt-4o-mini or the name a vLLM server serves")
    llm_base_url: str | None = option(None, "e.g. http://127.0.0.1:8000/v1 (default: OpenAI)")
    llm_api_key_env: str = option("OPENAI_API_KEY", "environment variable that holds the API key")
    llm_concurrency: int = option(16, "requests in flight at once")
    llm_timeout: float = option(120.0, "seconds per request attempt")
    llm_max_attempts: int = option(6, "attempts per request on 429/5xx/timeouts")
    llm_backoff: float = option(1.0, "first retry wait in seconds (doubles, jittered)")
    llm_cache: str | None = option(None, "SQLite response cache (default: OUT/llm-cache.sqlite)")

    def client(self, out: Path) -> ChatClient:
        """The one chat client of a run (every task shares its cache)."""
        return ChatClient(self.llm_model or "", base_url=self.llm_base_url, api_key_env=self.llm_api_key_env,
                          cache_path=self.llm_cache or Path(out) / "llm-cache.sqlite",
                          concurrency=self.llm_concurrency, timeout=self.llm_timeout,
                          max_attempts=self.llm_max_attempts, backoff_initial=self.llm_backoff)


@dataclass
class LLMOptions(EndpointOptions):
    """Any OpenAI-compatible server. None of these decide which samples are made, except the
    model and sampling parameters (recorded in the manifest by the generator's name)."""

    generator: str | None = option(None, "who writes QAs and summaries: openai when --llm-model is given, "
                                         "else the offline path", choices=("extractive", "openai"))
    llm_temperature: float = option(0.7, "sampling temperature")
    llm_max_tokens: int = option(1024, "completion tokens per reply at most")
    llm_batch: bool = option(False, "send uncached first calls through the Batch API first (half price)")
    batch_poll: float = option(30.0, "seconds between Batch API status checks")
    dry_run: bool = option(False, "print planned calls, tokens and cost; call nothing")
    price_in: float = option(0.15, "USD per 1M prompt tokens, for --dry-run")
    price_out: float = option(0.60, "USD per 1M completion tokens, for --dry-run")

    def __post_init__(self) -> None:
        self.generator = self.generator or ("openai" if self.llm_model else "extractive")
        if self.generator == "openai" and not self.llm_model:
            raise ValueError("--generator openai needs --llm-model")
        if (self.dry_run or self.llm_batch) and not self.llm_model:
            raise ValueError("--dry-run and --llm-batch plan LLM calls: give --llm-model")

    @property
    def uses_llm(self) -> bool:
        return self.generator == "openai"
