"""OpenAiResponsesProvider against hand-written Responses traffic: the request it builds, the
events it reads (text, reasoning, calls, how a response ends, usage), the failures it raises,
and reasoning items that go back unchanged with the next turn."""

from __future__ import annotations

import json
from typing import Any

import pytest
from support import FakeVendor, ask, collect, collect_until_error

from providers import (
    AssistantMessage,
    InvalidRequestError,
    StopReason,
    StreamError,
    StreamTruncatedError,
    ToolDefinition,
    ToolResultMessage,
    UserMessage,
)
from providers.types import (
    CompletionRequest,
    ImagePart,
    JsonSchemaFormat,
    MessageDelta,
    TextPart,
    ThinkingConfig,
    ThinkingDelta,
    ToolUseEnd,
    Usage,
)

VENDOR = "openai_responses"
WEATHER = ToolDefinition(
    name="get_weather",
    description="Weather",
    parameters={"type": "object", "properties": {"city": {"type": "string"}}},
)
REASONING_ITEM = {
    "type": "reasoning",
    "id": "rs_1",
    "summary": [{"type": "summary_text", "text": "Think."}],
    "encrypted_content": "gAAAA-opaque",
}


def events_body(*events: dict[str, Any]) -> bytes:
    return b"".join(
        f"event: {event['type']}\ndata: {json.dumps(event)}\n\n".encode() for event in events
    )


def completed(usage: dict[str, Any] | None = None, **fields: Any) -> dict[str, Any]:
    response = {"object": "response", "status": "completed", "usage": usage, **fields}
    return {"type": "response.completed", "response": response}


def text_item(index: int, text: str) -> list[dict[str, Any]]:
    item = {"type": "message", "id": f"msg_{index}", "role": "assistant", "content": []}
    return [
        {"type": "response.output_item.added", "output_index": index, "item": item},
        {"type": "response.output_text.delta", "output_index": index, "delta": text},
        {"type": "response.output_item.done", "output_index": index, "item": item},
    ]


# -- the request ------------------------------------------------------------------------------


async def test_the_body_is_the_responses_shape(vendor: FakeVendor) -> None:
    vendor.sse_bytes(events_body(*text_item(0, "ok"), completed()))
    request = CompletionRequest(
        system="Be brief.",
        messages=(
            UserMessage(content=(TextPart(text="Look"), ImagePart(url="https://x.test/a.png"))),
        ),
        tools=(WEATHER,),
        tool_choice="get_weather",
        parallel_tool_calls=False,
        max_tokens=16,
        temperature=0.5,
        top_p=0.9,
    )
    await collect(vendor.any_provider(VENDOR).stream(request))
    sent = vendor.sent_json()
    assert vendor.requests[0].url.path == "/v1/responses"
    assert sent["instructions"] == "Be brief."
    assert sent["input"] == [
        {
            "role": "user",
            "content": [
                {"type": "input_text", "text": "Look"},
                {"type": "input_image", "image_url": "https://x.test/a.png"},
            ],
        }
    ]
    assert sent["tools"] == [
        {
            "type": "function",
            "name": "get_weather",
            "description": "Weather",
            "parameters": WEATHER.parameters,
            "strict": False,
        }
    ]
    assert sent["tool_choice"] == {"type": "function", "name": "get_weather"}
    assert (sent["parallel_tool_calls"], sent["max_output_tokens"]) == (False, 16)
    assert (sent["temperature"], sent["top_p"], sent["store"], sent["stream"]) == (
        0.5,
        0.9,
        False,
        True,
    )
    assert "messages" not in sent
    assert "stream_options" not in sent


async def test_structured_output_and_reasoning_go_where_the_protocol_wants_them(
    vendor: FakeVendor,
) -> None:
    vendor.sse_bytes(events_body(*text_item(0, "{}"), completed()))
    schema = {"type": "object", "properties": {"a": {"type": "string"}}}
    request = ask(
        response_format=JsonSchemaFormat(name="answer", json_schema=schema, strict=True),
        thinking=ThinkingConfig(effort="low"),
        model="gpt-5-mini",
    )
    await collect(vendor.any_provider(VENDOR).stream(request))
    sent = vendor.sent_json()
    assert sent["text"] == {
        "format": {"type": "json_schema", "name": "answer", "schema": schema, "strict": True}
    }
    assert sent["reasoning"] == {"effort": "low"}


