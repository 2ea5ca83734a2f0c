"""A hostile or unlucky wire, through a real loopback HTTP server: every failure is typed,
bounded in time and memory, and keeps the vendor's own message where there is one. Each test
runs once per wire protocol: the body reader, deadline and error mapping are shared."""

from __future__ import annotations

import asyncio
import gzip
import json
from collections.abc import Callable

import httpx2
import pytest
from hypothesis import given
from hypothesis import strategies as st
from support import FAKE_KEY, ask, collect_until_error, run
from wires import Wire

from contracts.replica import ReplicaServer, Responder, Script, ScriptedResponse
from contracts.transport import PieceStream
from providers import (
    AnthropicProvider,
    AuthenticationError,
    LlmError,
    LlmProvider,
    MalformedResponseError,
    OpenAiCompatibleProvider,
    ProviderUnavailableError,
    RateLimitError,
    StreamError,
    StreamTruncatedError,
)

Replica = Callable[[Responder], ReplicaServer]
PATHS = ["stream", "complete"]


def provider_at(wire: Wire, server: ReplicaServer, **overrides: object) -> LlmProvider:
    return wire.provider(api_key=FAKE_KEY, base_url=server.base_url, **overrides)


# -- 2. a 200 that is not an event stream -------------------------------------------------------


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize(
    ("body", "expected", "retryable"),
    [
        ({"error": {"message": "bad key", "code": "invalid_api_key"}}, AuthenticationError, False),
        (  # OpenAI's real 401 body: code invalid_api_key beside type invalid_request_error
            {
                "error": {
                    "message": "Incorrect API key provided",
                    "type": "invalid_request_error",
                    "param": None,
                    "code": "invalid_api_key",
                }
            },
            AuthenticationError,
            False,
        ),
        ({"error": {"message": "bad key", "code": 401}}, AuthenticationError, False),
        (
            [{"error": {"message": "bad key", "status": "UNAUTHENTICATED"}}],
            AuthenticationError,
            False,
        ),
        ({"error": {"message": "slow", "type": "rate_limit_exceeded"}}, RateLimitError, True),
        ({"error": {"message": "down", "type": "server_error"}}, ProviderUnavailableError, True),
        ({"error": {"message": "odd", "type": "whatever"}}, StreamError, False),
        (
            {"type": "error", "error": {"type": "authentication_error", "message": "bad key"}},
            AuthenticationError,
            False,
        ),
        (
            {"type": "error", "error": {"type": "overloaded_error", "message": "down"}},
            ProviderUnavailableError,
            True,
        ),
    ],
)
async def test_a_json_error_answered_200_is_mapped_like_the_status_it_names(
    vendor_replica: Replica,
    *,
    wire: Wire,
    path: str,
    body: object,
    expected: type[LlmError],
    retryable: bool,
) -> None:
    server = vendor_replica(Script(ScriptedResponse.json(body)))
    with pytest.raises(expected) as caught:
        await run(provider_at(wire, server), ask(), path)
    assert type(caught.value) is expected
    assert caught.value.retryable is retryable
    # The wire said 200; a body naming no status is a mid-stream payload, with no status.
    assert caught.value.status_code == (None if expected is StreamError else 200)
    (entry,) = body if isinstance(body, list) else [body]
    assert entry["error"]["message"] in str(caught.value)  # the vendor's own words


async def test_a_json_error_labelled_as_an_event_stream_is_mapped_too(
    vendor_replica: Replica, wire: Wire
) -> None:
    body = json.dumps({"error": {"message": "key revoked", "code": "invalid_api_key"}}).encode()
    server = vendor_replica(Script(ScriptedResponse.sse(body)))
    events, error = await collect_until_error(provider_at(wire, server).stream(ask()))
    assert isinstance(error, AuthenticationError)
    assert "key revoked" in str(error)
    assert all(event.type != "done" for event in events)


