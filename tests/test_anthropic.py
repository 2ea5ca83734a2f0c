"""AnthropicProvider through a real httpx2 transport: Messages events in, the one grammar out."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import httpx2
import pytest
from anthropic_wire import (
    KEY,
    answer,
    block_start,
    block_stop,
    body,
    delta,
    message_end,
    message_start,
    provider,
    sse,
    text_block,
    thinking_block,
    tool_block,
)
from support import ask, assert_grammar, collect_until_error

from contracts.transport import PieceStream, replay_transport
from providers import (
    AnthropicProvider,
    AssistantMessage,
    AuthenticationError,
    CompletionRequest,
    ContextLengthError,
    Done,
    ImagePart,
    InvalidRequestError,
    JsonSchemaFormat,
    LlmError,
    MalformedResponseError,
    MessageDelta,
    ModelNotFoundError,
    OpenAiCompatibleProvider,
    ProviderUnavailableError,
    RateLimitError,
    StopReason,
    StreamError,
    StreamTruncatedError,
    TextDelta,
    TextPart,
    ThinkingBlock,
    ThinkingConfig,
    ThinkingDelta,
    ToolCall,
    ToolDefinition,
    ToolResultMessage,
    ToolUseEnd,
    ToolUseStart,
    Usage,
    UserMessage,
    estimate_cost,
    from_vendor,
)


async def stream_of(
    events: list[dict[str, Any]], **overrides: Any
) -> tuple[list[Any], Exception | None]:
    return await collect_until_error(provider(sse([body(events)]), **overrides).stream(ask()))


def of(events: list[Any], kind: type[Any]) -> list[Any]:
    return [e for e in events if isinstance(e, kind)]


async def test_text_stream_keeps_the_grammar_the_text_and_the_usage_with_cache() -> None:
    events = [
        message_start(10, cache_read=100, cache_write=20),
        *text_block(0, "Hel", "lo, ", "wörld 👋"),
        *message_end(),
    ]
    got, error = await stream_of(events)
    assert error is None
    assert_grammar(got)
    assert got[0].request_id == "req_011"
    assert "".join(e.text for e in of(got, TextDelta)) == "Hello, wörld 👋"
    assert of(got, MessageDelta) == [
        MessageDelta(stop_reason=StopReason.END_TURN, raw_stop_reason="end_turn")
    ]
    assert of(got, Usage) == [
        Usage(input_tokens=130, output_tokens=7, cache_read_tokens=100, cache_write_tokens=20)
    ]


async def test_thinking_with_signature_then_text() -> None:
    got, error = await stream_of(
        answer(thinking_block(0, "Let me ", "think."), text_block(1, "42"))
    )
    assert error is None
    assert_grammar(got)
    assert "".join(e.text for e in of(got, ThinkingDelta)) == "Let me think."
    # The signature closes the block it belongs to, so it can be sent back with it.
    assert [(e.index, e.signature) for e in of(got, ThinkingDelta)] == [
        (0, None),
        (0, None),
        (0, "c2lnbmF0dXJl"),
    ]
    assert [(e.index, e.text) for e in of(got, TextDelta)] == [(1, "42")]


async def test_two_signed_blocks_and_a_redacted_one_stay_three_blocks() -> None:
    redacted = [
        block_start(1, {"type": "redacted_thinking", "data": "RW5jcnlwdGVk"}),
        block_stop(1),
    ]
    got, error = await stream_of(
        answer(
            thinking_block(0, "first", signature="c2lnMQ=="),
            redacted,
            thinking_block(2, "second", signature="c2lnMg=="),
            text_block(3, "done"),
        )
    )
    assert error is None
    assert_grammar(got)
    assert [(e.index, e.text, e.signature, e.redacted_data) for e in of(got, ThinkingDelta)] == [
        (0, "first", None, None),
        (0, "", "c2lnMQ==", None),
        (1, "", None, "RW5jcnlwdGVk"),
        (2, "second", None, None),
        (2, "", "c2lnMg==", None),
    ]


async def test_parallel_tool_calls_with_input_split_mid_token() -> None:
    got, error = await stream_of(
        answer(
            text_block(0, "Checking."),
            tool_block(1, "toolu_a", "weather", '{"ci', 'ty": "Pa', 'ris"}'),
            tool_block(2, "toolu_b", "time", ""),
            stop_reason="tool_use",
        )
    )
    assert error is None
    assert_grammar(got)
    assert [(e.index, e.id, e.name) for e in of(got, ToolUseStart)] == [
        (1, "toolu_a", "weather"),
        (2, "toolu_b", "time"),
    ]
    assert [(e.id, e.input) for e in of(got, ToolUseEnd)] == [
        ("toolu_a", {"city": "Paris"}),
        ("toolu_b", {}),
    ]
    assert of(got, MessageDelta)[0].stop_reason is StopReason.TOOL_USE


STOPS = [
    ("end_turn", StopReason.END_TURN),
    ("max_tokens", StopReason.MAX_TOKENS),
    ("stop_sequence", StopReason.STOP_SEQUENCE),
    ("tool_use", StopReason.TOOL_USE),
    ("refusal", StopReason.CONTENT_FILTER),
    ("pause_turn", StopReason.OTHER),
    ("model_context_window_exceeded", StopReason.MAX_TOKENS),
    ("a_value_from_next_year", StopReason.OTHER),
]


@pytest.mark.parametrize(("raw", "unified"), STOPS)
async def test_each_stop_reason_maps_and_keeps_the_raw_value(raw: str, unified: StopReason) -> None:
    got, error = await stream_of(answer(text_block(0, "x"), stop_reason=raw))
    assert error is None
    assert of(got, MessageDelta) == [MessageDelta(stop_reason=unified, raw_stop_reason=raw)]


async def test_ping_and_unknown_event_types_are_ignored() -> None:
    events = [
        message_start(),
        {"type": "ping"},
        *text_block(0, "a"),
        {"type": "future_event", "x": 1},
        *message_end(),
    ]
    got, error = await stream_of(events)
    assert error is None
    assert_grammar(got)
    assert len(of(got, Done)) == 1


async def test_overloaded_error_mid_stream_is_a_retryable_stream_error_after_the_text() -> None:
    overloaded = {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}
    got, error = await stream_of([message_start(), *text_block(0, "partial"), overloaded])
    assert type(error) is StreamError
    assert error.retryable
    assert error.vendor_code == "overloaded_error"
    assert "Overloaded" in error.message
    assert "".join(e.text for e in of(got, TextDelta)) == "partial"
    assert_grammar(got, raised=True)


TRUNCATIONS = {
    "no message_stop": answer(text_block(0, "a"))[:-1],
    "no message_delta": [message_start(), *text_block(0, "a"), {"type": "message_stop"}],
    "cut after a block": [message_start(), *text_block(0, "a")],
    "cut inside a tool block": [message_start(), *tool_block(0, "t", "f", '{"a": 1}')[:2]],
}


@pytest.mark.parametrize("events", TRUNCATIONS.values(), ids=TRUNCATIONS.keys())
async def test_truncated_streams_raise_and_never_finish(events: list[dict[str, Any]]) -> None:
    got, error = await stream_of(events)
    assert isinstance(error, StreamTruncatedError)
    assert not of(got, Done)
    assert_grammar(got, raised=True)


async def test_a_body_cut_inside_an_event_or_a_dropped_connection_is_truncation() -> None:
    whole = body(answer(text_block(0, "abc")))
    cut = provider(sse([whole[: len(whole) - 20]]))
    dropped = provider(
        sse([body([message_start()]), body(text_block(0, "a")), whole], fail_after=2)
    )
    for broken in (cut, dropped):
        got, error = await collect_until_error(broken.stream(ask()))
        assert isinstance(error, StreamTruncatedError)
        assert not of(got, Done)


MALFORMED = [
    (
        "delta a string",
        {"type": "content_block_delta", "index": 0, "delta": "x"},
        "content_block_delta.delta",
    ),
    ("index missing", {"type": "content_block_stop"}, "content_block_stop.index"),
    (
        "text a number",
        {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": 5}},
        "delta.text",
    ),
    ("stop reason a list", {"type": "message_delta", "delta": {"stop_reason": []}}, "stop_reason"),
    (
        "output tokens negative",
        {"type": "message_delta", "delta": {}, "usage": {"output_tokens": -1}},
        "output_tokens",
    ),
    (
        "input json for a text block",
        {
            "type": "content_block_delta",
            "index": 0,
            "delta": {"type": "input_json_delta", "partial_json": "{}"},
        },
        "content_block_delta.index",
    ),
    ("the event a list", [1], "the event"),
]


@pytest.mark.parametrize(
    ("broken", "field"), [m[1:] for m in MALFORMED], ids=[m[0] for m in MALFORMED]
)
async def test_malformed_events_name_the_field(broken: Any, field: str) -> None:
    got, error = await stream_of([message_start(), *text_block(0, "ok"), broken, *message_end()])
    assert isinstance(error, MalformedResponseError), repr(error)
    assert field in error.message
    assert "".join(e.text for e in of(got, TextDelta)) == "ok"


# -- complete() -----------------------------------------------------------------------------------


def message(content: list[dict[str, Any]], stop_reason: str = "end_turn") -> dict[str, Any]:
    return {
        "id": "msg_01",
        "type": "message",
        "role": "assistant",
        "model": "claude-sonnet-4-6",
        "content": content,
        "stop_reason": stop_reason,
        "stop_sequence": None,
        "usage": {"input_tokens": 5, "cache_read_input_tokens": 3, "output_tokens": 9},
    }


def json_reply(
    payload: Any, status: int = 200, headers: dict[str, str] | None = None
) -> httpx2.Response:
    return httpx2.Response(status, json=payload, headers={"request-id": "req_7", **(headers or {})})


async def test_complete_reads_text_thinking_and_tools_like_the_stream() -> None:
    reply = message(
        [
            {"type": "thinking", "thinking": "hmm", "signature": "c2ln"},
            {"type": "text", "text": "Calling."},
            {"type": "tool_use", "id": "toolu_1", "name": "weather", "input": {"city": "Oslo"}},
        ],
        stop_reason="tool_use",
    )
    response = await provider(json_reply(reply)).complete(ask())
    assert (response.text, response.thinking) == ("Calling.", "hmm")
    assert response.thinking_blocks == (ThinkingBlock(text="hmm", signature="c2ln"),)
    assert response.tool_calls == (
        ToolCall(
            id="toolu_1", name="weather", arguments='{"city": "Oslo"}', input={"city": "Oslo"}
        ),
    )
    assert response.stop_reason is StopReason.TOOL_USE
    assert response.usage == Usage(input_tokens=8, output_tokens=9, cache_read_tokens=3)
    assert response.request_id == "req_7"


async def test_complete_with_a_malformed_message_is_typed() -> None:
    with pytest.raises(MalformedResponseError, match="content"):
        await provider(json_reply({"content": "not a list", "stop_reason": "end_turn"})).complete(
            ask()
        )


# -- errors -------------------------------------------------------------------------------------


def error_body(kind: str, text: str) -> dict[str, Any]:
    return {"type": "error", "error": {"type": kind, "message": text}}


STATUSES = [
    ((401, "authentication_error", "invalid x-api-key"), (AuthenticationError, False)),
    ((403, "permission_error", "no access"), (AuthenticationError, False)),
    ((400, "invalid_request_error", "temperature: range"), (InvalidRequestError, False)),
    (
        (400, "invalid_request_error", "prompt is too long: 208310 tokens > 200000 maximum"),
        (ContextLengthError, False),
    ),
    ((404, "not_found_error", "model: claude-nope"), (ModelNotFoundError, False)),
    ((429, "rate_limit_error", "slow down"), (RateLimitError, True)),
    ((500, "api_error", "internal"), (ProviderUnavailableError, True)),
    ((529, "overloaded_error", "Overloaded"), (ProviderUnavailableError, True)),
]


@pytest.mark.parametrize(("fault", "expected"), STATUSES)
@pytest.mark.parametrize("path", ["stream", "complete"])
async def test_every_error_status_is_typed_with_the_vendor_message(
    fault: tuple[int, str, str], expected: tuple[type[LlmError], bool], path: str
) -> None:
    (status, kind, text), (error_type, retryable) = fault, expected
    headers = {"retry-after": "7"} if status == 429 else {}
    broken = provider(json_reply(error_body(kind, text), status, headers))
    if path == "stream":
        events, error = await collect_until_error(broken.stream(ask()))
        assert events == []
    else:
        with pytest.raises(LlmError) as caught:
            await broken.complete(ask())
        error = caught.value
    assert type(error) is error_type
    assert isinstance(error, LlmError)
    assert error.status_code == status
    assert error.retryable is retryable
    assert error.vendor_code == kind
    assert text in error.message
    assert error.request_id == "req_7"
    if status == 429:
        assert isinstance(error, RateLimitError)
        assert error.retry_after == 7


# -- request mapping ------------------------------------------------------------------------------


class Recorder:
    def __init__(self) -> None:
        self.requests: list[httpx2.Request] = []

    def provider(self, **overrides: Any) -> AnthropicProvider:
        def handle(request: httpx2.Request) -> httpx2.Response:
            self.requests.append(request)
            return sse([body(answer(text_block(0, "ok")))])

        client = httpx2.AsyncClient(transport=httpx2.MockTransport(handle))
        return AnthropicProvider.from_vendor(
            api_key=KEY, http_client=client, max_retries=0, **overrides
        )

    def sent(self) -> dict[str, Any]:
        return json.loads(self.requests[-1].content)


async def test_request_maps_system_turns_tools_results_and_limits() -> None:
    recorder = Recorder()
    request = CompletionRequest(
        system="Be brief.",
        messages=(
            UserMessage(content="Weather in Paris and Oslo?"),
            AssistantMessage(
                content="Checking.",
                tool_calls=(
                    ToolCall(
                        id="toolu_a",
                        name="weather",
                        arguments='{"city":"Paris"}',
                        input={"city": "Paris"},
                    ),
                    ToolCall(
                        id="toolu_b",
                        name="weather",
                        arguments='{"city":"Oslo"}',
                        input={"city": "Oslo"},
                    ),
                ),
            ),
            ToolResultMessage(tool_call_id="toolu_a", content="sunny"),
            ToolResultMessage(tool_call_id="toolu_b", content="rain"),
        ),
        tools=(ToolDefinition(name="weather", description="Weather by city"),),
        temperature=0.5,
        stop=("END",),
        max_tokens=300,
    )
    _, error = await collect_until_error(recorder.provider().stream(request))
    assert error is None, repr(error)
    sent = recorder.sent()
    assert recorder.requests[-1].url.path == "/v1/messages"
    assert sent["system"] == "Be brief."
    assert sent["max_tokens"] == 300
    assert sent["temperature"] == 0.5
    assert sent["stop_sequences"] == ["END"]
    assert sent["stream"] is True
    assert sent["tools"] == [
        {
            "name": "weather",
            "description": "Weather by city",
            "input_schema": {"type": "object", "properties": {}},
        }
    ]
    assert [turn["role"] for turn in sent["messages"]] == ["user", "assistant", "user"]
    assert sent["messages"][1]["content"][1] == {
        "type": "tool_use",
        "id": "toolu_a",
        "name": "weather",
        "input": {"city": "Paris"},
    }
    assert sent["messages"][2]["content"] == [
        {"type": "tool_result", "tool_use_id": "toolu_a", "content": "sunny"},
        {"type": "tool_result", "tool_use_id": "toolu_b", "content": "rain"},
    ]


async def test_max_tokens_is_always_sent_and_thinking_only_when_asked() -> None:
    recorder = Recorder()
    await collect_until_error(recorder.provider().stream(ask()))
    assert recorder.sent()["max_tokens"] == 64000
    assert "thinking" not in recorder.sent()
    thinking = ThinkingConfig(effort="high", budget_tokens=2048)
    await collect_until_error(recorder.provider().stream(ask(max_tokens=4096, thinking=thinking)))
    assert recorder.sent()["thinking"] == {"type": "enabled", "budget_tokens": 2048}
    off = ThinkingConfig(effort="none")
    await collect_until_error(recorder.provider().stream(ask(thinking=off)))
    assert recorder.sent()["thinking"] == {"type": "disabled"}


async def test_the_deprecated_config_budget_still_asks_unless_the_request_does() -> None:
    recorder = Recorder()
    with pytest.warns(DeprecationWarning, match="thinking=ThinkingConfig"):
        provider = recorder.provider(thinking_budget_tokens=2048)
    await collect_until_error(provider.stream(ask(max_tokens=4096)))
    assert recorder.sent()["thinking"] == {"type": "enabled", "budget_tokens": 2048}
    own = ThinkingConfig(budget_tokens=3000)
    await collect_until_error(provider.stream(ask(max_tokens=4096, thinking=own)))
    assert recorder.sent()["thinking"] == {"type": "enabled", "budget_tokens": 3000}


async def test_tool_choice_parallel_calls_and_structured_output_in_messages_spelling() -> None:
    recorder = Recorder()
    tools = (ToolDefinition(name="weather"), ToolDefinition(name="clock"))
    schema = {"type": "object", "properties": {"city": {"type": "string"}}}
    cases: list[tuple[dict[str, Any], dict[str, Any]]] = [
        ({"tool_choice": "auto"}, {"tool_choice": {"type": "auto"}}),
        ({"tool_choice": "none"}, {"tool_choice": {"type": "none"}}),
        ({"tool_choice": "required"}, {"tool_choice": {"type": "any"}}),
        ({"tool_choice": "clock"}, {"tool_choice": {"type": "tool", "name": "clock"}}),
        (
            {"tool_choice": "required", "parallel_tool_calls": False},
            {"tool_choice": {"type": "any", "disable_parallel_tool_use": True}},
        ),
        (
            {"parallel_tool_calls": False},
            {"tool_choice": {"type": "auto", "disable_parallel_tool_use": True}},
        ),
        (
            {"response_format": JsonSchemaFormat(name="city", json_schema=schema), "top_p": 0.9},
            {"output_config": {"format": {"type": "json_schema", "schema": schema}}, "top_p": 0.9},
        ),
    ]
    for fields, expected in cases:
        await collect_until_error(recorder.provider().stream(ask(tools=tools, **fields)))
        sent = recorder.sent()
        assert {key: sent[key] for key in expected} == expected, fields


async def test_image_parts_become_image_blocks_by_url_or_base64() -> None:
    recorder = Recorder()
    content = (
        TextPart(text="Compare"),
        ImagePart(url="https://example.com/a.png"),
        ImagePart(data="iVBORw0KGgo=", media_type="image/png"),
    )
    request = CompletionRequest(messages=(UserMessage(content=content),))
    await collect_until_error(recorder.provider().stream(request))
    assert recorder.sent()["messages"] == [
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "Compare"},
                {"type": "image", "source": {"type": "url", "url": "https://example.com/a.png"}},
                {
                    "type": "image",
                    "source": {"type": "base64", "media_type": "image/png", "data": "iVBORw0KGgo="},
                },
            ],
        }
    ]


async def test_signed_and_redacted_thinking_go_back_first_and_unsigned_reasoning_does_not() -> None:
    recorder = Recorder()
    earlier = AssistantMessage(
        content="Calling.",
        thinking=(
            ThinkingBlock(text="from another vendor"),
            ThinkingBlock(text="Let me check.", signature="EqQBCgIYAhIM+/="),
            ThinkingBlock(redacted_data="RW5jcnlwdGVk"),
        ),
        tool_calls=(ToolCall(id="toolu_a", name="weather", arguments="{}", input={}),),
    )
    request = CompletionRequest(
        messages=(
            UserMessage(content="Weather?"),
            earlier,
            ToolResultMessage(tool_call_id="toolu_a", content="sunny"),
        ),
        tools=(ToolDefinition(name="weather"),),
    )
    await collect_until_error(recorder.provider().stream(request))
    assert recorder.sent()["messages"][1]["content"] == [
        {"type": "thinking", "thinking": "Let me check.", "signature": "EqQBCgIYAhIM+/="},
        {"type": "redacted_thinking", "data": "RW5jcnlwdGVk"},
        {"type": "text", "text": "Calling."},
        {"type": "tool_use", "id": "toolu_a", "name": "weather", "input": {}},
    ]


def test_bad_input_is_refused_before_anything_is_sent() -> None:
    recorder = Recorder()
    with pytest.raises(InvalidRequestError, match="temperature must be between 0 and 1"):
        recorder.provider().stream(ask(temperature=1.5))
    budget = ThinkingConfig(budget_tokens=4096)
    refusals = [
        ({"max_tokens": 1024, "thinking": budget}, "must be greater than thinking.budget_tokens"),
        ({"thinking": ThinkingConfig(budget_tokens=512)}, "at least 1024 tokens"),
        ({"thinking": ThinkingConfig(effort="low")}, "a thinking token budget, not an effort"),
        ({"thinking": budget, "temperature": 0.5}, "only temperature 1 while thinking"),
        (
            {"thinking": budget, "tools": (ToolDefinition(name="w"),), "tool_choice": "required"},
            "does not take tool_choice='required' while thinking",
        ),
        ({"seed": 7}, "takes no seed"),
        ({"response_format": {"type": "json_object"}}, "no response_format of type json_object"),
    ]
    for fields, message in refusals:
        with pytest.raises(InvalidRequestError, match=message):
            recorder.provider().stream(ask(**fields))
    assert recorder.requests == []


# -- construction, secrets, environment -----------------------------------------------------------


def test_from_vendor_picks_the_class_by_protocol(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", KEY)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-openai-FAKE0123456789")
    assert isinstance(from_vendor("anthropic"), AnthropicProvider)
    assert isinstance(from_vendor("openai"), OpenAiCompatibleProvider)
    with pytest.raises(InvalidRequestError, match=r"providers\.from_vendor"):
        OpenAiCompatibleProvider.from_vendor("anthropic")
    with pytest.raises(InvalidRequestError, match=r"providers\.from_vendor"):
        AnthropicProvider.from_vendor("openai")


def test_a_missing_key_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    with pytest.raises(AuthenticationError, match="set the environment variable ANTHROPIC_API_KEY"):
        from_vendor("anthropic")


async def test_the_key_goes_only_in_x_api_key_and_never_in_repr_or_errors(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ANTHROPIC_CUSTOM_HEADERS", "X-Leak: from-the-environment")
    monkeypatch.setenv("ANTHROPIC_BASE_URL", "http://127.0.0.1:9/elsewhere")
    monkeypatch.setenv("ANTHROPIC_AUTH_TOKEN", "env-token-must-not-be-sent")
    recorder = Recorder()
    chosen = recorder.provider()
    await collect_until_error(chosen.stream(ask()))
    headers = recorder.requests[-1].headers
    # The SDK picks the header (x-api-key, or a bearer token in recent releases): ours only.
    sent_keys = {headers.get("x-api-key"), headers.get("authorization", "").removeprefix("Bearer ")}
    assert KEY in sent_keys
    assert not any("env-token" in value for value in headers.values())
    assert "x-leak" not in headers
    assert recorder.requests[-1].url.host == "api.anthropic.com"
    assert KEY not in repr(chosen)
    echoed = provider(json_reply(error_body("authentication_error", f"bad key {KEY}"), 401))
    with pytest.raises(AuthenticationError) as caught:
        await echoed.complete(ask())
    assert KEY not in str(caught.value)
    assert KEY not in repr(caught.value)


def test_cache_writes_are_priced_above_input() -> None:
    usage = Usage(input_tokens=1_000_000, output_tokens=0, cache_write_tokens=1_000_000)
    plain = Usage(input_tokens=1_000_000, output_tokens=0)
    assert estimate_cost(usage, "anthropic", "claude-sonnet-4-6") == Decimal("3.75")
    assert estimate_cost(plain, "anthropic", "claude-sonnet-4-6") == Decimal("3.00")


async def test_breaking_out_closes_the_response() -> None:
    pieces = PieceStream([body(answer(text_block(0, "a", "b", "c")))])
    response = httpx2.Response(200, headers={"content-type": "text/event-stream"}, stream=pieces)
    chosen = AnthropicProvider.from_vendor(
        api_key=KEY,
        http_client=httpx2.AsyncClient(transport=replay_transport(response)),
        max_retries=0,
    )
    iterator = chosen.stream(ask())
    async for item in iterator:
        if isinstance(item, TextDelta):
            break
    await iterator.aclose()  # type: ignore[attr-defined]
    assert pieces.closed


async def test_the_stop_reason_is_authoritative_even_with_tool_blocks() -> None:
    got, error = await stream_of(
        answer(tool_block(0, "toolu_1", "f", "{}"), stop_reason="end_turn")
    )
    assert error is None
    assert of(got, MessageDelta) == [
        MessageDelta(stop_reason=StopReason.END_TURN, raw_stop_reason="end_turn")
    ]


EXACTLY_MALFORMED = [
    (
        {"type": "message_start", "message": []},
        "message_start.message must be an object, got array",
    ),
    (block_start(1, {"type": 7}), "content_block.type must be a string, got number"),
    (
        block_start(1, {"type": "thinking", "thinking": 1}),
        "content_block.thinking must be a string, got number",
    ),
    (
        block_start(1, {"type": "redacted_thinking", "data": []}),
        "content_block.data must be a string, got array",
    ),
    (
        {"type": "content_block_delta", "delta": {}},
        "content_block_delta.index must be an integer, got null",
    ),
    (
        delta(0, {"type": "input_json_delta", "partial_json": "{}"}),
        "content_block_delta.index must be a tool_use block, got number",
    ),
    (
        delta(0, {"type": "signature_delta", "signature": 1}),
        "delta.signature must be a string, got number",
    ),
    (
        {"type": "message_delta", "delta": {}, "usage": {"cache_creation_input_tokens": -1}},
        "message_delta.usage.cache_creation_input_tokens must be",
    ),
]


@pytest.mark.parametrize(("broken", "says"), EXACTLY_MALFORMED)
async def test_a_malformed_event_names_its_exact_path_and_what_it_must_be(
    broken: Any, says: str
) -> None:
    _, error = await stream_of([message_start(), *text_block(0, "ok"), broken, *message_end()])
    assert isinstance(error, MalformedResponseError), repr(error)
    assert f"the vendor sent a malformed response: {says}" in error.message
