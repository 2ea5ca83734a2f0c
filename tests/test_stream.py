"""stream(): vendor chunk orders in, the one event grammar out, through a real httpx2 transport."""

from __future__ import annotations

import asyncio
import gc
from contextlib import aclosing
from typing import TypeVar

import pytest
from support import (
    FakeVendor,
    ask,
    assert_grammar,
    collect,
    collect_until_error,
)

from contracts.wire import chunk, sse_body, tool_delta, usage_report
from providers import (
    Connected,
    Done,
    MalformedResponseError,
    MessageDelta,
    ProviderUnavailableError,
    StopReason,
    StreamError,
    StreamTruncatedError,
    TextDelta,
    ThinkingDelta,
    ToolInputDelta,
    ToolUseEnd,
    ToolUseStart,
    Usage,
    load_profile,
)

T = TypeVar("T")
ROLE = chunk({"role": "assistant", "content": ""})
USAGE = usage_report(12, 5, cached=3, reasoning=2)


def texts(events: list[object]) -> str:
    return "".join(e.text for e in events if isinstance(e, TextDelta))


def of_type(events: list[object], kind: type[T]) -> list[T]:
    return [e for e in events if isinstance(e, kind)]


async def test_text_stream_yields_grammar_and_exact_text(vendor: FakeVendor) -> None:
    vendor.sse(
        [
            ROLE,
            chunk({"content": "Hel"}),
            chunk({"content": "lo, "}),
            chunk({"content": "wörld 👋"}),
            chunk(finish="stop"),
            chunk(usage=USAGE, choices=False),
        ],
        headers={"x-request-id": "req_42"},
    )
    events = await collect(vendor.provider("openai").stream(ask()))
    assert_grammar(events)
    assert events[0] == Connected(provider="openai", model="gpt-4o", request_id="req_42")
    assert texts(events) == "Hello, wörld 👋"
    assert events[-3] == MessageDelta(stop_reason=StopReason.END_TURN, raw_stop_reason="stop")
    assert events[-2] == Usage(
        input_tokens=12, output_tokens=5, cache_read_tokens=3, reasoning_tokens=2
    )
    assert isinstance(events[-1], Done)


async def test_empty_deltas_and_usage_only_chunks_are_dropped(vendor: FakeVendor) -> None:
    vendor.sse(
        [
            ROLE,
            chunk({"content": ""}),
            chunk({}),
            chunk(usage=USAGE, choices=False),
            chunk({"content": "x"}),
            chunk(finish="stop"),
        ]
    )
    events = await collect(vendor.provider().stream(ask()))
    assert_grammar(events)
    assert [type(e).__name__ for e in events] == [
        "Connected",
        "TextDelta",
        "MessageDelta",
        "Usage",
        "Done",
    ]


async def test_one_fragmented_tool_call_is_reassembled(vendor: FakeVendor) -> None:
    vendor.sse(
        [
            ROLE,
            chunk({"tool_calls": [tool_delta(0, call_id="call_a", name="weather", arguments="")]}),
            chunk({"tool_calls": [tool_delta(0, arguments='{"ci')]}),
            chunk({"tool_calls": [tool_delta(0, arguments='ty": "Pa')]}),
            chunk({"tool_calls": [tool_delta(0, arguments='ris"}')]}),
            chunk(finish="tool_calls"),
            chunk(usage=USAGE, choices=False),
        ]
    )
    events = await collect(vendor.provider().stream(ask()))
    assert_grammar(events)
    (start,) = of_type(events, ToolUseStart)
    assert (start.id, start.name) == ("call_a", "weather")
    assert "".join(d.partial_json for d in of_type(events, ToolInputDelta)) == '{"city": "Paris"}'
    (end,) = of_type(events, ToolUseEnd)
    assert end.input == {"city": "Paris"}
    assert of_type(events, MessageDelta)[0].stop_reason is StopReason.TOOL_USE


