"""One chat client for every task: any OpenAI-compatible server (OpenAI, vLLM, llama.cpp, Ollama).

Why it looks the way it does:
- Real runs make tens of thousands of paid calls, so every response is cached
  (`ResponseCache`) before it is used: a rerun makes zero calls, and a killed run resumes.
- Requests run concurrently under a semaphore; the openai client's own retries are off
  (`max_retries=0`) so that tenacity alone decides: exponential backoff with jitter on
  429, 5xx, timeouts, dropped connections and unreadable bodies, honouring Retry-After.
- A request that still fails after `max_attempts` is never turned into a silent reject
  (the output would then depend on the server's bad luck): the run stops with an
  `LLMUnavailableError` that says what failed and how often, after
  `max_consecutive_failures` such requests in a row or at the end of the batch.
  Everything answered so far is cached, so the same command resumes.
- The API key is read from the environment only when a call must be made, and is never
  stored, logged or put into an error message.
What a reply means (a QA to parse and pin, a summary) is the caller's business: see
`longdata.qa.llm_writer` and the tasks.
"""
from __future__ import annotations

import asyncio
import email.utils
import json
import os
import random
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Sequence

from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception,
    stop_after_attempt,
    wait_exponential,
    wait_random,
)
from tqdm.auto import tqdm

if TYPE_CHECKING:
    import openai

from ..seeding import stable_hash
from .cache import CachedResponse, ResponseCache, request_key
from .cost import count_message_tokens, count_tokens

RETRY_AFTER_CAP = 300.0  # seconds; a longer Retry-After is most likely a quota, not a blip
_FATAL_STATUS = {401: "authentication failed", 403: "permission denied", 404: "model or endpoint not found"}


class LLMUnavailableError(RuntimeError):
    """The server kept failing (or refused the credentials): what failed and how often."""


@dataclass(frozen=True)
class ChatCall:
    """One chat request: its cache key, messages and sampling parameters."""

    key: str
    messages: list[dict[str, str]]
    params: dict[str, object]

    def body(self, model: str) -> dict:
        """The JSON body of POST /v1/chat/completions (also one Batch API line's body)."""
        return {"model": model, "messages": self.messages, **self.params}


@dataclass
class LLMStats:
    """Counts for the run summary and the card.

    Transport faults and tokens count actual HTTP calls; the outcome counts (quotes,
    rejects, format repairs) count every QA produced, cached or not, so a rerun from cache
    reports the same outcome as the run that paid for it.
    """

    requests: int = 0            # QA requests handled
    api_calls: int = 0           # HTTP attempts sent, failed ones included
    api_ok: int = 0              # responses received and cached
    cache_hits: int = 0
    prompt_tokens: int = 0       # of fresh calls (API usage, or cl100k estimate)
    completion_tokens: int = 0
    usage_estimated: int = 0     # fresh calls whose usage is a tiktoken estimate
    cached_prompt_tokens: int = 0
    cached_completion_tokens: int = 0
    faults: Counter = field(default_factory=Counter)   # http_429, http_5xx, timeout, connection, bad_response
    quotes: Counter = field(default_factory=Counter)   # exact, normalized, fuzzy, rejected
    rejects: Counter = field(default_factory=Counter)  # Reject.reason
    malformed_output: int = 0    # replies that could not be read as a QA
    format_repaired: int = 0     # of those, fixed by the repair request
    cues_repaired: int = 0       # QAs kept after dropping cues that are not in the quote

    @property
    def quote_repaired(self) -> int:
        return self.quotes["normalized"] + self.quotes["fuzzy"]

    def as_dict(self) -> dict:
        d = {k: v for k, v in self.__dict__.items() if not isinstance(v, Counter)}
        d.update(faults=dict(self.faults), quotes=dict(self.quotes), rejects=dict(self.rejects),
                 quote_repaired=self.quote_repaired)
        return d

    def __str__(self) -> str:
        faults = ", ".join(f"{k}={v}" for k, v in sorted(self.faults.items())) or "none"
        rejects = ", ".join(f"{k}={v}" for k, v in sorted(self.rejects.items())) or "none"
        return (f"LLM: {self.requests} requests, {self.api_ok} calls answered ({self.api_calls} sent), "
                f"{self.cache_hits} from cache\n"
                f"tokens: {self.prompt_tokens:,} prompt + {self.completion_tokens:,} completion "
                f"({self.usage_estimated} calls estimated); from cache {self.cached_prompt_tokens:,} + "
                f"{self.cached_completion_tokens:,}\n"
                f"faults: {faults}\n"
                f"output: malformed {self.malformed_output} (repaired {self.format_repaired}); quotes exact "
                f"{self.quotes['exact']}, repaired {self.quote_repaired} (normalized {self.quotes['normalized']}, "
                f"fuzzy {self.quotes['fuzzy']}), rejected {self.quotes['rejected']}; rejects: {rejects}")


