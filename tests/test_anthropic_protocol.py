"""The Anthropic Messages protocol on the suite's side: the independent reader on exact
bytes (streamed and whole), and what the replica serves for answers and faults."""

from __future__ import annotations

import json
from typing import Any

from contracts.observed import Exchange
from contracts.protocols import protocol_for
from contracts.spec import Answer, Fault, RequestSpec, ToolCallSpec, UsageSpec
from providers import load_profile

PROTOCOL = protocol_for(load_profile("anthropic"))


def _streamed(*events: object) -> Answer:
    body = "".join(f"data: {json.dumps(event)}\n\n" for event in events)
    answer = PROTOCOL.read(Exchange({"stream": True}, 200, "text/event-stream", body))
    assert answer is not None
    return answer


def _whole(message: dict[str, Any]) -> Answer:
    answer = PROTOCOL.read(Exchange({}, 200, "application/json", json.dumps(message)))
    assert answer is not None
    return answer


def _start(index: int, block: dict[str, Any]) -> dict[str, Any]:
    return {"type": "content_block_start", "index": index, "content_block": block}


def _delta(index: int, delta: dict[str, Any]) -> dict[str, Any]:
    return {"type": "content_block_delta", "index": index, "delta": delta}


def test_the_reader_gathers_every_kind_of_block_from_a_stream() -> None:
    answer = _streamed(
        {"type": "message_start", "message": {"usage": {"input_tokens": 5, "output_tokens": 1}}},
        _start(0, {"type": "thinking", "thinking": "Hm"}),
        _delta(0, {"type": "thinking_delta", "thinking": "m."}),
        _start(1, {"type": "text", "text": "A"}),
        _delta(1, {"type": "text_delta", "text": "B"}),
        _start(2, {"type": "tool_use", "id": "t1", "name": "f", "input": {}}),
        _delta(2, {"type": "input_json_delta", "partial_json": '{"x":'}),
        _delta(2, {"type": "input_json_delta", "partial_json": " 1}"}),
        _delta(1, {"type": "input_json_delta", "partial_json": "ignored: not a tool block"}),
        {
            "type": "message_delta",
            "delta": {"stop_reason": "tool_use"},
            "usage": {"output_tokens": 7},
        },
        {"type": "message_stop"},
    )
    assert answer.text == ("AB",)
    assert answer.thinking == ("Hmm.",)
    assert answer.tool_calls == (ToolCallSpec(id="t1", name="f", arguments=('{"x": 1}',)),)
    assert answer.finish == "tool_use"
    assert answer.usage == UsageSpec(prompt=5, completion=7)
    assert not answer.truncate


def test_a_later_message_delta_without_stop_reason_keeps_the_earlier_one() -> None:
    answer = _streamed(
        {"type": "message_delta", "delta": {"stop_reason": "max_tokens"}},
        {"type": "message_delta", "delta": {}, "usage": {"output_tokens": 3}},
    )
    assert answer.finish == "max_tokens"
    assert answer.usage == UsageSpec(prompt=0, completion=3)


def test_a_stream_without_usage_or_stop_is_unreported_and_truncated() -> None:
    answer = _streamed(
        _start(0, {"type": "text"}), _delta(0, {"type": "text_delta"}), "not an object"
    )
    assert answer.text == ("",)
    assert answer.usage == "none"
    assert answer.truncate


def test_a_streamed_tool_block_with_its_input_given_at_start_keeps_it() -> None:
    answer = _streamed(_start(0, {"type": "tool_use", "id": "t", "name": "f", "input": {"a": 1}}))
    assert answer.tool_calls[0].joined == '{"a": 1}'


def test_the_reader_reads_a_whole_message() -> None:
    answer = _whole(
        {
            "content": [
                {"type": "thinking", "thinking": "T"},
                {"type": "text", "text": "Hi"},
                {"type": "tool_use", "id": "t", "name": "f", "input": {}},
                "not a block",
            ],
            "stop_reason": "end_turn",
            "usage": {"input_tokens": 2, "output_tokens": 4, "service_tier": "standard"},
        }
    )
    assert (answer.text, answer.thinking) == (("Hi",), ("T",))
    assert answer.tool_calls == (ToolCallSpec(id="t", name="f", arguments=("{}",)),)
    assert answer.finish == "end_turn"
    assert answer.usage == UsageSpec(prompt=2, completion=4)


def test_an_error_status_has_no_answer() -> None:
    assert PROTOCOL.read(Exchange({}, 429, "application/json", "{}")) is None


def test_deltas_without_a_block_index_are_not_read() -> None:
    unindexed = {"type": "content_block_delta", "delta": {"type": "text_delta", "text": "x"}}
    stop = {"type": "content_block_stop", "index": 0, "delta": {"type": "text_delta", "text": "y"}}
    assert _streamed(unindexed, stop).text == ("",)


def test_input_counts_alone_report_zero_output() -> None:
    start = {"type": "message_start", "message": {"usage": {"input_tokens": 5}}}
    assert _streamed(start).usage == UsageSpec(prompt=5, completion=0)


