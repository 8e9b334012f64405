"""OpenAI Batch API mode: the first call of every uncached request at half price.

The batch writes its answers into the generator's response cache, so the normal
`make_qas` run that follows reads them from there (only format repairs, if any, and
lines the batch failed are then sent live). Submitted batch ids are kept in the cache
file, so an interrupted run polls the same batches again instead of paying twice.
"""
from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass
from typing import Awaitable, Callable, Sequence, TypeVar

import openai

from .client import ChatCall, ChatClient, LLMUnavailableError, cached_response

ENDPOINT = "/v1/chat/completions"
MAX_LINES = 50_000               # the Batch API's limit per input file
MAX_BYTES = 190 * 1024 * 1024    # under its 200 MB file limit
_PENDING = "pending_batches"     # cache meta entry: JSON list of submitted batch ids
_DONE = {"completed", "failed", "expired", "cancelled"}
T = TypeVar("T")


@dataclass
class BatchReport:
    """What the Batch API did: lines submitted, answered into the cache, failed."""

    batch_ids: list[str]
    submitted: int = 0
    cached: int = 0      # answers written to the cache
    failed: int = 0      # lines without an answer (sent live by the next normal run)
    already_cached: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0


def run_batch(gen: ChatClient, calls: Sequence[ChatCall], *, poll_interval: float = 30.0,
              max_wait: float = 25 * 3600.0) -> BatchReport:
    """Submit, poll (every `poll_interval` s, at most `max_wait` s) and cache; see module doc."""
    return asyncio.run(arun_batch(gen, calls, poll_interval=poll_interval, max_wait=max_wait))


async def arun_batch(gen: ChatClient, calls: Sequence[ChatCall], *, poll_interval: float = 30.0,
                     max_wait: float = 25 * 3600.0) -> BatchReport:
    by_key = {c.key: c for c in calls}
    async with gen.client() as client:
        pending = json.loads(gen.cache.get_meta(_PENDING) or "[]")
        todo = [] if pending else gen.uncached(calls)
        report = BatchReport(list(pending), already_cached=len(by_key) - len(todo))
        for chunk in _chunks(todo, gen.model):
            file = await _api(gen, lambda: client.files.create(
                file=("longdata-batch.jsonl", chunk, "application/jsonl"), purpose="batch"))
            batch = await _api(gen, lambda: client.batches.create(
                input_file_id=file.id, endpoint=ENDPOINT, completion_window="24h"))
            report.batch_ids.append(batch.id)
            report.submitted += chunk.count(b"\n")
            gen.cache.set_meta(_PENDING, json.dumps(report.batch_ids))
        deadline = time.monotonic() + max_wait
        for batch_id in report.batch_ids:
            batch = await _poll(gen, client, batch_id, poll_interval, deadline)
            await _ingest(gen, client, batch, by_key, report)
        gen.cache.set_meta(_PENDING, None)
    return report


def _chunks(calls: Sequence[ChatCall], model: str) -> list[bytes]:
    """JSONL input files within the API's limits; custom_id is the cache key."""
    chunks: list[bytes] = []
    lines: list[bytes] = []
    size = 0
    for c in calls:
        line = json.dumps({"custom_id": c.key, "method": "POST", "url": ENDPOINT, "body": c.body(model)},
                          ensure_ascii=False).encode("utf-8") + b"\n"
        if lines and (len(lines) >= MAX_LINES or size + len(line) > MAX_BYTES):
            chunks.append(b"".join(lines))
            lines, size = [], 0
        lines.append(line)
        size += len(line)
    if lines:
        chunks.append(b"".join(lines))
    return chunks


async def _api(gen: ChatClient, make_call: Callable[[], Awaitable[T]]) -> T:
    """One control call (upload, create, poll, download) under the generator's retry policy."""
    async for attempt in gen.retrying():
        with attempt:
            return await make_call()
    raise AssertionError("unreachable: the retry policy re-raises the last error")


async def _poll(gen: ChatClient, client: openai.AsyncOpenAI, batch_id: str, interval: float,
                deadline: float):
    while True:
        batch = await _api(gen, lambda: client.batches.retrieve(batch_id))
        if batch.status in _DONE:
            return batch
        if time.monotonic() + interval > deadline:
            raise LLMUnavailableError(
                f"batch {batch_id} is still {batch.status} after the wait limit; run the same command "
                "again later to pick up its results (the batch id is kept in the cache file)")
        await asyncio.sleep(interval)


async def _ingest(gen: ChatClient, client: openai.AsyncOpenAI, batch, by_key: dict[str, ChatCall],
                  report: BatchReport) -> None:
    """Write every answered line to the cache; count the others (they are sent live later)."""
    if batch.status == "failed" and not batch.output_file_id:
        errors = "; ".join(e.message or "" for e in (batch.errors.data or [])) if batch.errors else ""
        raise LLMUnavailableError(f"batch {batch.id} failed: {errors or 'no reason given'}")
    answered = 0
    if batch.output_file_id:
        content = await _api(gen, lambda: client.files.content(batch.output_file_id))
        for raw in content.text.splitlines():
            line = json.loads(raw) if raw.strip() else {}
            response = line.get("response") or {}
            body = response.get("body") or {}
            if response.get("status_code") != 200 or not body.get("choices"):
                continue
            call = by_key.get(line["custom_id"])
            resp = cached_response(body["choices"][0]["message"].get("content"), body.get("usage"),
                                   call.messages if call else [])
            gen.cache.put(line["custom_id"], gen.model, resp)
            answered += 1
            report.prompt_tokens += resp.prompt_tokens
            report.completion_tokens += resp.completion_tokens
    report.cached += answered
    total = batch.request_counts.total if batch.request_counts else answered
    report.failed += max(0, total - answered)