@pytest.mark.parametrize(
    ("fields", "says"),
    [
        ({"stop": ("END",)}, "no stop sequences"),
        ({"seed": 7}, "no seed"),
        (
            {"thinking": ThinkingConfig(budget_tokens=2048), "model": "gpt-5-mini"},
            "effort, not a token budget",
        ),
        ({"max_tokens": 15}, "max_tokens must be >= 16"),
    ],
)
async def test_what_the_protocol_cannot_take_is_refused_before_sending(
    vendor: FakeVendor, fields: dict[str, Any], says: str
) -> None:
    provider = vendor.any_provider(VENDOR)
    with pytest.raises(InvalidRequestError, match=says):
        provider.stream(ask(**fields))
    with pytest.raises(InvalidRequestError, match=says):
        await provider.complete(ask(**fields))
    assert vendor.requests == []


# -- reading ----------------------------------------------------------------------------------


async def test_reasoning_then_text_then_usage_with_cached_and_reasoning_tokens(
    vendor: FakeVendor,
) -> None:
    usage = {
        "input_tokens": 20,
        "input_tokens_details": {"cached_tokens": 8},
        "output_tokens": 30,
        "output_tokens_details": {"reasoning_tokens": 12},
    }
    added = {"type": "reasoning", "id": "rs_1", "summary": []}
    vendor.sse_bytes(
        events_body(
            {"type": "response.created", "response": {"status": "in_progress"}},
            {"type": "response.output_item.added", "output_index": 0, "item": added},
            {"type": "response.reasoning_summary_text.delta", "output_index": 0, "delta": "Thi"},
            {"type": "response.reasoning_summary_text.delta", "output_index": 0, "delta": "nk."},
            {"type": "response.output_item.done", "output_index": 0, "item": REASONING_ITEM},
            *text_item(1, "Hi!"),
            completed(usage),
        )
    )
    events = await collect(vendor.any_provider(VENDOR).stream(ask()))
    thinking = [e for e in events if isinstance(e, ThinkingDelta)]
    assert "".join(e.text for e in thinking) == "Think."
    assert thinking[-1].provider_data == REASONING_ITEM
    [finish] = [e for e in events if isinstance(e, MessageDelta)]
    assert (finish.stop_reason, finish.raw_stop_reason) == (StopReason.END_TURN, "completed")
    [reported] = [e for e in events if isinstance(e, Usage)]
    assert (reported.input_tokens, reported.output_tokens) == (20, 30)
    assert (reported.cache_read_tokens, reported.reasoning_tokens, reported.estimated) == (
        8,
        12,
        False,
    )


async def test_a_reasoning_item_goes_back_unchanged_with_the_next_turn(vendor: FakeVendor) -> None:
    call = {"type": "function_call", "call_id": "call_1", "name": "get_weather", "arguments": ""}
    whole = {**call, "arguments": '{"city": "Paris"}'}
    vendor.reply(
        {
            "object": "response",
            "status": "completed",
            "model": "gpt-4.1-mini",
            "output": [REASONING_ITEM, whole],
            "usage": {"input_tokens": 5, "output_tokens": 5},
        }
    )
    provider = vendor.any_provider(VENDOR)
    first = await provider.complete(ask(tools=(WEATHER,)))
    assert first.stop_reason is StopReason.TOOL_USE
    assert first.thinking_blocks[0].provider_data == REASONING_ITEM
    vendor.sse_bytes(events_body(*text_item(0, "Sunny."), completed()))
    follow_up = CompletionRequest(
        messages=(
            UserMessage(content="hi"),
            first.as_message(),
            ToolResultMessage(tool_call_id="call_1", content="sunny"),
        ),
        tools=(WEATHER,),
    )
    await collect(provider.stream(follow_up))
    assert vendor.sent_json()["input"][1:] == [
        REASONING_ITEM,
        whole,
        {"type": "function_call_output", "call_id": "call_1", "output": "sunny"},
    ]


