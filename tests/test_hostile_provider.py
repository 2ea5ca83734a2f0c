"""Hostile answers the providers must end typed: a rate limit whose wait outlasts the deadline
(given up at once, with its status and `retry_after`), Anthropic's `event: error` with no
`type` in its data, and two tool blocks sharing one index. Through a real loopback server."""

from __future__ import annotations

import json

import pytest
from support import FAKE_KEY, ask, collect_until_error
from wires import WIRES, Wire

from contracts.replica import ReplicaServer, Script, ScriptedResponse
from providers import (
    AnthropicProvider,
    InvalidRequestError,
    MalformedResponseError,
    ProviderUnavailableError,
    RateLimitError,
    StreamError,
    StreamEvent,
    TextDelta,
    ToolInputDelta,
    ToolUseStart,
)

ANTHROPIC = WIRES["anthropic"]


def _limited(status: int, wait: str, then: ScriptedResponse | None = None) -> Script:
    refusal = ScriptedResponse.json(
        {"type": "error", "error": {"type": "rate_limit_error", "message": "slow down"}},
        status,
        headers={"retry-after": wait},
    )
    return Script(refusal, *([then] if then else []))


@pytest.mark.parametrize("status", [429, 503])
async def test_a_wait_longer_than_the_deadline_is_given_up_at_once(wire: Wire, status: int) -> None:
    with ReplicaServer(_limited(status, "30")) as server:
        provider = wire.provider(
            api_key=FAKE_KEY, base_url=server.base_url, max_retries=3, deadline=5
        )
        with pytest.raises((RateLimitError, ProviderUnavailableError)) as raised:
            await provider.complete(ask())
    assert len(server.requests) == 1, "no retry was waited for"
    error = raised.value
    assert isinstance(error, RateLimitError if status == 429 else ProviderUnavailableError)
    assert error.status_code == status
    assert error.retry_after == 30


async def test_an_overloaded_529_keeps_its_status_and_wait() -> None:
    with ReplicaServer(_limited(529, "120")) as server:
        provider = ANTHROPIC.provider(
            api_key=FAKE_KEY, base_url=server.base_url, max_retries=2, deadline=5
        )
        with pytest.raises(ProviderUnavailableError) as raised:
            await provider.complete(ask())
    assert len(server.requests) == 1
    assert (raised.value.status_code, raised.value.retry_after) == (529, 120)


async def test_a_wait_within_the_deadline_is_still_retried(wire: Wire) -> None:
    answer = ScriptedResponse.json(wire.answer("fine"))
    with ReplicaServer(_limited(429, "0", then=answer)) as server:
        provider = wire.provider(api_key=FAKE_KEY, base_url=server.base_url, max_retries=2)
        response = await provider.complete(ask())
    assert response.text == "fine"
    assert len(server.requests) == 2


def _sse(*events: tuple[str, object]) -> bytes:
    return b"".join(
        f"event: {name}\ndata: {json.dumps(data)}\n\n".encode() for name, data in events
    )


_START = ("message_start", {"type": "message_start", "message": {"usage": {"input_tokens": 1}}})
_TEXT = [
    ("content_block_start", {"type": "content_block_start", "index": 0,
                             "content_block": {"type": "text", "text": ""}}),
    ("content_block_delta", {"type": "content_block_delta", "index": 0,
                             "delta": {"type": "text_delta", "text": "Hel"}}),
]  # fmt: skip


async def _stream(body: bytes) -> tuple[list[StreamEvent], Exception | None]:
    with ReplicaServer(Script(ScriptedResponse.sse(body))) as server:
        provider = ANTHROPIC.provider(api_key=FAKE_KEY, base_url=server.base_url)
        assert isinstance(provider, AnthropicProvider)
        return await collect_until_error(provider.stream(ask()))


