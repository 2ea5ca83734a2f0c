"""Realistic defects that only the bytes on the wire can show, each modelled on a linked bug
report: a small independent provider (`tiny_provider.TinyProvider`) or our provider with a
broken chunk reader plugged in through its public `chunk_reader` seam, run against the
vendor's replica. `clause` is the one clause each must fail."""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator
from typing import Any, ClassVar

import httpx2
from defects import Broken, wrapping_ours
from pydantic import SecretStr
from tiny_provider import TinyProvider

from contracts.cli import bundled_factory
from providers import OpenAiCompatibleProvider, errors
from providers.openai_compat.chunks import ChatChunkReader
from providers.types import CompletionRequest, CompletionResponse, LlmProvider, StreamEvent
from providers.vendors import load_profile


class WireDefect:
    """What each wire defect declares: the clause it breaks, the vendor whose replica shows
    it, how to build the broken provider, and the same provider without the defect."""

    clause: ClassVar[str]
    vendor: ClassVar[str]

    @classmethod
    def healthy(cls, base_url: str, key: SecretStr) -> LlmProvider:
        return bundled_factory(load_profile(cls.vendor))(base_url, key)

    @classmethod
    def build(cls, base_url: str, key: SecretStr) -> LlmProvider:
        raise NotImplementedError


class _TinyDefect(TinyProvider, WireDefect):
    """The small independent provider, with one defect; without it, plain TinyProvider."""

    vendor = "openai"

    @classmethod
    def build(cls, base_url: str, key: SecretStr) -> LlmProvider:
        return cls(base_url, key)

    @classmethod
    def healthy(cls, base_url: str, key: SecretStr) -> LlmProvider:
        return TinyProvider(base_url, key)


class DecodesEachReadOnItsOwn(_TinyDefect):
    """Each network read is decoded as UTF-8 by itself, so a character split across two reads
    turns into replacement characters. From
    https://github.com/sourcegraph/sourcegraph-public-snapshot/pull/50718."""

    clause = "text.fidelity"
    vendor = "openai"

    async def _lines(self, response: httpx2.Response) -> AsyncIterator[str]:  # type: ignore[override]
        pending = ""
        async for read in response.aiter_bytes():
            pending += read.decode("utf-8", "replace")
            *lines, pending = pending.split("\n")
            for line in lines:
                yield line
        if pending:
            yield pending


class NeverAsksForStreamUsage(_TinyDefect):
    """Streams without `stream_options.include_usage`, so a vendor that reports usage only
    when asked reports none. From https://github.com/NorthlandPositronics/Cogtrix/issues/2376."""

    clause = "request.shape"
    vendor = "openai"

    def _body(self, request: CompletionRequest, stream: bool) -> dict[str, Any]:
        body = super()._body(request, stream)
        body.pop("stream_options", None)
        return body


class _ReaderDefect(WireDefect):
    reader: ClassVar[type[ChatChunkReader]]

    @classmethod
    def build(cls, base_url: str, key: SecretStr) -> LlmProvider:
        provider = type(cls.__name__, (OpenAiCompatibleProvider,), {"chunk_reader": cls.reader})
        return provider.from_vendor(cls.vendor, api_key=key, base_url=base_url, max_retries=0)


class _SumsUsage(ChatChunkReader):
    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.totals = {"prompt_tokens": 0, "completion_tokens": 0}

    def feed(self, chunk: Any) -> list[StreamEvent]:
        usage = chunk.get("usage") if isinstance(chunk, dict) else None
        if isinstance(usage, dict):
            for name in self.totals:
                self.totals[name] += usage.get(name) or 0
            chunk = {**chunk, "usage": {**usage, **self.totals}}
        return super().feed(chunk)


class SumsRepeatedUsage(_ReaderDefect):
    """Usage reports are added up, though each is the running total (Gemini sends one on every
    chunk). From https://github.com/InsForge/InsForge/issues/2015."""

    clause = "usage.reported"
    vendor = "gemini"
    reader = _SumsUsage


class _IgnoresFinishChunkContent(ChatChunkReader):
    def feed(self, chunk: Any) -> list[StreamEvent]:
        chunk = copy.deepcopy(chunk)
        for choice in (chunk.get("choices") or []) if isinstance(chunk, dict) else []:
            if choice.get("finish_reason") and isinstance(choice.get("delta"), dict):
                choice["delta"].pop("content", None)
        return super().feed(chunk)


class IgnoresTextOnTheFinishChunk(_ReaderDefect):
    """The chunk that carries the finish reason is taken to be empty, so the text it carries
    is lost. From https://github.com/vllm-project/vllm/pull/36944."""

    clause = "text.fidelity"
    vendor = "vllm"
    reader = _IgnoresFinishChunkContent


class _WrapsOurs(Broken, WireDefect):
    """A wrapper around our provider for the vendor, run against the replica."""

    @classmethod
    def build(cls, base_url: str, key: SecretStr) -> LlmProvider:
        return wrapping_ours(cls, cls.vendor)(base_url, key)


class _Retries(_WrapsOurs):
    """Calls the wrapped provider again, right away, while it raises `retried`."""

    retried: ClassVar[type[Exception]]
    attempts: ClassVar[int]

    async def stream(self, request: CompletionRequest) -> AsyncIterator[StreamEvent]:
        for attempt in range(self.attempts):
            started = False
            try:
                async for event in self.inner.stream(request):
                    started = True
                    yield event
                return
            except self.retried:
                if started or attempt + 1 == self.attempts:
                    raise

    async def complete(self, request: CompletionRequest) -> CompletionResponse:
        for _ in range(self.attempts - 1):
            try:
                return await self.inner.complete(request)
            except self.retried:
                continue
        return await self.inner.complete(request)


class RetriesARejectedKey(_Retries):
    """A 401 is retried as if it were transient. From
    https://github.com/Gitlawb/openclaude/issues/1356 ("Retrying in 1 second… (attempt
    4/10)" on an invalid key)."""

    clause = "errors.authentication"
    vendor = "openai"
    retried = errors.AuthenticationError
    attempts = 4


class RetriesBeforeRetryAfter(_Retries):
    """A 429 is retried at once, whatever Retry-After said. From
    https://github.com/Lore-Hex/QuillCode/issues/852 (the backoff ignores Retry-After)."""

    clause = "errors.rate-limit"
    vendor = "openai"
    retried = errors.RateLimitError
    attempts = 2


WIRE_DEFECTS: list[type[WireDefect]] = [
    RetriesARejectedKey,
    RetriesBeforeRetryAfter,
    DecodesEachReadOnItsOwn,
    NeverAsksForStreamUsage,
    SumsRepeatedUsage,
    IgnoresTextOnTheFinishChunk,
]