async def test_another_protocols_thinking_is_not_sent_as_a_reasoning_item(
    vendor: FakeVendor,
) -> None:
    vendor.sse_bytes(events_body(*text_item(0, "ok"), completed()))
    signed = AssistantMessage.model_validate(
        {"content": "Earlier.", "thinking": [{"text": "hm", "signature": "anthropic-sig"}]}
    )
    request = CompletionRequest(
        messages=(UserMessage(content="a"), signed, UserMessage(content="b"))
    )
    await collect(vendor.any_provider(VENDOR).stream(request))
    assert vendor.sent_json()["input"][1] == {"role": "assistant", "content": "Earlier."}


async def test_call_arguments_sent_only_when_the_item_is_done_are_read(vendor: FakeVendor) -> None:
    item = {"type": "function_call", "call_id": "call_9", "name": "get_weather", "arguments": ""}
    vendor.sse_bytes(
        events_body(
            {"type": "response.output_item.added", "output_index": 0, "item": item},
            {
                "type": "response.output_item.done",
                "output_index": 0,
                "item": {**item, "arguments": '{"city":"Oslo"}'},
            },
            completed(),
        )
    )
    events = await collect(vendor.any_provider(VENDOR).stream(ask(tools=(WEATHER,))))
    [end] = [e for e in events if isinstance(e, ToolUseEnd)]
    assert (end.id, end.name, end.input) == ("call_9", "get_weather", {"city": "Oslo"})
    [finish] = [e for e in events if isinstance(e, MessageDelta)]
    assert finish.stop_reason is StopReason.TOOL_USE


@pytest.mark.parametrize(
    ("reason", "stop"),
    [
        ("max_output_tokens", StopReason.MAX_TOKENS),
        ("content_filter", StopReason.CONTENT_FILTER),
        ("something_new", StopReason.OTHER),
    ],
)
async def test_an_incomplete_response_ends_for_its_reason(
    vendor: FakeVendor, reason: str, stop: StopReason
) -> None:
    ended = {
        "type": "response.incomplete",
        "response": {"status": "incomplete", "incomplete_details": {"reason": reason}},
    }
    vendor.sse_bytes(events_body(*text_item(0, "Once"), ended))
    events = await collect(vendor.any_provider(VENDOR).stream(ask()))
    [finish] = [e for e in events if isinstance(e, MessageDelta)]
    assert (finish.stop_reason, finish.raw_stop_reason) == (stop, reason)


@pytest.mark.parametrize(
    "failure",
    [
        {"type": "error", "code": "server_error", "message": "The model broke."},
        {
            "type": "response.failed",
            "response": {
                "status": "failed",
                "error": {"code": "server_error", "message": "The model broke."},
            },
        },
    ],
)
async def test_a_failure_after_the_200_raises_its_message(
    vendor: FakeVendor, failure: dict[str, Any]
) -> None:
    vendor.sse_bytes(events_body(*text_item(0, "Par"), failure))
    events, error = await collect_until_error(vendor.any_provider(VENDOR).stream(ask()))
    assert isinstance(error, StreamError)
    assert "The model broke." in str(error)
    assert not any(isinstance(e, MessageDelta) for e in events)


async def test_a_stream_without_its_end_is_truncated(vendor: FakeVendor) -> None:
    vendor.sse_bytes(events_body(*text_item(0, "Par")))
    events, error = await collect_until_error(vendor.any_provider(VENDOR).stream(ask()))
    assert isinstance(error, StreamTruncatedError)
    assert "response.completed" in str(error) or "finish reason" in str(error)
    assert not any(isinstance(e, MessageDelta) for e in events)


async def test_complete_reads_the_whole_response_through_the_same_reader(
    vendor: FakeVendor,
) -> None:
    message = {
        "type": "message",
        "role": "assistant",
        "content": [{"type": "output_text", "text": "Paris.", "annotations": []}],
    }
    vendor.reply(
        {
            "object": "response",
            "status": "incomplete",
            "incomplete_details": {"reason": "max_output_tokens"},
            "model": "gpt-4.1-mini-2025-04-14",
            "output": [message],
            "usage": {"input_tokens": 3, "output_tokens": 16},
        }
    )
    response = await vendor.any_provider(VENDOR).complete(ask())
    assert (response.text, response.stop_reason, response.model) == (
        "Paris.",
        StopReason.MAX_TOKENS,
        "gpt-4.1-mini-2025-04-14",
    )
    assert "stream" not in vendor.sent_json()