async def test_parallel_interleaved_tool_calls_keep_their_own_arguments(
    vendor: FakeVendor,
) -> None:
    vendor.sse(
        [
            ROLE,
            chunk({"tool_calls": [tool_delta(0, call_id="c0", name="a", arguments='{"x":')]}),
            chunk({"tool_calls": [tool_delta(1, call_id="c1", name="b", arguments='{"y":')]}),
            chunk({"tool_calls": [tool_delta(0, arguments="1}"), tool_delta(1, arguments="2}")]}),
            chunk(finish="tool_calls"),
        ]
    )
    events = await collect(vendor.provider().stream(ask()))
    assert_grammar(events)
    ends = of_type(events, ToolUseEnd)
    assert [(e.id, e.name, e.input) for e in ends] == [("c0", "a", {"x": 1}), ("c1", "b", {"y": 2})]
    assert ends[0].index != ends[1].index


async def test_gemini_whole_tool_calls_without_index_ending_with_stop(
    vendor: FakeVendor,
) -> None:
    whole = [
        tool_delta(None, call_id="", name="lookup", arguments='{"q": "a"}'),
        tool_delta(None, call_id="g2", name="lookup", arguments='{"q": "b"}'),
    ]
    whole[0]["extra_content"] = {"google": {"thought_signature": "sig"}}
    vendor.sse(
        [
            chunk({"role": "assistant", "tool_calls": whole}, usage=USAGE),
            chunk(finish="stop", usage=USAGE),
        ],
        done=False,
    )
    events = await collect(vendor.provider("gemini").stream(ask()))
    assert_grammar(events)
    ends = of_type(events, ToolUseEnd)
    assert [e.input for e in ends] == [{"q": "a"}, {"q": "b"}]
    assert ends[0].id  # an empty vendor id gets a usable one
    assert ends[0].id != ends[1].id
    (delta,) = of_type(events, MessageDelta)
    assert (delta.stop_reason, delta.raw_stop_reason) == (StopReason.TOOL_USE, "stop")


async def test_last_tool_fragment_riding_on_the_finish_chunk(vendor: FakeVendor) -> None:
    vendor.sse(
        [
            chunk({"tool_calls": [tool_delta(0, call_id="c0", name="f", arguments='{"a"')]}),
            chunk({"tool_calls": [tool_delta(0, arguments=": true}")]}, finish="tool_calls"),
        ]
    )
    events = await collect(vendor.provider("glm").stream(ask()))
    assert_grammar(events)
    assert of_type(events, ToolUseEnd)[0].input == {"a": True}


async def test_text_after_an_open_tool_block_waits_so_blocks_never_interleave(
    vendor: FakeVendor,
) -> None:
    vendor.sse(
        [
            chunk({"content": "Let me check."}),
            chunk({"tool_calls": [tool_delta(0, call_id="c0", name="f", arguments="{}")]}),
            chunk({"content": " Done."}),
            chunk(finish="tool_calls"),
        ]
    )
    events = await collect(vendor.provider().stream(ask()))
    assert_grammar(events)
    assert texts(events) == "Let me check. Done."
    kinds = [type(e).__name__ for e in events[1:-3]]
    assert kinds == ["TextDelta", "ToolUseStart", "ToolInputDelta", "ToolUseEnd", "TextDelta"]


@pytest.mark.parametrize(
    ("placement", "chunks"),
    [
        (
            "after the finish chunk",
            [chunk({"content": "a"}), chunk(finish="stop"), chunk(usage=USAGE, choices=False)],
        ),
        (
            "before the finish chunk",
            [chunk({"content": "a"}), chunk(usage=USAGE, choices=False), chunk(finish="stop")],
        ),
        ("inside the finish chunk", [chunk({"content": "a"}), chunk(finish="stop", usage=USAGE)]),
        (
            "on every chunk, last wins",
            [chunk({"content": "a"}, usage=usage_report(1, 1)), chunk(finish="stop", usage=USAGE)],
        ),
    ],
)
async def test_usage_in_any_position_comes_out_once_after_message_delta(
    vendor: FakeVendor, placement: str, chunks: list[dict[str, object]]
) -> None:
    vendor.sse(chunks)
    events = await collect(vendor.provider().stream(ask()))
    assert_grammar(events)
    assert of_type(events, Usage) == [
        Usage(input_tokens=12, output_tokens=5, cache_read_tokens=3, reasoning_tokens=2)
    ], placement


