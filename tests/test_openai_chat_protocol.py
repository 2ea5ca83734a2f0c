"""The Chat Completions protocol on the suite's side: drift's traits of a recording (error
shape, usage placement, tool-call style, role chunk, [DONE]), where they contradict a
profile, the independent reader's edge cases, and each vendor's error body."""

from __future__ import annotations

import json
from typing import Any

import pytest

from contracts.observed import Exchange
from contracts.protocols import WireProtocol, protocol_for
from contracts.protocols.openai_chat import OpenAiChat
from contracts.spec import Answer, Fault, RequestSpec, ToolCallSpec, UsageSpec
from providers import load_profile


def _protocol(vendor: str) -> WireProtocol:
    return protocol_for(load_profile(vendor))


def _stream(*chunks: object, done: bool = True) -> Exchange:
    body = "".join(f"data: {json.dumps(chunk)}\n\n" for chunk in chunks)
    return Exchange(
        {"stream": True}, 200, "text/event-stream", body + ("data: [DONE]\n\n" if done else "")
    )


def _choice(finish: str | None = None, **delta: object) -> dict[str, Any]:
    return {"choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}


USAGE = {"prompt_tokens": 3, "completion_tokens": 2}


def _traits(exchange: Exchange, vendor: str = "openai") -> dict[str, object]:
    return dict(_protocol(vendor).wire_shape(exchange).traits)


@pytest.mark.parametrize(
    ("body", "shape"),
    [
        ('{"error": {"message": "x"}}', "openai"),
        ('[{"error": {"code": 400}}]', "google_list"),
        ('{"object": "error", "message": "x", "code": 400}', "object_error"),
        ('{"detail": "Unauthorized"}', "mistral"),
        ('{"object": "error", "code": "400"}', "mistral"),
        ('"just a string"', "plain_text"),
        ("Bad gateway", "plain_text"),
    ],
)
def test_an_error_body_is_classed_by_its_shape(body: str, shape: str) -> None:
    exchange = Exchange({}, 400, "application/json", body)
    assert _traits(exchange) == {"error_shape": shape}
    assert _protocol("openai").wire_shape(exchange).fields == frozenset()


@pytest.mark.parametrize(
    ("chunks", "placement"),
    [
        ((_choice("stop"),), "none"),
        (
            ({**_choice(content="a"), "usage": USAGE}, {**_choice("stop"), "usage": USAGE}),
            "every_chunk",
        ),
        ((_choice(content="a"), {**_choice("stop"), "usage": USAGE}), "finish_chunk"),
        ((_choice("stop"), {"choices": [], "usage": USAGE}), "separate_chunk"),
        (
            ({**_choice(content="a"), "usage": None}, {"choices": [], "usage": USAGE}),
            "separate_chunk",
        ),
        (({"choices": [], "usage": USAGE}, {"choices": [], "usage": USAGE}), "separate_chunk"),
    ],
    ids=["none", "every", "finish", "separate", "null-usage", "repeated-separate"],
)
def test_usage_placement_is_where_the_last_report_sits(
    chunks: tuple[dict[str, Any], ...], placement: str
) -> None:
    assert _traits(_stream(*chunks))["usage_placement"] == placement


def _calls(*fragments: dict[str, Any]) -> dict[str, Any]:
    return {"choices": [{"index": 0, "delta": {"tool_calls": list(fragments)}}]}


@pytest.mark.parametrize(
    ("chunks", "style"),
    [
        ((_choice("stop", content="a"),), "none"),
        (
            (_calls({"id": "a", "function": {"name": "f", "arguments": "{}"}}),),
            "whole_without_index",
        ),
        (
            (
                _calls({"index": 0, "id": "a"}),
                _calls({"index": 0, "function": {"arguments": "{}"}}),
            ),
            "fragmented",
        ),
        ((_calls({"index": 0, "id": "a"}, {"index": 1, "id": "b"}),), "whole"),
    ],
)
def test_tool_call_style_is_read_from_the_fragments(
    chunks: tuple[dict[str, Any], ...], style: str
) -> None:
    assert _traits(_stream(*chunks))["tool_call_style"] == style


def test_role_chunk_and_done_sentinel_are_traits() -> None:
    role_only = _traits(_stream(_choice(role="assistant", content=""), _choice("stop")))
    assert (role_only["role_chunk"], role_only["done_sentinel"]) == (True, True)
    role_with_text = _traits(_stream(_choice(role="assistant", content="Hi"), done=False))
    assert (role_with_text["role_chunk"], role_with_text["done_sentinel"]) == (False, False)


def test_fields_finish_values_and_an_unparsable_chunk_make_the_shape() -> None:
    exchange = Exchange(
        {"stream": True},
        200,
        "text/event-stream",
        'data: {"id": "x", "choices": [{"finish_reason": "stop"}]}\n\ndata: {oops\n\n'
        'data: {"choices": [{"finish_reason": "length"}]}\n\n',
    )
    shape = _protocol("openai").wire_shape(exchange)
    assert shape.streamed
    assert shape.finish_values == ("length", "stop")
    assert shape.fields == {"id", "choices", "choices[].finish_reason", "<unparsable>"}


def test_a_whole_completion_has_a_shape_too() -> None:
    body = json.dumps({"choices": [{"message": {"content": "x"}, "finish_reason": "stop"}]})
    shape = _protocol("openai").wire_shape(Exchange({}, 200, "application/json", body))
    assert not shape.streamed
    assert shape.finish_values == ("stop",)
    assert _protocol("openai").mismatches(shape) == []


def test_mismatches_name_each_trait_the_profile_gets_wrong() -> None:
    protocol = _protocol("openai")  # separate_chunk, fragmented, openai errors
    assert protocol.mismatches(protocol.wire_shape(Exchange({}, 400, "", '{"error": {}}'))) == []
    assert protocol.mismatches(protocol.wire_shape(Exchange({}, 400, "", "down"))) == [
        "error_shape: profile says 'openai', vendor sent 'plain_text'"
    ]
    shape = protocol.wire_shape(
        _stream(
            _calls({"id": "a", "function": {"name": "f"}}),
            {**_choice("weird_finish"), "usage": USAGE},
        )
    )
    assert protocol.mismatches(shape) == [
        "usage_placement: profile says 'separate_chunk', vendor sent 'finish_chunk'",
        "tool_call_style: profile says 'fragmented', vendor sent 'whole_without_index'",
        "finish_values: vendor sent ['weird_finish'], not in the profile",
    ]
    quiet = protocol.wire_shape(_stream(_choice("stop")))
    assert protocol.mismatches(quiet) == []


def _read(vendor: str, *chunks: object) -> Answer:
    answer = _protocol(vendor).read(_stream(*chunks))
    assert answer is not None
    return answer


def test_the_reader_numbers_calls_by_index_and_by_id() -> None:
    answer = _read(
        "openai",
        _calls({"index": 0, "id": "a", "function": {"name": "f", "arguments": '{"x"'}}),
        _calls({"index": 0, "function": {"arguments": ": 1}"}}),
        _calls({"index": 0, "id": "b", "function": {"name": "g", "arguments": "{}"}}),
        _calls({"index": 1}),
        _choice("tool_calls"),
    )
    assert [(c.id, c.name, c.joined) for c in answer.tool_calls] == [
        ("a", "f", '{"x": 1}'),
        ("b", "g", "{}"),
    ]


def test_without_index_a_named_fragment_starts_a_call_and_others_continue_it() -> None:
    answer = _read(
        "openai",
        _calls({"function": {"arguments": '{"lost'}}),
        _calls({"id": "a", "function": {"name": "f", "arguments": "{"}}),
        _calls({"function": {"arguments": "}"}}),
        _calls({"function": {"name": "g", "arguments": "[]"}}),
    )
    assert [(c.id, c.name, c.joined) for c in answer.tool_calls] == [
        ("", "", '{"lost'),
        ("a", "f", "{}"),
        ("", "g", "[]"),
    ]


def test_the_reader_skips_error_payloads_and_reads_content_parts() -> None:
    parts = [
        {"type": "thinking", "thinking": [{"text": "T1"}, {"text": None}]},
        {"type": "text", "text": "Hi"},
        {"type": "image"},
    ]
    answer = _read(
        "openai",
        {"error": {"message": "x"}, "choices": [{"delta": {"content": "no"}}]},
        {"object": "error", "choices": [{"delta": {"content": "no"}}]},
        {"choices": [{"message": {"content": parts}, "finish_reason": "stop"}]},
        {"choices": [{"delta": {}, "finish_reason": None}]},
    )
    assert answer.text == ("Hi",)
    assert answer.thinking == ("T1",)
    assert answer.finish == "stop"


def test_the_first_reasoning_field_present_is_read() -> None:
    answer = _read(
        "lmstudio", _choice(reasoning_content="", reasoning="R"), _choice(reasoning_content="C")
    )
    assert answer.thinking == ("RC",)


def test_usage_is_found_at_the_vendors_finish_path() -> None:
    groq = _read("groq", {**_choice("stop"), "x_groq": {"usage": USAGE}})
    assert groq.usage == UsageSpec(prompt=3, completion=2)
    openai = _read("openai", {**_choice("stop"), "x_groq": {"usage": USAGE}})
    assert openai.usage == "none"


def test_reasoning_tokens_count_as_output_where_the_vendor_counts_them_apart() -> None:
    usage = {**USAGE, "completion_tokens_details": {"reasoning_tokens": 5}}
    assert _read("xai", {**_choice("stop"), "usage": usage}).usage == UsageSpec(
        prompt=3, completion=7
    )
    assert _read("openai", {**_choice("stop"), "usage": usage}).usage == UsageSpec(
        prompt=3, completion=2
    )
    bare = _read("xai", {**_choice("stop"), "usage": {"completion_tokens": 1}})
    assert bare.usage == UsageSpec(prompt=0, completion=1)


def test_an_error_status_has_no_answer() -> None:
    assert _protocol("openai").read(Exchange({}, 500, "application/json", "{}")) is None


FAULT = Fault(status=429, message="slow down", code="rate_limit_exceeded")


@pytest.mark.parametrize(
    ("vendor", "body"),
    [
        (
            "openai",
            {
                "error": {
                    "message": "slow down",
                    "type": "rate_limit_exceeded",
                    "param": None,
                    "code": "rate_limit_exceeded",
                }
            },
        ),
        ("openrouter", {"error": {"code": 429, "message": "slow down", "metadata": {}}}),
        (
            "gemini",
            [{"error": {"code": 429, "message": "slow down", "status": "RESOURCE_EXHAUSTED"}}],
        ),
        (
            "mistral",
            {
                "object": "error",
                "message": "slow down",
                "type": "rate_limit_exceeded",
                "param": None,
                "code": None,
            },
        ),
        # vLLM 0.32 answers in OpenAI's shape (older servers sent a top-level object error).
        (
            "vllm",
            {
                "error": {
                    "message": "slow down",
                    "type": "rate_limit_exceeded",
                    "param": None,
                    "code": "rate_limit_exceeded",
                }
            },
        ),
    ],
)
def test_each_error_shape_serves_the_vendors_body(vendor: str, body: object) -> None:
    reply = _protocol(vendor).error_response(FAULT)
    assert reply.status == 429
    assert json.loads(reply.body) == body


def test_mistral_answers_a_bad_key_with_its_bare_detail() -> None:
    reply = _protocol("mistral").error_response(Fault(status=401, message="m", code="c"))
    assert json.loads(reply.body) == {"detail": "Unauthorized"}


def test_an_unknown_status_is_unknown_in_the_google_list() -> None:
    reply = _protocol("gemini").error_response(Fault(status=418, message="m", code="c"))
    assert json.loads(reply.body)[0]["error"]["status"] == "UNKNOWN"


# -- what the replica serves, dialect by dialect ----------------------------------------------


def _served(vendor: str, answer: Answer, **request: object) -> list[str]:
    """The raw SSE events the replica sends (comments and event names kept)."""
    reply = _protocol(vendor).answer_response(answer, {"model": "m", "stream": True, **request})
    return [event for event in reply.body.decode().split("\n\n") if event]


def _payloads(events: list[str]) -> list[Any]:
    data = [line[6:] for event in events for line in event.split("\n") if line.startswith("data: ")]
    return [json.loads(item) if item != "[DONE]" else item for item in data]


TEXT = Answer(text=("Hel", "lo"), finish="stop", usage=UsageSpec(prompt=3, completion=2))
FAILING = Answer(text=("Hel",), finish="stop", error="upstream died")


@pytest.mark.parametrize(
    ("vendor", "failure"),
    [
        ("openai", {"error": {"message": "upstream died", "type": "server_error"}}),
        ("vllm", {"error": {"message": "upstream died", "type": "server_error"}}),
    ],
)
def test_a_midstream_failure_is_a_lone_error_in_the_vendors_shape(
    vendor: str, failure: dict[str, Any]
) -> None:
    payloads = _payloads(_served(vendor, FAILING))
    assert payloads[-2:] == [failure, "[DONE]"]
    assert all(
        p in (failure, "[DONE]") or p["choices"][0]["finish_reason"] is None for p in payloads
    )


def test_openrouter_fails_midstream_with_a_finish_error_chunk_and_the_status_code() -> None:
    failure = _payloads(_served("openrouter", FAILING))[-2]
    assert failure["error"] == {"code": 502, "message": "upstream died"}
    assert failure["choices"][0]["finish_reason"] == "error"
    assert failure["model"] == "m"


def test_groq_fails_midstream_under_an_error_event_with_nothing_after() -> None:
    events = _served("groq", FAILING)
    assert events[-1].startswith("event: error\ndata: ")
    assert _payloads(events[-1:]) == [
        {"error": {"message": "upstream died", "type": "server_error"}}
    ]


def test_leading_comments_and_lead_chunks_come_first() -> None:
    assert _served("openrouter", TEXT)[0] == ": OPENROUTER PROCESSING"
    azure = _payloads(_served("azure_openai", TEXT))
    assert azure[0]["choices"] == []
    assert "prompt_filter_results" in azure[0]


def test_the_role_chunk_and_done_follow_the_profile() -> None:
    openai = _payloads(_served("openai", TEXT))
    assert openai[0]["choices"][0]["delta"] == {"role": "assistant", "content": ""}
    assert openai[-1] == "[DONE]"
    assert "[DONE]" not in _payloads(_served("cerebras", TEXT))
    proxy = _payloads(_served("claude_subscription", TEXT))
    assert proxy[0]["choices"][0]["delta"] == {"content": "Hel"}


def test_a_truncated_stream_has_no_finish_and_no_done() -> None:
    payloads = _payloads(_served("openai", TEXT.model_copy(update={"truncate": True})))
    assert payloads[-1] != "[DONE]"
    assert all(p["choices"][0]["finish_reason"] is None for p in payloads if p["choices"])


def test_usage_is_sent_where_each_vendor_places_it() -> None:
    report = {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5}
    asked = _payloads(_served("openai", TEXT, stream_options={"include_usage": True}))
    assert asked[-3]["choices"][0]["finish_reason"] == "stop"
    assert (asked[-2]["choices"], asked[-2]["usage"]) == ([], report)
    not_asked = _payloads(_served("openai", TEXT))
    assert all("usage" not in p for p in not_asked if p != "[DONE]")
    finish = _payloads(_served("glm", TEXT))[-2]
    assert (finish["choices"][0]["finish_reason"], finish["usage"]) == ("stop", report)
    groq = _payloads(_served("groq", TEXT))
    assert groq[-2]["x_groq"] == {"usage": report}
    every = [p["usage"]["completion_tokens"] for p in _payloads(_served("gemini", TEXT))[:-1]]
    assert every == sorted(every)
    assert every[-1] == 2


def test_tool_calls_finish_in_the_vendors_word() -> None:
    calls = Answer(
        tool_calls=(ToolCallSpec(id="c", name="f", arguments=("{}",)),), finish="tool_calls"
    )
    finishes = {
        vendor: [
            p["choices"][0]["finish_reason"]
            for p in _payloads(_served(vendor, calls))
            if p != "[DONE]" and p["choices"]
        ][-1]
        for vendor in ("openai", "ollama")
    }
    assert finishes == {"openai": "tool_calls", "ollama": "stop"}


def test_glm_streams_its_leading_newline_before_reasoning() -> None:
    thinking = Answer(thinking=("T",), text=("A",), finish="stop")
    deltas = [
        p["choices"][0]["delta"] for p in _payloads(_served("glm", thinking)) if p != "[DONE]"
    ]
    assert deltas[:3] == [
        {"role": "assistant", "content": ""},
        {"content": "\n"},
        {"reasoning_content": "T"},
    ]
    assert _protocol("glm").as_sent(thinking, streamed=True).text == ("\n", "A")
    assert _protocol("glm").as_sent(thinking, streamed=False).text == ("A",)


def test_mistral_alternates_text_between_strings_and_parts_when_reasoning() -> None:
    thinking = Answer(thinking=("T",), text=("a", "b"), finish="stop")
    contents = [
        p["choices"][0]["delta"].get("content")
        for p in _payloads(_served("mistral", thinking))
        if p != "[DONE]"
    ]
    assert contents[1:4] == [
        [{"type": "thinking", "thinking": [{"type": "text", "text": "T"}]}],
        "a",
        [{"type": "text", "text": "b"}],
    ]


def test_a_plain_text_error_keeps_its_retry_after() -> None:
    # A protocol of its own: the one protocol_for binds is shared by every later caller.
    shared = _protocol("openai")
    protocol = OpenAiChat(shared.profile, shared.suite)
    protocol.facts = protocol.facts.model_copy(update={"error_shape": "plain_text"})
    reply = protocol.error_response(Fault(status=429, message="slow", code="c", retry_after=7))
    assert (reply.status, reply.body) == (429, b"slow")
    assert reply.headers["retry-after"] == "7"


def test_every_chunk_usage_counts_up_to_the_final_report() -> None:
    every = [p["usage"]["completion_tokens"] for p in _payloads(_served("gemini", TEXT))[:-1]]
    assert every[0] == 1
    assert every[-1] == 2


def test_calls_without_index_are_served_without_index() -> None:
    calls = Answer(
        tool_calls=(ToolCallSpec(id="c", name="f", arguments=("{}",)),), finish="tool_calls"
    )
    fragments = [
        fragment
        for p in _payloads(_served("gemini", calls))
        if p != "[DONE]"
        for choice in p["choices"]
        for fragment in choice["delta"].get("tool_calls") or []
    ]
    assert fragments
    assert all("index" not in fragment for fragment in fragments)


def test_an_index_reused_under_a_new_id_is_a_new_call_before_the_next_index() -> None:
    answer = _read(
        "openai",
        _calls({"index": 0, "id": "a", "function": {"name": "f"}}),
        _calls({"index": 0, "id": "b", "function": {"name": "g"}}),
        _calls({"index": 1, "id": "c", "function": {"name": "h"}}),
    )
    assert [call.id for call in answer.tool_calls] == ["a", "b", "c"]


def test_request_judgement_of_caps_and_tools() -> None:
    spec = RequestSpec(
        messages=({"role": "user", "content": "hi"},),
        max_tokens=9,
        tools=({"name": "f", "description": "", "parameters": {"type": "object"}},),
    )
    tools = [{"type": "function", "function": {"name": "f"}}]
    openai = _protocol("openai")
    assert openai.judge_protocol({"max_completion_tokens": 9, "tools": tools}, spec) == []
    assert openai.judge_protocol({"max_tokens": 8, "tools": []}, spec) == [
        "max_tokens=9 not sent in a field openai honours (max_tokens or max_completion_tokens)",
        "tools sent [], expected ['f']",
    ]
    assert _protocol("glm").judge_protocol({"max_completion_tokens": 9, "tools": tools}, spec) == [
        "max_tokens=9 not sent in a field glm honours (max_tokens)"
    ]
