"""The property suite's machinery: feed drawn vendor bytes through the real provider, then
state what must hold. Each `prop_*` asserts one property, so a failure names it.

The provider is `OpenAiCompatibleProvider.from_vendor(...)` with an in-memory httpx2
transport: the SDK, our SSE decoder, the chunk reader and the block assembler all run, only
the socket is replaced. A `ProviderBuilder` may put another provider (or a wrapper) in its place.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx2

from contracts.grammar import violations
from contracts.spec import STOP_FAILURES, expected_stop
from contracts.strategies import VendorStream
from contracts.transport import replay_transport, sse_response
from providers import errors
from providers.openai_compat import OpenAiCompatibleProvider
from providers.types import (
    CompletionRequest,
    CompletionResponse,
    Done,
    LlmProvider,
    MessageDelta,
    StopReason,
    StreamEvent,
    TextDelta,
    ThinkingDelta,
    ToolUseEnd,
    Usage,
    UserMessage,
)
from providers.vendors import VendorProfile

REQUEST = CompletionRequest(messages=(UserMessage(content="property test"),))
KEY = "sk-property-test-key-000000"

#: Builds the provider under test for a profile, sending through the given client.
ProviderBuilder = Callable[[VendorProfile, httpx2.AsyncClient], LlmProvider]


@dataclass
class StreamRun:
    events: list[StreamEvent]
    error: Exception | None

    def of(self, kind: type[Any]) -> list[Any]:
        return [event for event in self.events if isinstance(event, kind)]


def our_provider(profile: VendorProfile, client: httpx2.AsyncClient) -> LlmProvider:
    return OpenAiCompatibleProvider.from_vendor(
        profile.name, api_key=KEY, http_client=client, max_retries=0
    )


def _provider(
    profile: VendorProfile, response: httpx2.Response, build: ProviderBuilder
) -> LlmProvider:
    return build(profile, httpx2.AsyncClient(transport=replay_transport(response)))


def run_stream(
    profile: VendorProfile, pieces: list[bytes], build: ProviderBuilder = our_provider
) -> StreamRun:
    async def consume() -> StreamRun:
        run = StreamRun([], None)
        try:
            async for event in _provider(profile, sse_response(pieces), build).stream(REQUEST):
                run.events.append(event)
        except errors.LlmError as exc:
            run.error = exc
        return run

    return asyncio.run(consume())


def completion_body(profile: VendorProfile, stream: VendorStream) -> dict[str, Any]:
    """The non-streamed response carrying the same answer as `stream`."""
    message: dict[str, Any] = {"role": "assistant", "content": stream.text or None}
    if stream.thinking:
        message[profile.wire.reasoning_fields[0]] = stream.thinking
    if stream.tool_calls:
        message["tool_calls"] = [
            {"id": c.id, "type": "function", "function": {"name": c.name, "arguments": c.arguments}}
            for c in stream.tool_calls
        ]
    body: dict[str, Any] = {
        "object": "chat.completion",
        "choices": [{"index": 0, "message": message, "finish_reason": stream.finish}],
    }
    if stream.last_usage:
        body["usage"] = stream.last_usage
    return body


def run_complete(
    profile: VendorProfile, body: object, build: ProviderBuilder = our_provider
) -> tuple[CompletionResponse | None, Exception | None]:
    """`complete()` answered with `body` as the JSON response (NaN and infinities kept)."""
    response = httpx2.Response(
        200, content=json.dumps(body).encode(), headers={"content-type": "application/json"}
    )

    async def call() -> tuple[CompletionResponse | None, Exception | None]:
        try:
            return await _provider(profile, response, build).complete(REQUEST), None
        except errors.LlmError as exc:
            return None, exc

    return asyncio.run(call())


def stream_error_expected(profile: VendorProfile, stream: VendorStream) -> type[Exception] | None:
    mapped = expected_stop(profile, stream.finish, tool_calls=bool(stream.tool_calls))
    return STOP_FAILURES.get(str(mapped))


# -- properties of a finished stream ----------------------------------------------------------


def prop_outcome(profile: VendorProfile, stream: VendorStream, run: StreamRun) -> None:
    """A finish value the profile maps to an error raises it; anything else ends normally."""
    expected = stream_error_expected(profile, stream)
    if expected is None:
        assert run.error is None, f"unexpected {run.error!r}"
    else:
        assert type(run.error) is expected, f"{stream.finish!r} gave {run.error!r}"
        assert not run.of(Done), "Done after a failing finish value"


def prop_grammar(run: StreamRun) -> None:
    found = violations(run.events, raised=run.error is not None)
    assert not found, "; ".join(map(str, found))


def prop_text(stream: VendorStream, run: StreamRun) -> None:
    assert "".join(e.text for e in run.of(TextDelta)) == stream.text
    assert "".join(e.text for e in run.of(ThinkingDelta)) == stream.thinking


def prop_tool_input(stream: VendorStream, run: StreamRun) -> None:
    got = [(e.id, e.name, e.input) for e in run.of(ToolUseEnd)]
    sent = [(c.id, c.name, json.loads(c.arguments)) for c in stream.tool_calls]
    assert got == sent


def prop_stop_reason(profile: VendorProfile, stream: VendorStream, run: StreamRun) -> None:
    expected = expected_stop(profile, stream.finish, tool_calls=bool(stream.tool_calls))
    assert run.of(MessageDelta) == [
        MessageDelta(stop_reason=StopReason(str(expected)), raw_stop_reason=stream.finish)
    ]


def prop_usage(stream: VendorStream, run: StreamRun) -> None:
    usages = run.of(Usage)
    assert len(usages) == 1, f"{len(usages)} Usage events"
    report = stream.last_usage
    if report is None:
        assert usages[0].estimated
    else:
        assert (usages[0].input_tokens, usages[0].output_tokens, usages[0].estimated) == (
            report["prompt_tokens"],
            report["completion_tokens"],
            False,
        )


def prop_complete_agrees(profile: VendorProfile, stream: VendorStream, run: StreamRun) -> None:
    response, error = run_complete(profile, completion_body(profile, stream))
    if run.error is not None:
        assert type(error) is type(run.error)
        return
    assert response is not None, f"complete() raised {error!r}"
    assert response.text == "".join(e.text for e in run.of(TextDelta))
    assert [(c.id, c.name, c.input) for c in response.tool_calls] == [
        (e.id, e.name, e.input) for e in run.of(ToolUseEnd)
    ]
    assert [response.stop_reason] == [d.stop_reason for d in run.of(MessageDelta)]
    assert [response.usage] == run.of(Usage)


# -- properties of a broken stream ------------------------------------------------------------


def prop_truncated(run: StreamRun) -> None:
    assert isinstance(run.error, errors.StreamTruncatedError), f"got {run.error!r}"
    assert not run.of(Done)
    prop_grammar(run)


def prop_fails_with(run: StreamRun, expected: type[Exception]) -> None:
    assert isinstance(run.error, expected), f"expected {expected.__name__}, got {run.error!r}"
    assert not run.of(Done)
    prop_grammar(run)