def seed_for(key: str) -> int:
    """The sampling seed of a request: stable across runs, machines and process counts."""
    return int(stable_hash(key)[:8], 16) & 0x7FFFFFFF


@dataclass(frozen=True)
class Refusal:
    """The server refused one request for good (a 4xx other than 401/403/404/408/409/429):
    the caller turns it into a counted reject."""

    detail: str


class ChatClient:
    """Chat completions with cache, retries and concurrency, for any prompt of any task.

    model: model name sent to the server. base_url: e.g. http://127.0.0.1:8000/v1 for a
    local server; None means OpenAI. api_key_env: name of the environment variable that
    holds the API key. cache_path: SQLite response cache; None keeps responses in memory
    for this object only. concurrency: requests in flight at once. timeout: seconds per
    HTTP attempt. max_attempts: attempts per request (first try included) on transient
    faults. max_consecutive_failures: requests failing all attempts in a row before the
    run stops. backoff_initial, backoff_max: seconds of the exponential backoff (jitter added).
    """

    def __init__(self, model: str, *, base_url: str | None = None, api_key_env: str = "OPENAI_API_KEY",
                 cache_path: str | Path | None = None, concurrency: int = 16, timeout: float = 120.0,
                 max_attempts: int = 6, max_consecutive_failures: int = 10,
                 backoff_initial: float = 1.0, backoff_max: float = 60.0):
        if concurrency < 1 or max_attempts < 1 or max_consecutive_failures < 1:
            raise ValueError("concurrency, max_attempts and max_consecutive_failures must be at least 1")
        self.model = model
        self.base_url = base_url
        self.api_key_env = api_key_env
        self.cache = ResponseCache(cache_path if cache_path is not None else ":memory:")
        self.concurrency = concurrency
        self.timeout = timeout
        self.max_attempts = max_attempts
        self.max_consecutive_failures = max_consecutive_failures
        self._backoff = wait_exponential(multiplier=backoff_initial, max=backoff_max) + wait_random(0, backoff_initial)
        self.stats = LLMStats()

    def chat_call(self, messages: list[dict[str, str]], params: dict[str, object]) -> ChatCall:
        return ChatCall(request_key(self.model, messages, params), messages, params)

    def uncached(self, calls: Sequence[ChatCall]) -> list[ChatCall]:
        """Calls not answered yet, each key once, in order."""
        done = self.cache.has([c.key for c in calls])
        return list({c.key: c for c in calls if c.key not in done}.values())

    def complete(self, calls: Sequence[ChatCall], desc: str = "") -> list[CachedResponse | Refusal]:
        """Responses in call order (identical calls share one); raises LLMUnavailableError
        if the server keeps failing."""
        return asyncio.run(self.acomplete(calls, desc))

    async def acomplete(self, calls: Sequence[ChatCall], desc: str = "") -> list[CachedResponse | Refusal]:
        """`complete` for callers that already run an event loop."""
        async with _Session(self) as session:
            return await session.run(calls, desc or f"calls to {self.model}")

    def close(self) -> None:
        self.cache.close()

    def client(self) -> openai.AsyncOpenAI:
        import openai  # here, not at the top: an offline build never pays its import (~0.8 s)

        api_key = os.environ.get(self.api_key_env)
        if not api_key:
            raise LLMUnavailableError(
                f"no API key: set the environment variable {self.api_key_env} "
                "(any non-empty value for a local server that needs no key)")
        return openai.AsyncOpenAI(api_key=api_key, base_url=self.base_url, max_retries=0, timeout=self.timeout)

    def retrying(self) -> AsyncRetrying:
        """The retry policy of every API call: transient faults only, capped attempts."""
        return AsyncRetrying(stop=stop_after_attempt(self.max_attempts), wait=self._wait_seconds,
                             retry=retry_if_exception(lambda e: fault_kind(e) is not None), reraise=True)

    def _wait_seconds(self, state: RetryCallState) -> float:
        """Retry-After (seconds or HTTP date, or retry-after-ms) when the server sends one,
        plus up to 10% jitter; exponential backoff with jitter otherwise."""
        after = retry_after(state.outcome.exception() if state.outcome else None)
        if after is None:
            return self._backoff(state)
        return min(after, RETRY_AFTER_CAP) * (1 + 0.1 * random.random())


