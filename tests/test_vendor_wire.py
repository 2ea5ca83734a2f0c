"""Vendor wire facts read as profile data, through a real httpx2 transport: each vendor's
documented oddity in, the one event grammar out."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, TypeVar

import pytest
from support import FAKE_KEY, FakeVendor, ask, assert_grammar, collect, collect_until_error

from contracts.protocols import protocol_for
from contracts.protocols.openai_chat import chat_facts
from contracts.replica.server import ScriptedResponse
from contracts.spec import Answer, UsageSpec
from contracts.wire import chunk, sse_body, tool_delta, usage_report
from providers import (
    AssistantMessage,
    CompletionRequest,
    InvalidRequestError,
    MessageDelta,
    ModelNotFoundError,
    RateLimitError,
    StopReason,
    StreamError,
    TextDelta,
    ThinkingDelta,
    ToolResultMessage,
    ToolUseEnd,
    Usage,
    UserMessage,
    load_profile,
)
from providers.streaming.response import response_from_events
from providers.vendors import PROFILE_DIR, VENDOR_DIRS_ENV

T = TypeVar("T")
ROLE = chunk({"role": "assistant", "content": ""})


def of_type(events: list[Any], kind: type[T]) -> list[T]:
    return [e for e in events if isinstance(e, kind)]


def joined(events: list[Any], kind: type[TextDelta | ThinkingDelta]) -> str:
    return "".join(e.text for e in of_type(events, kind))


def replica_serves(vendor: str, answer: Answer, model: str, *, stream: bool) -> ScriptedResponse:
    """What the replica answers for `vendor`, as its wire facts lay it out."""
    request = {"model": model, "stream": stream}
    return protocol_for(load_profile(vendor)).answer_response(answer, request)


async def test_groq_usage_in_x_groq_then_repeated_top_level_is_counted_once(
    vendor: FakeVendor,
) -> None:
    finish = {**chunk(finish="stop"), "x_groq": {"id": "req_1", "usage": usage_report(9, 4)}}
    repeat = chunk(usage=usage_report(9, 4), choices=False)
    vendor.sse([ROLE, chunk({"content": "hi"}), finish, repeat])
    events = await collect(vendor.provider("groq").stream(ask()))
    assert_grammar(events)
    assert of_type(events, Usage) == [Usage(input_tokens=9, output_tokens=4)]


async def test_groq_usage_only_in_x_groq_is_read_not_estimated(vendor: FakeVendor) -> None:
    finish = {**chunk(finish="stop"), "x_groq": {"usage": usage_report(9, 4)}}
    vendor.sse([ROLE, chunk({"content": "hi"}), finish])
    events = await collect(vendor.provider("groq").stream(ask()))
    assert joined(events, TextDelta) == "hi"
    assert of_type(events, Usage) == [Usage(input_tokens=9, output_tokens=4)]


async def test_xai_reasoning_tokens_outside_completion_are_added_to_output(
    vendor: FakeVendor,
) -> None:
    report = {
        "prompt_tokens": 10,
        "completion_tokens": 3,
        "total_tokens": 20,
        "completion_tokens_details": {"reasoning_tokens": 7},
    }
    vendor.sse([ROLE, chunk({"content": "hi"}), chunk(finish="stop", usage=report)])
    events = await collect(vendor.provider("xai").stream(ask()))
    assert of_type(events, Usage) == [Usage(input_tokens=10, output_tokens=10, reasoning_tokens=7)]


async def test_reasoning_tokens_inside_completion_are_not_added_twice(vendor: FakeVendor) -> None:
    report = usage_report(10, 9, reasoning=7)
    vendor.sse([ROLE, chunk({"content": "hi"}), chunk(finish="stop", usage=report)])
    events = await collect(vendor.provider("openai").stream(ask()))
    assert of_type(events, Usage) == [Usage(input_tokens=10, output_tokens=9, reasoning_tokens=7)]


async def test_azure_key_goes_in_its_api_key_header_never_as_a_bearer_token(
    vendor: FakeVendor,
) -> None:
    vendor.sse([ROLE, chunk({"content": "hi"}), chunk(finish="stop")])
    await collect(vendor.provider("azure_openai").stream(ask()))
    sent = vendor.requests[0].headers
    assert sent["api-key"] == FAKE_KEY
    assert "authorization" not in sent


async def test_profile_query_params_ride_on_every_request(
    vendor: FakeVendor, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Azure's classic deployment path: api-version, as profile data, on each request."""
    text = (PROFILE_DIR / "azure_openai.toml").read_text()
    text = text.replace('name = "azure_openai"', 'name = "azure_classic"')
    (tmp_path / "azure_classic.toml").write_text(text.replace("# query_params", "query_params"))
    monkeypatch.setenv(VENDOR_DIRS_ENV, str(tmp_path))
    for _ in range(2):
        vendor.sse([ROLE, chunk({"content": "hi"}), chunk(finish="stop")])
    base = "https://res.openai.azure.com/openai/deployments/gpt-4o"
    provider = vendor.provider("azure_classic", base_url=base)
    for _ in range(2):
        await collect(provider.stream(ask()))
    for request in vendor.requests:
        assert request.url.params["api-version"] == "2024-10-21"
        assert request.url.path == "/openai/deployments/gpt-4o/chat/completions"


