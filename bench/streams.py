"""The SSE bodies every benchmark consumes, built once per run so all contenders read the
same bytes, one SSE event per transport read (as a real socket tends to deliver them)."""

from __future__ import annotations

import json

import httpx2

from contracts.protocols.anthropic_messages import AnthropicMessages
from contracts.protocols.openai_responses import OpenAiResponses
from contracts.spec import Answer, ToolCallSpec, UsageSpec
from contracts.transport import PieceStream
from contracts.vendors import load_suite_profile
from contracts.wire import chunk, sse_event, tool_delta, usage_report
from providers.vendors import load_profile

MODEL = "gpt-4o"
ANTHROPIC_MODEL = "claude-sonnet-4-6"


def _meta(item: dict[str, object]) -> dict[str, object]:
    # What OpenAI puts on every chunk; the SDK and peers parse all of it.
    return {
        "id": "chatcmpl-bench",
        "created": 1764000000,
        "model": MODEL,
        "system_fingerprint": "fp_bench",
        **item,
    }


def text_stream(chunks: int) -> list[bytes]:
    events = [_meta(chunk({"role": "assistant", "content": ""}))]
    events += [_meta(chunk({"content": f"token{n} "})) for n in range(chunks)]
    events += [
        _meta(chunk(finish="stop")),
        _meta(chunk(usage=usage_report(20, chunks), choices=False)),
    ]
    return [sse_event(json.dumps(e)) for e in events] + [sse_event("[DONE]")]


def tool_stream(calls: int, fragments_per_call: int = 8) -> list[bytes]:
    events = [_meta(chunk({"role": "assistant", "content": None}))]
    for index in range(calls):
        arguments = json.dumps({"city": f"City number {index}", "days": index, "units": "metric"})
        step = max(len(arguments) // fragments_per_call, 1)
        pieces = [arguments[i : i + step] for i in range(0, len(arguments), step)]
        events.append(
            _meta(
                chunk(
                    {
                        "tool_calls": [
                            tool_delta(
                                index, call_id=f"call_{index}", name="get_weather", arguments=""
                            )
                        ]
                    }
                )
            )
        )
        events += [_meta(chunk({"tool_calls": [tool_delta(index, arguments=p)]})) for p in pieces]
    events += [
        _meta(chunk(finish="tool_calls")),
        _meta(chunk(usage=usage_report(50, calls * 20), choices=False)),
    ]
    return [sse_event(json.dumps(e)) for e in events] + [sse_event("[DONE]")]


def messages_text_stream(chunks: int) -> list[bytes]:
    """The Anthropic Messages spelling of a text answer: one text block of `chunks` deltas."""
    start = {
        "id": "msg_bench",
        "type": "message",
        "role": "assistant",
        "model": ANTHROPIC_MODEL,
        "content": [],
        "stop_reason": None,
        "stop_sequence": None,
        "usage": {"input_tokens": 20, "output_tokens": 1},
    }
    events: list[dict[str, object]] = [
        {"type": "message_start", "message": start},
        {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
    ]
    events += [
        {
            "type": "content_block_delta",
            "index": 0,
            "delta": {"type": "text_delta", "text": f"token{n} "},
        }
        for n in range(chunks)
    ]
    events += [
        {"type": "content_block_stop", "index": 0},
        {
            "type": "message_delta",
            "delta": {"stop_reason": "end_turn", "stop_sequence": None},
            "usage": {"output_tokens": chunks},
        },
        {"type": "message_stop"},
    ]
    return [sse_event(json.dumps(e), event=str(e["type"])) for e in events]


def text_answer(chunks: int) -> Answer:
    return Answer(
        text=tuple(f"token{n} " for n in range(chunks)),
        finish="stop",
        usage=UsageSpec(prompt=20, completion=chunks),
    )


def tool_answer(calls: int, fragments_per_call: int = 8) -> Answer:
    """`calls` parallel calls, each's arguments in `fragments_per_call` pieces."""
    specs = []
    for index in range(calls):
        arguments = json.dumps({"city": f"City number {index}", "days": index, "units": "metric"})
        step = max(len(arguments) // fragments_per_call, 1)
        pieces = tuple(arguments[i : i + step] for i in range(0, len(arguments), step))
        specs.append(ToolCallSpec(id=f"call_{index}", name="get_weather", arguments=pieces))
    return Answer(
        tool_calls=tuple(specs), finish="tool_calls", usage=UsageSpec(prompt=50, completion=calls)
    )


def messages_stream(answer: Answer) -> list[bytes]:
    """The answer as the replica serves it for Anthropic's Messages API."""
    protocol = AnthropicMessages(load_profile("anthropic"), load_suite_profile("anthropic"))
    return protocol.stream_events(answer, ANTHROPIC_MODEL)


def responses_stream(answer: Answer) -> list[bytes]:
    """The answer as the replica serves it for OpenAI's Responses API."""
    profile = load_profile("openai_responses")
    protocol = OpenAiResponses(profile, load_suite_profile(profile.name))
    return protocol.stream_events(answer, MODEL, encrypted=False)


def messages_tool_stream(calls: int) -> list[bytes]:
    return messages_stream(tool_answer(calls))


def responses_text_stream(chunks: int) -> list[bytes]:
    return responses_stream(text_answer(chunks))


def responses_tool_stream(calls: int) -> list[bytes]:
    return responses_stream(tool_answer(calls))


def serving(pieces: list[bytes]) -> httpx2.MockTransport:
    """Every request gets a fresh response over the same pieces."""

    def handle(request: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(
            200, headers={"content-type": "text/event-stream"}, stream=PieceStream(pieces)
        )

    return httpx2.MockTransport(handle)