async def test_no_usage_reported_gives_an_estimate(vendor: FakeVendor) -> None:
    vendor.sse([chunk({"content": "abcdefghi"}), chunk(finish="stop")])
    events = await collect(vendor.provider().stream(ask("12345678")))
    (usage,) = of_type(events, Usage)
    assert usage == Usage(input_tokens=2, output_tokens=3, estimated=True)


def finish_cases() -> list[tuple[str, str, StopReason]]:
    cases = []
    for name in ("openai", "gemini", "mistral", "glm", "claude_subscription"):
        for raw, mapped in load_profile(name).stop_mapping().items():
            if isinstance(mapped, StopReason):
                cases.append((name, raw, mapped))
        cases.append((name, "brand_new_reason", StopReason.OTHER))
    return cases


@pytest.mark.parametrize(("vendor_name", "raw", "expected"), finish_cases())
async def test_every_finish_value_maps_by_profile_and_keeps_raw(
    vendor: FakeVendor, vendor_name: str, raw: str, expected: StopReason
) -> None:
    vendor.sse([chunk({"content": "a"}), chunk(finish=raw)])
    events = await collect(vendor.provider(vendor_name).stream(ask()))
    assert_grammar(events)
    assert of_type(events, MessageDelta) == [
        MessageDelta(stop_reason=expected, raw_stop_reason=raw)
    ]


def test_profile_specific_finish_values_are_covered() -> None:
    assert ("mistral", "model_length", StopReason.MAX_TOKENS) in finish_cases()
    assert ("glm", "sensitive", StopReason.CONTENT_FILTER) in finish_cases()
    assert ("glm", "model_context_window_exceeded", StopReason.MAX_TOKENS) in finish_cases()


@pytest.mark.parametrize(
    ("vendor_name", "raw", "error", "retryable"),
    [
        ("mistral", "error", StreamError, False),
        ("glm", "network_error", ProviderUnavailableError, True),
    ],
)
async def test_finish_values_mapped_to_error_raise_instead_of_ending(
    vendor: FakeVendor, vendor_name: str, raw: str, error: type[Exception], retryable: bool
) -> None:
    vendor.sse([chunk({"content": "partial"}), chunk(finish=raw)])
    events, exc = await collect_until_error(vendor.provider(vendor_name).stream(ask()))
    assert type(exc) is error
    assert exc.retryable is retryable  # type: ignore[union-attr]
    assert_grammar(events, raised=True)
    assert not of_type(events, Done)


@pytest.mark.parametrize(
    "cut",
    ["no finish, no [DONE]", "[DONE] without finish", "connection drops", "body ends mid-event"],
)
async def test_stream_cut_before_finish_raises_truncated_and_never_done(
    vendor: FakeVendor, cut: str
) -> None:
    chunks = [ROLE, chunk({"content": "Hello"}), chunk({"content": " there"})]
    if cut == "no finish, no [DONE]":
        vendor.sse(chunks, done=False)
    elif cut == "[DONE] without finish":
        vendor.sse(chunks, done=True)
    elif cut == "connection drops":
        vendor.sse([], pieces=[sse_body(chunks[:2], done=False), b"never sent"], fail_after=1)
    else:
        whole = sse_body([*chunks, chunk(finish="stop")], done=False)
        vendor.sse([], pieces=[whole[:-12]])
    events, exc = await collect_until_error(vendor.provider().stream(ask()))
    assert isinstance(exc, StreamTruncatedError), exc
    assert exc.retryable
    assert_grammar(events, raised=True)
    assert texts(events).startswith("Hello")