async def test_azure_filter_results_chunk_before_the_answer_is_neither_content_nor_usage(
    vendor: FakeVendor,
) -> None:
    (lead,) = chat_facts(load_profile("azure_openai")).lead_chunks
    offsets = {"choices": [{"index": 0, "finish_reason": None, "content_filter_offsets": {}}]}
    vendor.sse([lead, ROLE, chunk({"content": "hi"}), offsets, chunk(finish="stop")])
    events = await collect(vendor.provider("azure_openai").stream(ask("1234")))
    assert_grammar(events)
    assert joined(events, TextDelta) == "hi"
    (usage,) = of_type(events, Usage)
    assert usage.estimated


async def test_azure_content_filter_refusal_is_an_invalid_request_naming_the_filter(
    vendor: FakeVendor,
) -> None:
    message = "The response was filtered due to the prompt triggering Azure's content policy."
    body = {
        "error": {
            "message": message,
            "type": None,
            "param": "prompt",
            "code": "content_filter",
            "status": 400,
            "innererror": {
                "code": "ResponsibleAIPolicyViolation",
                "content_filter_result": {"hate": {"filtered": True, "severity": "high"}},
            },
        }
    }
    vendor.reply(body, status=400)
    with pytest.raises(InvalidRequestError) as raised:
        await collect(vendor.provider("azure_openai").stream(ask()))
    assert type(raised.value) is InvalidRequestError
    assert not raised.value.retryable
    assert "content policy" in str(raised.value)


async def test_llamacpp_timings_beside_usage_are_not_read_as_usage(vendor: FakeVendor) -> None:
    timings = {"timings": {"prompt_n": 99, "predicted_n": 77, "predicted_ms": 52.1}}
    vendor.sse(
        [
            {**ROLE, **timings},
            {**chunk({"content": "hi"}), **timings},
            {**chunk(finish="stop"), **timings},
            {**chunk(usage=usage_report(5, 2), choices=False), **timings},
        ]
    )
    events = await collect(vendor.provider("llamacpp").stream(ask()))
    assert of_type(events, Usage) == [Usage(input_tokens=5, output_tokens=2)]


async def test_vllm_object_error_mid_stream_is_a_stream_error_with_its_message(
    vendor: FakeVendor,
) -> None:
    failure = {"object": "error", "message": "engine died", "type": "InternalServerError"}
    vendor.sse([ROLE, chunk({"content": "hi"}), {**failure, "param": None, "code": 500}])
    events, error = await collect_until_error(vendor.provider("vllm").stream(ask()))
    assert isinstance(error, StreamError)
    assert "engine died" in str(error)
    assert not any(isinstance(e, Usage) for e in events)


async def test_vllm_object_error_status_maps_like_the_status(vendor: FakeVendor) -> None:
    body = {"object": "error", "message": "no such model", "type": "NotFoundError", "code": 404}
    vendor.reply({**body, "param": None}, status=404)
    with pytest.raises(ModelNotFoundError, match="no such model"):
        await collect(vendor.provider("vllm").stream(ask()))


async def test_ollama_tool_calls_finishing_stop_still_stop_for_tool_use(vendor: FakeVendor) -> None:
    call = tool_delta(0, call_id="call_1", name="get_weather", arguments='{"city": "Oslo"}')
    vendor.sse([ROLE, chunk({"tool_calls": [call]}), chunk(finish="stop")])
    events = await collect(vendor.provider("ollama").stream(ask()))
    assert_grammar(events)
    (delta,) = of_type(events, MessageDelta)
    assert (delta.stop_reason, delta.raw_stop_reason) == (StopReason.TOOL_USE, "stop")