def test_an_error_shape_says_whether_it_was_streamed() -> None:
    body = '{"type": "error", "error": {"type": "overloaded_error", "message": "x"}}'
    assert PROTOCOL.wire_shape(Exchange(None, 529, "text/event-stream", body)).streamed is True
    assert PROTOCOL.wire_shape(Exchange(None, 529, "application/json", body)).streamed is False


def test_request_judgement_accepts_the_cap_and_tools_asked_for() -> None:
    spec = RequestSpec(
        messages=({"role": "user", "content": "hi"},),
        max_tokens=9,
        tools=({"name": "f", "description": "", "parameters": {"type": "object"}},),
    )
    tools = [{"name": "f", "input_schema": {"type": "object"}}]
    assert PROTOCOL.judge_protocol({"max_tokens": 9, "tools": tools, "messages": []}, spec) == []
    assert PROTOCOL.judge_protocol({"max_tokens": 8, "tools": [{"name": "g"}]}, spec) == [
        "max_tokens=9 not sent as max_tokens",
        "tools sent ['g'], expected ['f']",
        "a tool without input_schema",
    ]


def _served(answer: Answer, *, stream: bool) -> Any:
    reply = PROTOCOL.answer_response(answer, {"model": "claude-x", "stream": stream})
    if not stream:
        return json.loads(reply.body)
    lines = reply.body.decode().splitlines()
    return [json.loads(line[6:]) for line in lines if line.startswith("data: ")]


ANSWER = Answer(
    text=("Hel", "lo"),
    thinking=("Th",),
    tool_calls=(ToolCallSpec(id="t", name="f", arguments=('{"a"', ": 1}")),),
    finish="stop",
    usage=UsageSpec(prompt=3, completion=5),
)


def test_the_replica_streams_blocks_in_order_with_usage_and_the_stop_word() -> None:
    events = _served(ANSWER, stream=True)
    assert [e["type"] for e in events][:2] == ["message_start", "ping"]
    start = events[0]["message"]
    assert (start["model"], start["usage"]) == ("claude-x", {"input_tokens": 3, "output_tokens": 1})
    assert start["id"] == PROTOCOL.facts.message_id
    starts = [e["content_block"] for e in events if e["type"] == "content_block_start"]
    assert [block["type"] for block in starts] == ["thinking", "text", "tool_use"]
    assert starts[2] == {"type": "tool_use", "id": "t", "name": "f", "input": {}}
    signature = [e["delta"] for e in events if e.get("delta", {}).get("type") == "signature_delta"]
    assert signature == [{"type": "signature_delta", "signature": PROTOCOL.facts.signature}]
    assert events[-2] == {
        "type": "message_delta",
        "delta": {"stop_reason": "end_turn", "stop_sequence": None},
        "usage": {"output_tokens": 5},
    }
    assert events[-1] == {"type": "message_stop"}


def test_the_replica_serves_a_whole_message_with_parsed_tool_input() -> None:
    message = _served(ANSWER, stream=False)
    assert message["content"] == [
        {"type": "thinking", "thinking": "Th", "signature": PROTOCOL.facts.signature},
        {"type": "text", "text": "Hello"},
        {"type": "tool_use", "id": "t", "name": "f", "input": {"a": 1}},
    ]
    assert (message["stop_reason"], message["stop_sequence"]) == ("end_turn", None)
    assert message["usage"] == {"input_tokens": 3, "output_tokens": 5}
    assert (message["type"], message["role"]) == ("message", "assistant")


def test_an_answer_without_usage_or_finish_is_served_with_zero_counts_and_no_stop() -> None:
    message = _served(Answer(text=("x",), finish=None), stream=False)
    assert message["usage"] == {"input_tokens": 0, "output_tokens": 0}
    assert message["stop_reason"] is None


def test_a_truncated_or_failing_stream_sends_no_message_delta() -> None:
    truncated = _served(Answer(text=("x",), finish="stop", truncate=True), stream=True)
    assert [e["type"] for e in truncated][-1] == "content_block_stop"
    failing = _served(Answer(text=("x",), finish="stop", error="Overloaded"), stream=True)
    assert failing[-1] == {
        "type": "error",
        "error": {"type": "overloaded_error", "message": "Overloaded"},
    }


def test_finish_words_are_said_the_anthropic_way_and_others_pass_unchanged() -> None:
    words = {
        w: PROTOCOL.finish_on_wire(w) for w in ("stop", "length", "tool_calls", "content_filter")
    }
    assert words == {
        "stop": "end_turn",
        "length": "max_tokens",
        "tool_calls": "tool_use",
        "content_filter": "refusal",
    }
    assert PROTOCOL.finish_on_wire("pause_turn") == "pause_turn"


def test_error_bodies_name_the_anthropic_type_for_each_status() -> None:
    types = {
        status: json.loads(
            PROTOCOL.error_response(Fault(status=status, message="m", code="c")).body
        )
        for status in (400, 401, 403, 404, 413, 429, 500, 529)
    }
    assert {status: body["error"]["type"] for status, body in types.items()} == {
        400: "invalid_request_error",
        401: "authentication_error",
        403: "permission_error",
        404: "not_found_error",
        413: "request_too_large",
        429: "rate_limit_error",
        500: "api_error",
        529: "overloaded_error",
    }
    assert types[401] == {
        "type": "error",
        "error": {"type": "authentication_error", "message": "m"},
    }
