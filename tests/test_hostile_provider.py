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
    MalformedResponseError,
    ProviderUnavailableError,
    RateLimitError,
    StreamError,
    StreamEvent,
    TextDelta,
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