@pytest.mark.parametrize(
    "data",
    [
        {"error": {"type": "overloaded_error", "message": "Overloaded"}},
        {"message": "Overloaded"},
        {},
    ],
)
async def test_an_error_event_is_an_error_whatever_its_data(data: object) -> None:
    finish = [
        ("content_block_stop", {"type": "content_block_stop", "index": 0}),
        ("message_delta", {"type": "message_delta", "delta": {"stop_reason": "end_turn"}}),
        ("message_stop", {"type": "message_stop"}),
    ]
    events, error = await _stream(_sse(_START, *_TEXT, ("error", data), *finish))
    assert isinstance(error, StreamError)
    assert type(error) is StreamError, "the vendor's error, not a truncation"
    assert [e.text for e in events if isinstance(e, TextDelta)] == ["Hel"]
    if data:
        assert error.retryable == ("overloaded" in json.dumps(data))


async def test_two_tool_blocks_at_one_index_are_refused_not_merged() -> None:
    def tool(call_id: str, name: str) -> list[tuple[str, object]]:
        return [
            ("content_block_start", {"type": "content_block_start", "index": 0,
                                     "content_block": {"type": "tool_use", "id": call_id,
                                                       "name": name, "input": {}}}),
            ("content_block_delta", {"type": "content_block_delta", "index": 0,
                                     "delta": {"type": "input_json_delta", "partial_json": "{}"}}),
        ]  # fmt: skip

    body = _sse(_START, *tool("toolu_1", "first"), *tool("toolu_2", "second"))
    _, error = await _stream(body)
    assert isinstance(error, MalformedResponseError)
    assert "content_block_start.index" in str(error)


# -- what one answer may hold ----------------------------------------------------------------------

OPENAI = WIRES["openai"]


def _chat(*chunks: dict[str, object]) -> bytes:
    return b"".join(b"data: %s\n\n" % json.dumps(chunk).encode() for chunk in chunks)


def _call(index: int, arguments: str, *, start: bool) -> dict[str, object]:
    call: dict[str, object] = {"index": index, "function": {"arguments": arguments}}
    if start:
        call.update(id=f"call_{index}", type="function")
        call["function"] = {"name": "f", "arguments": arguments}
    return {"choices": [{"index": 0, "delta": {"tool_calls": [call]}}]}


async def _chat_stream(
    body: bytes, **settings: object
) -> tuple[list[StreamEvent], Exception | None]:
    with ReplicaServer(Script(ScriptedResponse.sse([body]))) as server:
        provider = OPENAI.provider(api_key=FAKE_KEY, base_url=server.base_url, **settings)
        return await collect_until_error(provider.stream(ask()))


async def test_tool_arguments_in_small_fragments_stop_at_the_held_bound() -> None:
    fragments = [_call(0, "x" * 100, start=False) for _ in range(500)]
    body = _chat(_call(0, "", start=True), *fragments)
    events, error = await _chat_stream(body, max_held_chars=10_000, max_event_bytes=1024)
    assert isinstance(error, MalformedResponseError)
    assert "max_held_chars=10000" in str(error)
    held = sum(len(e.partial_json) for e in events if isinstance(e, ToolInputDelta))
    assert held <= 10_000


async def test_text_held_behind_an_open_tool_call_stops_at_the_held_bound() -> None:
    text = {"choices": [{"index": 0, "delta": {"content": "y" * 100}}]}
    # The second call opens while the first is open, so the text after it is held.
    body = _chat(_call(0, "{", start=True), _call(1, "{", start=True), *[text] * 500)
    _, error = await _chat_stream(body, max_held_chars=10_000)
    assert isinstance(error, MalformedResponseError)
    assert "text held" in str(error)


async def test_the_number_of_tool_calls_is_bounded() -> None:
    body = _chat(*(_call(index, "{}", start=True) for index in range(50)))
    events, error = await _chat_stream(body, max_tool_calls=10)
    assert isinstance(error, MalformedResponseError)
    assert "max_tool_calls=10" in str(error)
    assert sum(isinstance(e, ToolUseStart) for e in events) <= 10


@pytest.mark.parametrize("field", ["max_tool_calls", "max_held_chars"])
def test_the_bounds_are_positive_settings(field: str) -> None:
    with pytest.raises(InvalidRequestError):
        OPENAI.provider(api_key=FAKE_KEY, **{field: 0})