async def test_finish_then_dropped_connection_still_ends_normally(vendor: FakeVendor) -> None:
    vendor.sse(
        [],
        pieces=[sse_body([chunk({"content": "a"}), chunk(finish="stop")], done=False), b"lost"],
        fail_after=1,
    )
    events = await collect(vendor.provider().stream(ask()))
    assert_grammar(events)


@pytest.mark.parametrize(
    ("payload", "retryable"),
    [
        ({"error": {"message": "upstream exploded", "type": "server_error"}}, True),
        ({"error": {"message": "bad things", "type": "invalid_request_error"}}, False),
    ],
)
async def test_mid_stream_error_event_raises_mapped_error(
    vendor: FakeVendor, payload: dict[str, object], retryable: bool
) -> None:
    vendor.sse([chunk({"content": "so far"}), payload])
    events, exc = await collect_until_error(vendor.provider("claude_subscription").stream(ask()))
    assert isinstance(exc, StreamError)
    assert exc.retryable is retryable
    assert payload["error"]["message"] in str(exc)  # type: ignore[index]
    assert_grammar(events, raised=True)


async def test_sse_error_event_line_raises(vendor: FakeVendor) -> None:
    body = (
        b'data: {"choices":[{"index":0,"delta":{"content":"x"}}]}\n\n'
        b'event: error\ndata: {"error": {"message": "rate limited", "type": "server_error"}}\n\n'
    )
    vendor.sse([], pieces=[body])
    _, exc = await collect_until_error(vendor.provider().stream(ask()))
    assert isinstance(exc, StreamError)
    assert "rate limited" in str(exc)


async def test_unparsable_chunk_raises_malformed(vendor: FakeVendor) -> None:
    vendor.sse([chunk({"content": "ok"}), "{not json", chunk(finish="stop")])
    events, exc = await collect_until_error(vendor.provider().stream(ask()))
    assert isinstance(exc, MalformedResponseError)
    assert_grammar(events, raised=True)


async def test_invalid_tool_json_raises_malformed(vendor: FakeVendor) -> None:
    vendor.sse(
        [
            chunk({"tool_calls": [tool_delta(0, call_id="c", name="f", arguments="{oops")]}),
            chunk(finish="tool_calls"),
        ]
    )
    _, exc = await collect_until_error(vendor.provider().stream(ask()))
    assert isinstance(exc, MalformedResponseError)
    assert "invalid JSON" in str(exc)


async def test_tool_arguments_holding_an_escaped_lone_surrogate_raise_malformed(
    vendor: FakeVendor,
) -> None:
    # Half an emoji, escaped in the arguments' own JSON: no request could send it back.
    arguments = '{"city": "\\ud83d"}'
    vendor.sse(
        [
            chunk({"tool_calls": [tool_delta(0, call_id="c", name="f", arguments=arguments)]}),
            chunk(finish="tool_calls"),
        ]
    )
    _, exc = await collect_until_error(vendor.provider().stream(ask()))
    assert isinstance(exc, MalformedResponseError)
    assert "invalid JSON arguments" in str(exc)


@pytest.mark.parametrize("field", ["reasoning_content", "reasoning"])
async def test_reasoning_fields_become_thinking_deltas(vendor: FakeVendor, field: str) -> None:
    vendor.sse(
        [
            chunk({field: "Let me think"}),
            chunk({field: " hard."}),
            chunk({"content": "42"}),
            chunk(finish="stop"),
        ]
    )
    events = await collect(vendor.provider().stream(ask()))
    assert_grammar(events)
    assert "".join(e.text for e in of_type(events, ThinkingDelta)) == "Let me think hard."
    assert texts(events) == "42"