async def test_cerebras_stream_without_done_ends_on_its_finish_chunk(vendor: FakeVendor) -> None:
    finish = chunk(finish="stop", usage=usage_report(6, 1))
    vendor.sse([ROLE, chunk({"content": "hi"}), finish], done=False)
    events = await collect(vendor.provider("cerebras").stream(ask()))
    assert_grammar(events)
    assert of_type(events, Usage) == [Usage(input_tokens=6, output_tokens=1)]


async def test_openrouter_error_chunk_finishing_error_raises_once_with_its_message(
    vendor: FakeVendor,
) -> None:
    failing = {
        **chunk(finish="error"),
        "error": {"code": 502, "message": "Provider returned error"},
    }
    keepalive = b": OPENROUTER PROCESSING\n\n"
    first = sse_body([ROLE, chunk({"content": "hi"})], done=False)
    vendor.sse([], pieces=[keepalive, first, keepalive, sse_body([failing])])
    events, error = await collect_until_error(vendor.provider("openrouter").stream(ask()))
    assert isinstance(error, StreamError)
    assert "Provider returned error" in str(error)
    assert joined(events, TextDelta) == "hi"
    assert not of_type(events, MessageDelta)


async def test_openrouter_429_with_integer_code_and_metadata_raw_is_a_retryable_rate_limit(
    vendor: FakeVendor,
) -> None:
    raw = '{"error": {"message": "upstream busy"}}'
    body = {
        "error": {
            "code": 429,
            "message": "Provider returned error",
            "metadata": {"raw": raw, "provider_name": "DeepInfra"},
        }
    }
    vendor.reply(body, status=429, headers={"retry-after": "3"})
    with pytest.raises(RateLimitError) as raised:
        await collect(vendor.provider("openrouter").stream(ask()))
    assert raised.value.retryable
    assert raised.value.retry_after == 3


async def test_mistral_two_calls_in_one_delta_without_index_are_told_apart_by_id(
    vendor: FakeVendor,
) -> None:
    calls = [
        tool_delta(None, call_id="aaaaaaaa1", name="get_weather", arguments='{"city": "Oslo"}'),
        tool_delta(None, call_id="bbbbbbbb2", name="get_time", arguments='{"tz": "UTC"}'),
    ]
    vendor.sse([ROLE, chunk({"tool_calls": calls}), chunk(finish="tool_calls")])
    events = await collect(vendor.provider("mistral").stream(ask()))
    assert_grammar(events)
    got = [(end.id, end.name, end.input) for end in of_type(events, ToolUseEnd)]
    assert got == [
        ("aaaaaaaa1", "get_weather", {"city": "Oslo"}),
        ("bbbbbbbb2", "get_time", {"tz": "UTC"}),
    ]


async def test_mistral_content_switching_between_string_and_parts_keeps_every_piece(
    vendor: FakeVendor,
) -> None:
    thinking = {"type": "thinking", "thinking": [{"type": "text", "text": "hmm"}]}
    vendor.sse(
        [
            ROLE,
            chunk({"content": [thinking]}),
            chunk({"content": "Hel"}),
            chunk({"content": [{"type": "text", "text": "lo"}]}),
            chunk({"content": "!"}),
            chunk(finish="stop"),
        ]
    )
    events = await collect(vendor.provider("mistral").stream(ask()))
    assert_grammar(events)
    assert joined(events, TextDelta) == "Hello!"
    assert joined(events, ThinkingDelta) == "hmm"


async def test_mistral_reasoning_answer_from_the_replica_reads_back_whole(
    vendor: FakeVendor,
) -> None:
    """The replica's Magistral shape (strings and typed parts mixed) through the provider."""
    answer = Answer(
        text=("Hel", "lo", "!"),
        thinking=("hm", "m"),
        finish="stop",
        usage=UsageSpec(prompt=3, completion=5),
    )
    served = replica_serves("mistral", answer, "magistral-small-latest", stream=True)
    assert b'"type": "text"' in served.body
    assert b'"type": "thinking"' in served.body
    vendor.sse([], pieces=list(served.pieces))
    events = await collect(vendor.provider("mistral").stream(ask()))
    assert_grammar(events)
    assert joined(events, TextDelta) == "Hello!"
    assert joined(events, ThinkingDelta) == "hmm"