def cached_response(text: str | None, usage: dict | None, messages: Sequence[dict]) -> CachedResponse:
    """What the cache keeps of a completion: API usage, or a cl100k estimate without it."""
    text = text or ""
    if usage and usage.get("prompt_tokens") is not None:
        return CachedResponse(text, int(usage["prompt_tokens"]), int(usage.get("completion_tokens") or 0))
    return CachedResponse(text, count_message_tokens(messages), count_tokens(text), usage_estimated=True)


def fault_kind(exc: BaseException) -> str | None:
    """The stats key of a transient fault, or None when retrying cannot help."""
    import openai

    if isinstance(exc, openai.APITimeoutError):
        return "timeout"
    if isinstance(exc, openai.APIConnectionError):
        return "connection"
    if isinstance(exc, openai.APIStatusError):
        if exc.status_code == 429:
            return "http_429"
        if exc.status_code >= 500:
            return "http_5xx"
        return "http_408_409" if exc.status_code in (408, 409) else None
    if isinstance(exc, (json.JSONDecodeError, openai.APIResponseValidationError, _BadResponse)):
        return "bad_response"  # a body that is not the JSON a chat completion should be
    return None


def retry_after(exc: BaseException | None) -> float | None:
    response = getattr(exc, "response", None)
    if response is None:
        return None
    headers = response.headers
    try:
        if "retry-after-ms" in headers:
            return max(0.0, float(headers["retry-after-ms"]) / 1000)
        if "retry-after" in headers:
            value = headers["retry-after"]
            try:
                return max(0.0, float(value))
            except ValueError:
                when = email.utils.parsedate_to_datetime(value)
                return max(0.0, when.timestamp() - time.time())
    except (TypeError, ValueError):
        return None
    return None


class _BadResponse(Exception):
    """A 200 response without a usable choice."""


class _Failed(Exception):
    """One request failed every attempt."""


class _Refused(Exception):
    """The server refused one request for good (becomes a `Refusal`)."""


