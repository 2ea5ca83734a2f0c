"""complete(): parsed answers and every error status mapped to the typed hierarchy."""

from __future__ import annotations

import socket
from typing import Any

import pytest
from support import FAKE_KEY, FakeVendor, ask, collect_until_error, run

from contracts.replica import ReplicaServer, Script, ScriptedResponse
from contracts.wire import chunk, sse_body
from providers import (
    AuthenticationError,
    ContextLengthError,
    InvalidRequestError,
    LlmError,
    ModelNotFoundError,
    OpenAiCompatibleProvider,
    ProviderUnavailableError,
    RateLimitError,
    StopReason,
    StreamTruncatedError,
    ToolCall,
    Usage,
)


def completion(
    message: dict[str, Any], finish: str, usage: dict[str, int] | None = None
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "model": "gpt-4o-2024-08-06",
        "choices": [
            {"index": 0, "message": {"role": "assistant", **message}, "finish_reason": finish}
        ],
    }
    if usage:
        body["usage"] = usage
    return body


async def test_complete_text(vendor: FakeVendor) -> None:
    vendor.reply(
        completion({"content": "Paris."}, "stop", {"prompt_tokens": 9, "completion_tokens": 2}),
        headers={"x-request-id": "req_9"},
    )
    response = await vendor.provider().complete(ask("Capital of France?"))
    assert response.text == "Paris."
    assert (response.stop_reason, response.raw_stop_reason) == (StopReason.END_TURN, "stop")
    assert response.usage == Usage(input_tokens=9, output_tokens=2)
    assert response.request_id == "req_9"
    assert "stream" not in vendor.sent_json()


async def test_complete_tool_calls(vendor: FakeVendor) -> None:
    vendor.reply(
        completion(
            {
                "content": None,
                "tool_calls": [
                    {
                        "id": "call_1",
                        "type": "function",
                        "function": {"name": "weather", "arguments": '{"city": "Oslo"}'},
                    },
                    {
                        "id": "call_2",
                        "type": "function",
                        "function": {"name": "time", "arguments": "{}"},
                    },
                ],
            },
            "tool_calls",
        )
    )
    response = await vendor.provider().complete(ask())
    assert response.tool_calls == (
        ToolCall(id="call_1", name="weather", arguments='{"city": "Oslo"}', input={"city": "Oslo"}),
        ToolCall(id="call_2", name="time", arguments="{}", input={}),
    )
    assert response.stop_reason is StopReason.TOOL_USE
    assert response.usage.estimated


async def test_complete_length(vendor: FakeVendor) -> None:
    vendor.reply(completion({"content": "Once upon a"}, "length"))
    response = await vendor.provider().complete(ask(max_tokens=3))
    assert (response.stop_reason, response.raw_stop_reason) == (StopReason.MAX_TOKENS, "length")


async def test_complete_and_stream_agree_on_the_same_answer(vendor: FakeVendor) -> None:
    vendor.reply(
        completion({"content": "Hi there"}, "stop", {"prompt_tokens": 4, "completion_tokens": 2})
    )
    vendor.sse(
        [
            chunk({"content": "Hi"}),
            chunk({"content": " there"}),
            chunk(finish="stop", usage={"prompt_tokens": 4, "completion_tokens": 2}),
        ]
    )
    provider = vendor.provider("mistral")
    completed = await provider.complete(ask())
    streamed = [event async for event in provider.stream(ask())]
    assert completed.text == "Hi there"
    assert completed.usage in streamed
    assert any(getattr(e, "raw_stop_reason", None) == completed.raw_stop_reason for e in streamed)


async def test_complete_without_finish_reason_is_an_error(vendor: FakeVendor) -> None:
    vendor.reply({"choices": [{"index": 0, "message": {"content": "half"}}]})
    with pytest.raises(StreamTruncatedError):
        await vendor.provider().complete(ask())