async def test_json_that_is_no_error_where_a_stream_was_asked_for_is_malformed(
    vendor_replica: Replica, wire: Wire
) -> None:
    server = vendor_replica(Script(ScriptedResponse.json(wire.answer("hello"))))
    events, error = await collect_until_error(provider_at(wire, server).stream(ask()))
    assert isinstance(error, MalformedResponseError)
    assert "one JSON document, not an event stream" in str(error)
    assert events == []


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize(
    "content_type", ["text/html; charset=utf-8", "text/plain", "text/event-stream"]
)
async def test_an_html_page_says_a_proxy_answered_with_a_scrubbed_snippet(
    vendor_replica: Replica, wire: Wire, path: str, content_type: str
) -> None:
    page = f"<html><body>Sign in to the corporate proxy. token={FAKE_KEY}</body></html>"
    server = vendor_replica(
        Script(ScriptedResponse(pieces=(page.encode(),), headers={"content-type": content_type}))
    )
    with pytest.raises(ProviderUnavailableError) as caught:
        await run(provider_at(wire, server), ask(), path)
    message = str(caught.value)
    assert "proxy or gateway" in message
    assert "Sign in to the corporate proxy" in message
    assert FAKE_KEY not in message
    assert "[REDACTED]" in message
    assert caught.value.retryable is False


# -- 3. bytes ------------------------------------------------------------------------------------


async def test_a_leading_bom_does_not_cost_the_first_event(
    vendor_replica: Replica, wire: Wire
) -> None:
    server = vendor_replica(Script(ScriptedResponse.sse(b"\xef\xbb\xbf" + wire.stream("hello"))))
    events, error = await collect_until_error(provider_at(wire, server).stream(ask()))
    assert error is None
    assert [e.text for e in events if e.type == "text_delta"] == ["hello"]  # type: ignore[union-attr]


@pytest.mark.parametrize("path", PATHS)
async def test_valid_gzip_is_read(vendor_replica: Replica, wire: Wire, path: str) -> None:
    payload = wire.stream("hello") if path == "stream" else wire.answer_bytes("hello")
    kind = "text/event-stream" if path == "stream" else "application/json"
    server = vendor_replica(
        Script(
            ScriptedResponse(
                pieces=(gzip.compress(payload),),
                headers={"content-type": kind, "content-encoding": "gzip"},
            )
        )
    )
    provider = provider_at(wire, server)
    if path == "stream":
        events, error = await collect_until_error(provider.stream(ask()))
        assert error is None
        assert events[-1].type == "done"
    else:
        assert (await provider.complete(ask())).text == "hello"


@pytest.mark.parametrize("path", PATHS)
async def test_a_corrupt_content_encoding_is_a_typed_error(
    vendor_replica: Replica, wire: Wire, path: str
) -> None:
    kind = "text/event-stream" if path == "stream" else "application/json"
    server = vendor_replica(
        Script(
            ScriptedResponse(
                pieces=(b"this is not gzip at all",),
                headers={"content-type": kind, "content-encoding": "gzip"},
            )
        )
    )
    with pytest.raises(LlmError) as caught:
        await run(provider_at(wire, server), ask(), path)
    assert "gzip" in str(caught.value) or "decod" in str(caught.value).lower()
    assert caught.value.retryable


# -- 4. time -------------------------------------------------------------------------------------


async def test_a_trickling_stream_ends_at_the_deadline_not_never(
    vendor_replica: Replica, wire: Wire
) -> None:
    body = wire.stream("hello")
    trickle = ScriptedResponse.sse([body[i : i + 1] for i in range(len(body))], delay=0.02)
    server = vendor_replica(Script(trickle))
    events, error = await collect_until_error(
        provider_at(wire, server, timeout=5.0, deadline=0.3).stream(ask())
    )
    assert isinstance(error, StreamTruncatedError)
    assert "deadline of 0.3s" in str(error)
    assert error.retryable
    assert events[0].type == "connected"
    assert all(event.type != "done" for event in events)


async def test_a_trickling_completion_ends_at_the_deadline(
    vendor_replica: Replica, wire: Wire
) -> None:
    body = wire.answer_bytes("hello")
    trickle = ScriptedResponse(
        pieces=tuple(body[i : i + 1] for i in range(len(body))),
        headers={"content-type": "application/json"},
        delay=0.02,
    )
    server = vendor_replica(Script(trickle))
    with pytest.raises(ProviderUnavailableError, match=r"deadline of 0\.3s") as caught:
        await provider_at(wire, server, timeout=5.0, deadline=0.3).complete(ask())
    assert caught.value.retryable


