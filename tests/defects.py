"""Plausible provider defects, injected from outside: an `LlmProvider` wrapper that rewrites
the event stream, or a broken chunk reader plugged in through the provider's public
`chunk_reader` seam. Nothing here patches a private method."""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx2

from contracts.properties import KEY, ProviderBuilder, our_provider
from providers import OpenAiCompatibleProvider
from providers.errors import StreamTruncatedError
from providers.openai_compat.chunks import ChatChunkReader
from providers.types import (
    CompletionRequest,
    CompletionResponse,
    Done,
    LlmProvider,
    MessageDelta,
    ProviderCapabilities,
    StopReason,
    StreamEvent,
    TextDelta,
    TokenCount,
    Usage,
)
from providers.vendors import VendorProfile

Rewrite = Callable[[AsyncIterator[StreamEvent]], AsyncIterator[StreamEvent]]


class RewrittenStream:
    """An `LlmProvider` whose `stream()` is the wrapped provider's, passed through `rewrite`."""

    def __init__(self, inner: LlmProvider, rewrite: Rewrite) -> None:
        self._inner = inner
        self._rewrite = rewrite

    @property
    def name(self) -> str:
        return self._inner.name

    @property
    def capabilities(self) -> ProviderCapabilities:
        return self._inner.capabilities

    async def complete(self, request: CompletionRequest) -> CompletionResponse:
        return await self._inner.complete(request)

    def stream(self, request: CompletionRequest) -> AsyncIterator[StreamEvent]:
        return self._rewrite(self._inner.stream(request))

    def count_tokens(self, request: CompletionRequest) -> TokenCount:
        return self._inner.count_tokens(request)


# -- stream rewrites ------------------------------------------------------------------------------


async def drop_last_text_fragment(events: AsyncIterator[StreamEvent]) -> AsyncIterator[StreamEvent]:
    """Each text fragment is sent one fragment late, so the last one is lost."""
    pending: TextDelta | None = None
    async for event in events:
        if isinstance(event, TextDelta):
            if pending is not None:
                yield pending.model_copy(update={"index": event.index})
            pending = event
        else:
            yield event


async def usage_twice(events: AsyncIterator[StreamEvent]) -> AsyncIterator[StreamEvent]:
    async for event in events:
        if isinstance(event, Done):
            yield Usage(input_tokens=1, output_tokens=1)
        yield event


async def usage_before_message_delta(
    events: AsyncIterator[StreamEvent],
) -> AsyncIterator[StreamEvent]:
    held: MessageDelta | None = None
    async for event in events:
        if isinstance(event, MessageDelta):
            held = event
            continue
        yield event
        if isinstance(event, Usage) and held is not None:
            yield held


async def length_as_end_turn(events: AsyncIterator[StreamEvent]) -> AsyncIterator[StreamEvent]:
    async for event in events:
        if isinstance(event, MessageDelta) and event.raw_stop_reason == "length":
            yield MessageDelta(stop_reason=StopReason.END_TURN, raw_stop_reason="length")
        else:
            yield event


def unknown_finish_as_end_turn(profile: VendorProfile) -> Rewrite:
    """A finish value the profile does not know becomes end_turn, its raw value dropped."""
    known = profile.stop_mapping()

    async def rewrite(events: AsyncIterator[StreamEvent]) -> AsyncIterator[StreamEvent]:
        async for event in events:
            if isinstance(event, MessageDelta) and event.raw_stop_reason not in known:
                yield MessageDelta(stop_reason=StopReason.END_TURN, raw_stop_reason="")
            else:
                yield event

    return rewrite


async def done_after_truncation(events: AsyncIterator[StreamEvent]) -> AsyncIterator[StreamEvent]:
    """A cut stream is passed off as a finished one."""
    try:
        async for event in events:
            yield event
    except StreamTruncatedError:
        yield MessageDelta(stop_reason=StopReason.END_TURN, raw_stop_reason="stop")
        yield Usage(input_tokens=0, output_tokens=0, estimated=True)
        yield Done()


# -- a broken chunk reader ------------------------------------------------------------------------


class JoinsToolCallsReader(ChatChunkReader):
    """Reads every indexed tool-call fragment as call 0, so parallel calls run together."""

    def feed(self, chunk: Any) -> list[StreamEvent]:
        chunk = copy.deepcopy(chunk)
        for choice in chunk.get("choices") or ():
            for fragment in (choice.get("delta") or {}).get("tool_calls") or ():
                if isinstance(fragment.get("index"), int) and fragment["index"] > 0:
                    fragment["index"] = 0
                    fragment.pop("id", None)
        return super().feed(chunk)


class JoinsToolCallsProvider(OpenAiCompatibleProvider):
    chunk_reader = JoinsToolCallsReader


# -- builders for the property machinery ----------------------------------------------------------


def rewritten_per_profile(make: Callable[[VendorProfile], Rewrite]) -> ProviderBuilder:
    """Our provider, its stream passed through the rewrite made for the drawn profile."""

    def build(profile: VendorProfile, client: httpx2.AsyncClient) -> LlmProvider:
        return RewrittenStream(our_provider(profile, client), make(profile))

    return build


def rewritten(rewrite: Rewrite) -> ProviderBuilder:
    return rewritten_per_profile(lambda _profile: rewrite)


def joins_tool_calls(profile: VendorProfile, client: httpx2.AsyncClient) -> LlmProvider:
    return JoinsToolCallsProvider.from_vendor(
        profile.name, api_key=KEY, http_client=client, max_retries=0
    )