async def test_mistral_typed_thinking_parts(vendor: FakeVendor) -> None:
    vendor.sse(
        [
            chunk(
                {"content": [{"type": "thinking", "thinking": [{"type": "text", "text": "hmm"}]}]}
            ),
            chunk({"content": [{"type": "text", "text": "Answer"}]}),
            chunk({"content": "!"}, finish="stop", usage=USAGE),
        ]
    )
    events = await collect(vendor.provider("mistral").stream(ask()))
    assert_grammar(events)
    assert [e.text for e in of_type(events, ThinkingDelta)] == ["hmm"]
    assert texts(events) == "Answer!"


async def test_claude_proxy_leading_comment_and_crlf(vendor: FakeVendor) -> None:
    body = (
        b":ok\r\n\r\n"
        b'data: {"choices":[{"index":0,"delta":{"content":"Hi"},"finish_reason":null}]}\r\n\r\n'
        b'data: {"choices":[{"index":0,"delta":{},"finish_reason":"stop"}],'
        b'"usage":{"prompt_tokens":3,"completion_tokens":1}}\r\n\r\ndata: [DONE]\r\n\r\n'
    )
    vendor.sse([], pieces=[body[i : i + 7] for i in range(0, len(body), 7)])
    events = await collect(vendor.provider("claude_subscription").stream(ask()))
    assert_grammar(events)
    assert texts(events) == "Hi"
    assert of_type(events, Usage)[0].input_tokens == 3


async def test_break_with_aclosing_closes_the_http_response_at_once(vendor: FakeVendor) -> None:
    body_pieces = [chunk({"content": f"t{n}"}) for n in range(50)]
    stream = vendor.sse(body_pieces, pieces=None)
    stream.pieces = [sse_body([c], done=False) for c in body_pieces]
    async with aclosing(vendor.provider().stream(ask())) as events:
        async for event in events:
            if isinstance(event, TextDelta):
                break
    assert stream.closed
    assert stream.sent < len(stream.pieces)


async def test_plain_break_closes_the_http_response_when_the_iterator_is_collected(
    vendor: FakeVendor,
) -> None:
    pieces = [sse_body([chunk({"content": f"t{n}"})], done=False) for n in range(50)]
    stream = vendor.sse([], pieces=pieces)
    async for event in vendor.provider().stream(ask()):
        if isinstance(event, TextDelta):
            break
    gc.collect()
    for _ in range(5):  # the loop runs the async-generator finaliser it scheduled
        await asyncio.sleep(0)
    assert stream.closed
    assert stream.sent < len(pieces)


async def test_gemini_metadata_only_tool_deltas_are_ignored(vendor: FakeVendor) -> None:
    signature_only = {"extra_content": {"google": {"thought_signature": "c2ln"}}}
    vendor.sse(
        [
            chunk({"tool_calls": [signature_only]}),
            chunk({"tool_calls": [tool_delta(None, call_id="fc-1", name="f", arguments='{"a":')]}),
            chunk({"tool_calls": [tool_delta(None, arguments="1}")]}),
            chunk({"tool_calls": [signature_only]}),
            chunk(finish="stop"),
        ]
    )
    events = await collect(vendor.provider("gemini").stream(ask()))
    assert_grammar(events)
    assert [(e.id, e.input) for e in of_type(events, ToolUseEnd)] == [("fc-1", {"a": 1})]


async def test_parallel_calls_all_numbered_zero_stay_separate(vendor: FakeVendor) -> None:
    # Some gateways number every parallel call 0; distinct ids still tell them apart.
    vendor.sse(
        [
            chunk(
                {"tool_calls": [tool_delta(0, call_id="c-bj", name="w", arguments='{"c":"bj"}')]}
            ),
            chunk(
                {"tool_calls": [tool_delta(0, call_id="c-sh", name="w", arguments='{"c":"sh"}')]}
            ),
            chunk(finish="tool_calls"),
        ]
    )
    events = await collect(vendor.provider().stream(ask()))
    assert_grammar(events)
    assert [(e.id, e.input) for e in of_type(events, ToolUseEnd)] == [
        ("c-bj", {"c": "bj"}),
        ("c-sh", {"c": "sh"}),
    ]
