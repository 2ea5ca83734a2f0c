"""HTTP-level faults injected through the loopback replica, in each vendor's own error shape."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from support import OPENAI_CHAT_VENDORS, ask, collect_until_error, run

from contracts.protocols.openai_chat import OpenAiChat
from contracts.replica import ReplicaServer, Responder, Script, ScriptedResponse
from contracts.runner import replica_base_url
from contracts.spec import Answer, Fault, UsageSpec
from contracts.vendors import load_suite_profile
from providers import (
    AuthenticationError,
    LlmError,
    ModelNotFoundError,
    OpenAiCompatibleProvider,
    ProviderUnavailableError,
    RateLimitError,
    StreamTruncatedError,
    load_profile,
)

VENDORS = OPENAI_CHAT_VENDORS
MODEL = "replica-model"


def chat(vendor: str) -> OpenAiChat:
    """The vendor's OpenAI Chat protocol, whose pieces these tests play one by one."""
    return OpenAiChat(load_profile(vendor), load_suite_profile(vendor))


ANSWER = Answer(
    text=("one ", "two ", "three"), finish="stop", usage=UsageSpec(prompt=3, completion=3)
)
STATUS_FAULTS = [
    (Fault(status=401, message="bad key", code="invalid_api_key"), AuthenticationError, False),
    (Fault(status=404, message="no such model", code="model_not_found"), ModelNotFoundError, False),
    (
        Fault(status=429, message="slow down", code="rate_limit_exceeded", retry_after=7),
        RateLimitError,
        True,
    ),
    (Fault(status=500, message="internal", code="server_error"), ProviderUnavailableError, True),
    (Fault(status=503, message="overloaded", code="unavailable"), ProviderUnavailableError, True),
]


def provider_for(
    vendor: str, server: ReplicaServer, **overrides: object
) -> OpenAiCompatibleProvider:
    overrides.setdefault("max_retries", 0)
    return OpenAiCompatibleProvider.from_vendor(
        vendor,
        api_key="sk-fault-test-key-0000000000",
        base_url=replica_base_url(server, load_profile(vendor)),
        **overrides,  # type: ignore[arg-type]
    )


@pytest.mark.parametrize("vendor", VENDORS)
@pytest.mark.parametrize(
    ("fault", "expected", "retryable"), STATUS_FAULTS, ids=[str(f[0].status) for f in STATUS_FAULTS]
)
@pytest.mark.parametrize("path", ["stream", "complete"])
async def test_status_faults_in_each_vendor_shape_map_to_typed_errors(  # noqa: PLR0917
    vendor_replica: Callable[[Responder], ReplicaServer],
    vendor: str,
    fault: Fault,
    expected: type[LlmError],
    retryable: bool,
    path: str,
) -> None:
    server = vendor_replica(Script(chat(vendor).error_response(fault)))
    with pytest.raises(expected) as caught:
        await run(provider_for(vendor, server), ask(), path)
    assert caught.value.status_code == fault.status
    assert caught.value.retryable is retryable
    if fault.retry_after is not None:
        assert caught.value.retry_after == fault.retry_after  # type: ignore[attr-defined]
    assert len(server.requests) == 1  # max_retries=0: no retry


@pytest.mark.parametrize("vendor", VENDORS)
@pytest.mark.parametrize("cut", [1, 2, 3])
async def test_disconnect_mid_body_raises_truncated_after_the_events_so_far(
    vendor_replica: Callable[[Responder], ReplicaServer], vendor: str, cut: int
) -> None:
    pieces = chat(vendor).stream_events(ANSWER, MODEL, usage_asked=True)
    server = vendor_replica(Script(ScriptedResponse.sse(pieces, disconnect_after=cut)))
    events, error = await collect_until_error(provider_for(vendor, server).stream(ask()))
    assert isinstance(error, StreamTruncatedError)
    assert error.retryable
    assert events[0].type == "connected"
    assert all(event.type != "done" for event in events)


async def test_no_headers_within_the_timeout_is_unavailable_and_retryable() -> None:
    slow = ScriptedResponse.json({"choices": []}, delay=1.5)
    with (
        ReplicaServer(Script(slow)) as server,
        pytest.raises(ProviderUnavailableError, match="no response within") as caught,
    ):
        await provider_for("openai", server, timeout=0.3).complete(ask())
    assert caught.value.retryable


async def test_sdk_retries_retryable_statuses_up_to_max_retries_then_succeeds() -> None:
    dialect = chat("mistral")
    busy = ScriptedResponse.json(
        dialect.error_body(Fault(status=503, message="busy", code="unavailable")),
        503,
        headers={"retry-after-ms": "5"},
    )
    ok = ScriptedResponse.sse(dialect.stream_events(ANSWER, MODEL, usage_asked=False))
    with ReplicaServer(Script(busy, busy, ok)) as server:
        events, error = await collect_until_error(
            provider_for("mistral", server, max_retries=2).stream(ask())
        )
    assert error is None
    assert [e.type for e in events][-1] == "done"
    assert len(server.requests) == 3


async def test_sdk_gives_up_after_max_retries_with_the_typed_error() -> None:
    dialect = chat("gemini")
    limited = ScriptedResponse.json(
        dialect.error_body(Fault(status=429, message="quota", code="x")),
        429,
        headers={"retry-after-ms": "5", "retry-after": "0"},
    )
    with ReplicaServer(Script(limited, limited)) as server, pytest.raises(RateLimitError) as caught:
        await provider_for("gemini", server, max_retries=1).complete(ask())
    assert len(server.requests) == 2
    assert caught.value.retry_after == 0.005


async def test_non_retryable_status_is_not_retried() -> None:
    dialect = chat("openai")
    bad = ScriptedResponse.json(dialect.error_body(Fault(status=400, message="bad", code="x")), 400)
    with ReplicaServer(Script(bad, bad, bad)) as server, pytest.raises(LlmError):
        await provider_for("openai", server, max_retries=2).complete(ask())
    assert len(server.requests) == 1
