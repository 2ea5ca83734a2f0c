"""Every wrong JSON shape at a field the chunk reader reads is a MalformedResponseError naming
that field (or the mapped vendor error), raised after the events already yielded; never an
AttributeError, TypeError or ValidationError. Through a real httpx2 transport."""

from __future__ import annotations

from typing import Any

import pytest
from support import FakeVendor, ask, assert_grammar, collect_until_error

from contracts.wire import chunk, sse_body
from providers import MalformedResponseError, StreamError, TextDelta

HELLO = chunk({"content": "Hello"})


def with_delta(delta: Any) -> dict[str, Any]:
    return {"choices": [{"index": 0, "delta": delta, "finish_reason": None}]}


# (case, the broken chunk, the field its error must name)
MALFORMED: list[tuple[str, Any, str]] = [
    ("delta a string", with_delta("hi"), "choices[].delta"),
    ("choices an object", {"choices": {"index": 0}}, "choices"),
    ("choices a list of numbers", {"choices": [1, 2]}, "choices[]"),
    ("choice index a string", {"choices": [{"index": "0", "delta": {}}]}, "choices[].index"),
    (
        "finish_reason a number",
        {"choices": [{"index": 0, "delta": {}, "finish_reason": 7}]},
        "choices[].finish_reason",
    ),
    ("tool_calls a number", with_delta({"tool_calls": 3}), "delta.tool_calls"),
    ("a tool call a string", with_delta({"tool_calls": ["x"]}), "delta.tool_calls[]"),
    (
        "tool-call function a list",
        with_delta({"tool_calls": [{"index": 0, "id": "c", "function": []}]}),
        "delta.tool_calls[].function",
    ),
    (
        "tool-call name a number",
        with_delta({"tool_calls": [{"index": 0, "function": {"name": 5}}]}),
        "delta.tool_calls[].function.name",
    ),
    (
        "tool-call arguments an object",
        with_delta({"tool_calls": [{"index": 0, "id": "c", "function": {"arguments": {}}}]}),
        "delta.tool_calls[].function.arguments",
    ),
    (
        "tool-call index a string",
        with_delta({"tool_calls": [{"index": "0", "id": "c", "function": {"name": "f"}}]}),
        "delta.tool_calls[].index",
    ),
    ("reasoning_content a number", with_delta({"reasoning_content": 1}), "reasoning_content"),
    ("content a number", with_delta({"content": 12}), "delta.content"),
    ("a content part a number", with_delta({"content": [3]}), "delta.content[]"),
    (
        "a thinking part's text a list",
        with_delta({"content": [{"type": "thinking", "thinking": [{"text": ["a"]}]}]}),
        "delta.content[].thinking[].text",
    ),
    ("usage a list", {"choices": [], "usage": [1]}, "usage"),
    ("usage count negative", {"usage": {"prompt_tokens": -1}}, "usage.prompt_tokens"),
    ("usage count a string", {"usage": {"completion_tokens": "5"}}, "usage.completion_tokens"),
    ("usage count a float", {"usage": {"prompt_tokens": 1.5}}, "usage.prompt_tokens"),
    ("usage count a boolean", {"usage": {"prompt_tokens": True}}, "usage.prompt_tokens"),
    (
        "usage details a number",
        {"usage": {"prompt_tokens_details": 4}},
        "usage.prompt_tokens_details",
    ),
    (
        "cached tokens a list",
        {"usage": {"prompt_tokens_details": {"cached_tokens": [1]}}},
        "usage.prompt_tokens_details.cached_tokens",
    ),
    ("the chunk a number", 5, "the chunk"),
]


@pytest.mark.parametrize(
    ("broken", "field"), [c[1:] for c in MALFORMED], ids=[c[0] for c in MALFORMED]
)
async def test_a_malformed_field_is_named_after_the_events_already_yielded(
    vendor: FakeVendor, broken: Any, field: str
) -> None:
    vendor.sse([HELLO, broken, chunk(finish="stop")])
    events, error = await collect_until_error(vendor.provider().stream(ask()))
    assert isinstance(error, MalformedResponseError), repr(error)
    assert field in error.message
    assert [e.text for e in events if isinstance(e, TextDelta)] == ["Hello"]
    assert_grammar(events, raised=True)


@pytest.mark.parametrize("broken", [c[1] for c in MALFORMED], ids=[c[0] for c in MALFORMED])
async def test_complete_reports_the_same_malformed_body(vendor: FakeVendor, broken: Any) -> None:
    vendor.reply(broken)
    with pytest.raises(MalformedResponseError):
        await vendor.provider().complete(ask())


@pytest.mark.parametrize("data", ["5", '"overloaded"', "[1, 2]", "null", '{"message": "x"}'])
async def test_an_error_event_of_any_shape_is_a_stream_error(vendor: FakeVendor, data: str) -> None:
    body = sse_body([HELLO], done=False) + f"event: error\ndata: {data}\n\n".encode()
    vendor.sse([], pieces=[body])
    events, error = await collect_until_error(vendor.provider().stream(ask()))
    assert type(error) is StreamError, repr(error)
    assert [e.text for e in events if isinstance(e, TextDelta)] == ["Hello"]
