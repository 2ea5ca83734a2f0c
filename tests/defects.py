"""Plausible provider defects, injected from outside: an `LlmProvider` wrapper that rewrites
the event stream, or a broken chunk reader plugged in through the provider's public
`chunk_reader` seam. Nothing here patches a private method."""

from __future__ import annotations

import asyncio
import copy
from collections.abc import AsyncIterator, Callable
from functools import cache
from pathlib import Path
from typing import Any

import httpx2
from pydantic import SecretStr

from contracts.certification import applicable_cases, certify_vendor, judge
from contracts.cli import bundled_factory
from contracts.properties import KEY, ProviderBuilder, our_provider
from contracts.runner import (
    CASE_DEADLINE_SECONDS,
    CONTRACT_KEY,
    Outcome,
    ProviderFactory,
    exercise,
    run_case,
)
from contracts.spec import Case
from providers import OpenAiCompatibleProvider, errors
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
from providers.vendors import VendorProfile, load_profile

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


# -- one fault, replayed: a provider's real run on every case, with one defect added -------------
#
# Running every case against the replica once per defect would be slow; instead our provider
# runs each vendor's cases once (cached for the session), and a defect wraps a provider that
# plays that run back. The checks still judge against the bytes the replica really served.

#: What our provider did on each of a vendor's cases: (case, the clauses checked, outcome).
HealthyRun = list[tuple[Case, list[str], Outcome]]


class Replayed:
    """What a provider did on one case, played back: stream events, then its error."""

    name = "replayed"

    def __init__(self, outcome: Outcome, capabilities: ProviderCapabilities) -> None:
        self.outcome = outcome
        self.capabilities = capabilities

    async def stream(self, request: CompletionRequest) -> AsyncIterator[StreamEvent]:
        for event in self.outcome.events:
            yield event
        if self.outcome.stream_error is not None:
            raise self.outcome.stream_error

    async def complete(self, request: CompletionRequest) -> CompletionResponse:
        if self.outcome.complete_error is not None:
            raise self.outcome.complete_error
        assert self.outcome.response is not None
        return self.outcome.response

    def count_tokens(self, request: CompletionRequest) -> TokenCount:
        raise NotImplementedError


class Broken:
    """An LlmProvider wrapper; each defect overrides one of its hooks."""

    name = "broken"

    def __init__(self, inner: LlmProvider, key: SecretStr) -> None:
        self.inner = inner
        self.key = key.get_secret_value()

    @property
    def capabilities(self) -> ProviderCapabilities:
        return self.inner.capabilities

    def count_tokens(self, request: CompletionRequest) -> TokenCount:
        return self.inner.count_tokens(request)

    def request(self, request: CompletionRequest) -> CompletionRequest:
        return request

    def events(self, events: list[StreamEvent], error: Exception | None) -> list[StreamEvent]:
        return events

    def error(self, error: Exception) -> Exception:
        return error

    def response(self, response: CompletionResponse) -> CompletionResponse:
        return response

    async def stream(self, request: CompletionRequest) -> AsyncIterator[StreamEvent]:
        events: list[StreamEvent] = []
        error: Exception | None = None
        try:
            async for event in self.inner.stream(self.request(request)):
                events.append(event)
        except Exception as exc:
            error = exc
        for event in self.events(events, error):
            yield event
        if error is not None:
            raise self.error(error)

    async def complete(self, request: CompletionRequest) -> CompletionResponse:
        try:
            response = await self.inner.complete(self.request(request))
        except Exception as exc:
            raise self.error(exc) from None
        return self.response(response)


def retyped(error: Exception, kind: type[errors.LlmError], **changes: Any) -> Exception:
    """The same error, as `kind` and with `changes`; everything else kept."""
    if not isinstance(error, errors.LlmError):
        return error
    message = changes.pop("message", error.message)
    fields = {
        "provider": error.provider,
        "status_code": error.status_code,
        "request_id": error.request_id,
        "retryable": error.retryable,
        "vendor_code": error.vendor_code,
    }
    if issubclass(kind, errors.RateLimitError):
        fields["retry_after"] = getattr(error, "retry_after", None)
    return kind(message, **{**fields, **changes})


def replaced(events: list[StreamEvent], kind: type[Any], change: Callable[[Any], Any]) -> list[Any]:
    return [change(event) if isinstance(event, kind) else event for event in events]


@cache
def healthy_run(vendor: str) -> HealthyRun:
    """Every case our provider runs against the vendor's replica, with what it did."""
    profile = load_profile(vendor)
    factory = bundled_factory(profile)

    async def run_all() -> HealthyRun:
        return [
            (case, clauses, await run_case(case, profile, factory))
            for case, clauses in applicable_cases(profile, profile.capabilities)
        ]

    return asyncio.run(run_all())


def failing_clauses(defect: type[Broken], vendor: str = "glm") -> set[str]:
    """The clauses that fail on any of the vendor's cases once `defect` wraps our run."""
    profile = load_profile(vendor)

    async def replay(case: Case, base: Outcome) -> Outcome:
        outcome = Outcome(exchanges=base.exchanges, cassette_text=base.cassette_text)
        provider = defect(Replayed(base, profile.capabilities), SecretStr(CONTRACT_KEY))
        await exercise(provider, case, outcome, live=False, deadline=CASE_DEADLINE_SECONDS)
        return outcome

    run = healthy_run(vendor)

    async def replay_all() -> set[str]:
        failing = set()
        for case, clauses, base in run:
            outcome = await replay(case, base)
            failing |= {c for c in clauses if judge(case, c, profile, outcome)[1] is not None}
        return failing

    return asyncio.run(replay_all())


def failing_on_the_replica(factory: ProviderFactory, vendor: str = "glm") -> set[str]:
    """The clauses that fail when the provider `factory` builds runs against the vendor's
    live replica: for a defect in what is sent or in reading the bytes, which a replay of our
    provider's run cannot show."""
    return _failing(factory, vendor, mode="replica")


def record_from_the_replica(factory: ProviderFactory, vendor: str, root: Path) -> None:
    """Cassettes of the provider `factory` builds, recorded from the vendor's replica into
    `root`."""
    _failing(factory, vendor, mode="record-replica", cassette_root=root)


def failing_on_replay(factory: ProviderFactory, vendor: str, root: Path) -> set[str]:
    """The clauses that fail when the provider `factory` builds replays the cassettes in
    `root` (the replica is gone by then: only the cassettes are played)."""
    return _failing(factory, vendor, mode="replay", cassette_root=root)


def _failing(factory: ProviderFactory, vendor: str, **how: Any) -> set[str]:
    result = asyncio.run(certify_vendor(load_profile(vendor), factory, **how))
    assert not result.problems, result.problems
    return {c for c, r in result.clauses.items() if r.verdict == "fail"}


def wrapping_ours(defect: type[Broken], vendor: str = "glm") -> ProviderFactory:
    """A factory for our provider for `vendor`, wrapped in `defect`."""
    inner = bundled_factory(load_profile(vendor))

    def factory(base_url: str, key: SecretStr) -> LlmProvider:
        return defect(inner(base_url, key), key)

    return factory