ERROR_CASES = [
    # (vendor, status, body, headers, expected type, retryable, vendor's words kept)
    (
        "openai",
        400,
        {
            "error": {
                "message": "This model's maximum context length is 128000 tokens",
                "type": "invalid_request_error",
                "param": "messages",
                "code": "context_length_exceeded",
            }
        },
        {},
        ContextLengthError,
        False,
        "maximum context length is 128000",
    ),
    (
        "mistral",
        400,
        {
            "object": "error",
            "message": "Prompt contains 140000 tokens, too large for "
            "model with 131072 maximum context length",
            "type": "invalid_request_error",
            "code": None,
        },
        {},
        ContextLengthError,
        False,
        "Prompt contains 140000",
    ),
    (
        "openai",
        400,
        {"error": {"message": "Invalid value for 'tools'", "code": None}},
        {},
        InvalidRequestError,
        False,
        "Invalid value for 'tools'",
    ),
    (
        "mistral",
        422,
        {
            "object": "error",
            "message": "Extra inputs are not permitted",
            "type": "invalid_request_error",
            "code": "extra_forbidden",
        },
        {},
        InvalidRequestError,
        False,
        "Extra inputs are not permitted",
    ),
    (
        "openai",
        401,
        {"error": {"message": "Incorrect API key provided", "code": "invalid_api_key"}},
        {},
        AuthenticationError,
        False,
        "Incorrect API key provided",
    ),
    ("mistral", 401, {"detail": "Unauthorized"}, {}, AuthenticationError, False, "Unauthorized"),
    (
        "openai",
        403,
        {"error": {"message": "Project does not have access"}},
        {},
        AuthenticationError,
        False,
        "Project does not have access",
    ),
    (
        "openai",
        404,
        {"error": {"message": "The model `gpt-9` does not exist", "code": "model_not_found"}},
        {},
        ModelNotFoundError,
        False,
        "The model `gpt-9` does not exist",
    ),
    (
        "gemini",
        429,
        [
            {
                "error": {
                    "code": 429,
                    "message": "Resource has been exhausted",
                    "status": "RESOURCE_EXHAUSTED",
                }
            }
        ],
        {"retry-after": "7"},
        RateLimitError,
        True,
        "Resource has been exhausted",
    ),
    (
        "openai",
        429,
        {"error": {"message": "You exceeded your current quota", "code": "insufficient_quota"}},
        {},
        RateLimitError,
        False,
        "You exceeded your current quota",
    ),
    (
        "mistral",
        429,
        {"message": "Requests rate limit exceeded"},
        {"retry-after": "2"},
        RateLimitError,
        True,
        "Requests rate limit exceeded",
    ),
    (
        "glm",
        429,
        {"error": {"code": "1113", "message": "Insufficient balance"}},
        {},
        RateLimitError,
        False,
        "Insufficient balance",
    ),
    (
        "openai",
        500,
        {"error": {"message": "The server had an error", "type": "server_error"}},
        {},
        ProviderUnavailableError,
        True,
        "The server had an error",
    ),
    (
        "claude_subscription",
        500,
        "upstream CLI crashed",
        {},
        ProviderUnavailableError,
        True,
        "upstream CLI crashed",
    ),
    (
        "gemini",
        503,
        [{"error": {"code": 503, "message": "The model is overloaded.", "status": "UNAVAILABLE"}}],
        {},
        ProviderUnavailableError,
        True,
        "The model is overloaded.",
    ),
    (
        "openai",
        529,
        {"error": {"message": "Overloaded"}},
        {},
        ProviderUnavailableError,
        True,
        "Overloaded",
    ),
]


@pytest.mark.parametrize(
    ("vendor_name", "status", "body", "headers", "expected", "retryable", "words"),
    ERROR_CASES,
    ids=[f"{c[0]}-{c[1]}-{c[4].__name__}" for c in ERROR_CASES],
)
@pytest.mark.parametrize("path", ["complete", "stream"])
async def test_error_status_maps_to_typed_error_keeping_vendor_message(  # noqa: PLR0917
    vendor: FakeVendor,
    path: str,
    vendor_name: str,
    status: int,
    body: Any,
    headers: dict[str, str],
    expected: type[LlmError],
    retryable: bool,
    words: str,
) -> None:
    vendor.reply(body, status=status, headers={"x-request-id": "req_err", **headers})
    provider = vendor.provider(vendor_name)
    with pytest.raises(expected) as caught:
        await run(provider, ask(), path)  # a stream yields nothing before a 2xx response
    error = caught.value
    assert type(error) is expected
    assert error.status_code == status
    assert error.retryable is retryable
    assert error.request_id == "req_err"
    assert error.provider == vendor_name
    assert words in error.message
    if isinstance(error, RateLimitError):
        assert error.retry_after == (float(headers["retry-after"]) if headers else None)


async def test_auth_error_says_which_variable_to_set(vendor: FakeVendor) -> None:
    vendor.reply({"detail": "Unauthorized"}, status=401)
    with pytest.raises(AuthenticationError, match="set MISTRAL_API_KEY"):
        await vendor.provider("mistral").complete(ask())


async def test_sdk_retries_retryable_statuses_as_configured(vendor: FakeVendor) -> None:
    vendor.reply({"error": {"message": "busy"}}, status=503, headers={"retry-after-ms": "1"})
    vendor.reply({"error": {"message": "busy"}}, status=503, headers={"retry-after-ms": "1"})
    vendor.reply(completion({"content": "ok"}, "stop"))
    response = await vendor.provider(max_retries=2).complete(ask())
    assert response.text == "ok"
    assert len(vendor.requests) == 3


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.parametrize("path", ["complete", "stream"])
async def test_connection_refused_is_provider_unavailable(path: str) -> None:
    provider = OpenAiCompatibleProvider.from_vendor(
        "openai", api_key=FAKE_KEY, base_url=f"http://127.0.0.1:{free_port()}/v1", max_retries=0
    )
    with pytest.raises(ProviderUnavailableError, match="could not connect") as caught:
        await run(provider, ask(), path)
    assert caught.value.retryable


async def test_timeout_before_response_is_provider_unavailable() -> None:
    slow = ScriptedResponse.json(completion({"content": "late"}, "stop"), delay=2.0)
    with ReplicaServer(Script(slow)) as server:
        provider = OpenAiCompatibleProvider.from_vendor(
            "openai", api_key=FAKE_KEY, base_url=server.base_url, timeout=0.2, max_retries=0
        )
        with pytest.raises(ProviderUnavailableError, match=r"no response within 0\.2s"):
            await provider.complete(ask())


async def test_slow_chunks_past_the_read_timeout_raise_truncated_after_connected() -> None:
    body = sse_body([chunk({"content": "a"}), chunk(finish="stop")])
    stalled = ScriptedResponse.sse([body], delay=1.0)
    with ReplicaServer(Script(stalled)) as server:
        provider = OpenAiCompatibleProvider.from_vendor(
            "openai", api_key=FAKE_KEY, base_url=server.base_url, timeout=0.3, max_retries=0
        )
        events, error = await collect_until_error(provider.stream(ask()))
    assert isinstance(error, StreamTruncatedError)
    assert "ReadTimeout" in str(error)
    assert [event.type for event in events] == ["connected"]