async def test_a_stream_within_its_deadline_is_untouched(
    vendor_replica: Replica, wire: Wire
) -> None:
    body = wire.stream("hello")
    pieces = [body[i : i + 40] for i in range(0, len(body), 40)]
    server = vendor_replica(Script(ScriptedResponse.sse(pieces, delay=0.01)))
    events, error = await collect_until_error(
        provider_at(wire, server, deadline=30.0).stream(ask())
    )
    assert error is None
    assert events[-1].type == "done"


@pytest.mark.parametrize("deadline", [0.0, -1.0, float("inf"), float("nan")])
@pytest.mark.parametrize(
    ("build", "vendor"),
    [
        (OpenAiCompatibleProvider.from_vendor, "openai"),
        (AnthropicProvider.from_vendor, "anthropic"),
    ],
)
def test_a_deadline_must_be_a_positive_finite_number(
    build: Callable[..., LlmProvider], vendor: str, deadline: float
) -> None:
    with pytest.raises(LlmError, match="deadline"):
        build(vendor, api_key=FAKE_KEY, deadline=deadline)


# -- 5. memory -----------------------------------------------------------------------------------


async def test_an_event_over_the_cap_is_malformed_before_it_is_held(
    vendor_replica: Replica, wire: Wire
) -> None:
    huge = b"data: " + b"x" * 200_000
    pieces = [wire.unfinished("hello"), *(huge[i : i + 8192] for i in range(0, len(huge), 8192))]
    server = vendor_replica(Script(ScriptedResponse.sse(pieces)))
    events, error = await collect_until_error(
        provider_at(wire, server, max_event_bytes=64_000).stream(ask())
    )
    assert isinstance(error, MalformedResponseError), error
    assert "max_event_bytes=64000" in str(error)
    assert [e.type for e in events][:2] == ["connected", "text_delta"]


# -- any bytes at all ----------------------------------------------------------------------------

FRAGMENTS = st.sampled_from(
    [
        b"data: ",
        b"data:",
        b"\n",
        b"\r\n",
        b"\r",
        b"\xef\xbb\xbf",
        b": keep-alive",
        b"event: error",
        b"[DONE]",
        b"<html><body>proxy</body></html>",
        b'{"error": {"message": "no", "code": 401}}',
        b'{"error": "text"}',
        b"[1, 2]",
        b"{",
    ]
)
HOSTILE_BODIES = st.lists(st.one_of(FRAGMENTS, st.binary(max_size=12)), max_size=12).map(b"".join)
HEADERS = st.sampled_from(
    [
        {"content-type": "text/event-stream"},
        {"content-type": "application/json"},
        {"content-type": "text/html"},
        {"content-type": "text/plain"},
        {},
        {"content-type": "text/event-stream", "content-encoding": "gzip"},
    ]
)


@given(body=HOSTILE_BODIES, headers=HEADERS, cut=st.integers(1, 8), path=st.sampled_from(PATHS))
def test_any_body_ends_in_events_or_a_typed_error(
    body: bytes, headers: dict[str, str], cut: int, path: str
) -> None:
    pieces = [body[start : start + cut] for start in range(0, len(body), cut)]

    def answer(request: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(200, headers=headers, stream=PieceStream(pieces))

    provider = OpenAiCompatibleProvider.from_vendor(
        "openai",
        api_key=FAKE_KEY,
        max_retries=0,
        http_client=httpx2.AsyncClient(transport=httpx2.MockTransport(answer)),
    )

    async def consume() -> str | None:
        """The typed error's text, or None when the answer came whole."""
        try:
            events = await run(provider, ask(), path)
        except LlmError as error:  # anything else escapes and fails the test
            return str(error)
        if path == "stream":
            assert events[-1].type == "done"
        return None

    shown = asyncio.run(consume())
    assert shown is None or FAKE_KEY not in shown