class _Session:
    """State of one `acomplete` call: the client, the semaphore, in-flight calls, failures."""

    def __init__(self, gen: ChatClient):
        self.gen = gen
        self.stats = gen.stats
        self._client: openai.AsyncOpenAI | None = None
        self._sem = asyncio.Semaphore(gen.concurrency)
        self._inflight: dict[str, asyncio.Task] = {}
        self._consecutive = 0
        self._failures: list[str] = []

    async def __aenter__(self) -> "_Session":
        return self

    async def __aexit__(self, *exc) -> None:
        if self._client is not None:
            await self._client.close()

    async def run(self, calls: Sequence[ChatCall], desc: str) -> list[CachedResponse | Refusal]:
        tasks = [asyncio.ensure_future(self._one(c)) for c in calls]
        # a progress bar on terminals only (disable=None), so logs and tests stay clean
        progress = tqdm(total=len(tasks), desc=desc, unit="req", disable=None, leave=False)
        for t in tasks:
            t.add_done_callback(lambda _: progress.update())
        try:
            results = await asyncio.gather(*tasks)
        except BaseException:
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            raise
        finally:
            progress.close()
        if self._failures:
            raise self._error(f"{len(self._failures)} of {len(calls)} requests failed")
        return results

    async def _one(self, call: ChatCall) -> CachedResponse | Refusal | None:
        try:
            return await self._chat(call)
        except _Refused as err:
            return Refusal(str(err))
        except _Failed as err:
            self._failures.append(str(err))
            if self._consecutive >= self.gen.max_consecutive_failures:
                raise self._error(f"{self._consecutive} requests in a row failed") from None
            return None

    async def _chat(self, call: ChatCall) -> CachedResponse:
        hit = self.gen.cache.get(call.key)
        if hit is not None:
            self.stats.cache_hits += 1
            self.stats.cached_prompt_tokens += hit.prompt_tokens
            self.stats.cached_completion_tokens += hit.completion_tokens
            return hit
        task = self._inflight.get(call.key)
        if task is None:  # identical requests in one batch share one call
            task = self._inflight[call.key] = asyncio.ensure_future(self._fetch(call))
        return await task

    async def _fetch(self, call: ChatCall) -> CachedResponse:
        # The slot is held through the backoff too: retries go before new requests, so a
        # failing server exhausts a few requests (and stops the run) instead of first
        # sending every queued request once, and a 429's Retry-After slows the whole run.
        async with self._sem:
            try:
                async for attempt in self.gen.retrying():
                    with attempt:
                        resp = await self._attempt(call)
            except Exception as err:
                raise self._failure(err) from None
        self._consecutive = 0
        self.stats.api_ok += 1
        self.gen.cache.put(call.key, self.gen.model, resp)
        return resp

    async def _attempt(self, call: ChatCall) -> CachedResponse:
        from openai.types.chat import ChatCompletion

        if self._client is None:
            self._client = self.gen.client()
        self.stats.api_calls += 1
        try:
            # The README's "custom request" form: the same HTTP call as chat.completions.create,
            # minus its per-request typed transform of the body (about a millisecond of CPU
            # per call, which caps throughput at high concurrency); the body is the one the
            # Batch API sends too.
            completion = await self._client.post("/chat/completions", body=call.body(self.gen.model),
                                                 cast_to=ChatCompletion)
            if not getattr(completion, "choices", None):
                raise _BadResponse("no choices in the response")
        except Exception as err:
            kind = fault_kind(err)
            if kind is not None:
                self.stats.faults[kind] += 1
            raise
        usage = completion.usage.model_dump() if completion.usage is not None else None
        resp = cached_response(completion.choices[0].message.content, usage, call.messages)
        self.stats.usage_estimated += resp.usage_estimated
        self.stats.prompt_tokens += resp.prompt_tokens
        self.stats.completion_tokens += resp.completion_tokens
        return resp

    def _failure(self, err: Exception) -> Exception:
        """What a request that is given up on becomes: a run-stopping error for bad
        credentials or model names, a reject for a refused request, else a counted failure."""
        status = getattr(err, "status_code", None)
        if status in _FATAL_STATUS:
            return LLMUnavailableError(
                f"the LLM server refused the request with HTTP {status} ({_FATAL_STATUS[status]}); "
                f"check --llm-model, --llm-base-url and the key in ${self.gen.api_key_env}")
        if status is not None and fault_kind(err) is None:
            return _Refused(f"HTTP {status}: {self._redact(getattr(err, 'message', ''))[:300]}")
        if fault_kind(err) is None:
            return err  # not an API fault: a bug to see, not to retry
        self._consecutive += 1
        what = f"HTTP {status}" if status is not None else type(err).__name__
        return _Failed(f"{what} after {self.gen.max_attempts} attempts")

    def _redact(self, text: str) -> str:
        key = os.environ.get(self.gen.api_key_env)
        return text.replace(key, "***") if key else text

    def _error(self, what: str) -> LLMUnavailableError:
        last = Counter(self._failures).most_common(3)
        faults = ", ".join(f"{k}={v}" for k, v in sorted(self.stats.faults.items())) or "none"
        kept = (f"{self.stats.api_ok} answers are cached in {self.gen.cache.path}: run the same command "
                "again to resume") if str(self.gen.cache.path) != ":memory:" else "answers are not kept (no cache file)"
        return LLMUnavailableError(
            f"the LLM server at {self.gen.base_url or 'api.openai.com'} keeps failing: {what} "
            f"({'; '.join(f'{n}x {w}' for w, n in last)}); faults so far: {faults}. {kept}")