async def test_gemini_thought_signature_is_kept_on_the_call_and_echoed_next_turn(
    vendor: FakeVendor,
) -> None:
    signature = {"google": {"thought_signature": "c2lnbmF0dXJl"}}
    call = tool_delta(None, call_id="fc-1", name="lookup", arguments='{"q": "a"}')
    standalone = {"extra_content": {"google": {"thought_signature": "bGF0ZXI="}}}
    vendor.sse(
        [
            chunk({"role": "assistant", "tool_calls": [{**call, "extra_content": signature}]}),
            chunk({"tool_calls": [tool_delta(None, call_id="fc-2", name="lookup")]}),
            chunk({"tool_calls": [tool_delta(None, arguments='{"q": "b"}')]}),
            chunk({"tool_calls": [standalone]}),
            chunk(finish="stop"),
        ],
        done=False,
    )
    provider = vendor.provider("gemini")
    events = await collect(provider.stream(ask("look both up")))
    first = response_from_events(events, raw_model="gemini-3-pro-preview", request_id=None)
    assert [c.provider_data for c in first.tool_calls] == [
        {"extra_content": signature},
        standalone,
    ]
    vendor.sse([chunk({"content": "done"}), chunk(finish="stop")], done=False)
    follow_up = (
        UserMessage(content="look both up"),
        AssistantMessage(tool_calls=first.tool_calls),
        ToolResultMessage(tool_call_id="fc-1", content="A"),
        ToolResultMessage(tool_call_id="fc-2", content="B"),
    )
    await collect(provider.stream(CompletionRequest(messages=follow_up)))
    sent = vendor.sent_json()["messages"][1]["tool_calls"]
    assert [c["extra_content"] for c in sent] == [signature, standalone["extra_content"]]
    assert [c["id"] for c in sent] == ["fc-1", "fc-2"]


async def test_tool_call_fields_outside_the_profile_are_not_echoed(vendor: FakeVendor) -> None:
    call = tool_delta(0, call_id="call_1", name="lookup", arguments="{}")
    vendor.sse([chunk({"tool_calls": [{**call, "extra_content": {"x": 1}}]}), chunk(finish="stop")])
    events = await collect(vendor.provider("openai").stream(ask()))
    (end,) = of_type(events, ToolUseEnd)
    assert end.provider_data is None


async def test_glm_leading_newline_before_reasoning_opens_no_block_of_its_own(
    vendor: FakeVendor,
) -> None:
    vendor.sse(
        [
            ROLE,
            chunk({"content": "\n"}),
            chunk({"reasoning_content": "think"}),
            chunk({"content": "\n\nHi"}),
            chunk(finish="stop", usage=usage_report(4, 3)),
        ]
    )
    events = await collect(vendor.provider("glm").stream(ask()))
    assert_grammar(events)
    kinds = [type(e).__name__ for e in events if isinstance(e, TextDelta | ThinkingDelta)]
    assert kinds == ["ThinkingDelta", "TextDelta"]
    assert joined(events, TextDelta) == "\n\n\nHi"


async def test_whitespace_only_answer_still_comes_out_whole(vendor: FakeVendor) -> None:
    vendor.sse([ROLE, chunk({"content": " "}), chunk({"content": "\n"}), chunk(finish="stop")])
    events = await collect(vendor.provider("glm").stream(ask()))
    assert_grammar(events)
    assert [e.text for e in of_type(events, TextDelta)] == [" \n"]


async def test_deepseek_402_insufficient_balance_is_not_retryable(vendor: FakeVendor) -> None:
    body = {"error": {"message": "Insufficient Balance", "type": "unknown_error", "code": None}}
    vendor.reply(body, status=402)
    with pytest.raises(InvalidRequestError, match="Insufficient Balance") as raised:
        await collect(vendor.provider("deepseek").stream(ask()))
    assert not raised.value.retryable


async def test_groq_error_event_from_the_replica_raises_a_stream_error(vendor: FakeVendor) -> None:
    answer = Answer(text=("Hel",), error="upstream model crashed")
    served = replica_serves("groq", answer, "llama-3.3-70b-versatile", stream=True)
    assert served.body.endswith(b'"server_error"}}\n\n')
    vendor.sse([], pieces=list(served.pieces))
    events, error = await collect_until_error(vendor.provider("groq").stream(ask()))
    assert isinstance(error, StreamError)
    assert "upstream model crashed" in str(error)
    assert joined(events, TextDelta) == "Hel"


async def test_xai_alias_answer_reports_the_model_that_answered(vendor: FakeVendor) -> None:
    answer = Answer(text=("hi",), finish="stop", usage=UsageSpec(prompt=2, completion=1))
    served = replica_serves("xai", answer, "grok-4-fast", stream=False)
    vendor.reply(json.loads(served.body))
    response = await vendor.provider("xai").complete(ask())
    assert vendor.sent_json()["model"] == "grok-4-fast"
    assert response.model == "grok-4-fast-reasoning"
    assert response.text == "hi"
