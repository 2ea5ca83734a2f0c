"""Third hostile campaign, the wire side: answers and redirects a careful user expects to end
in a typed `LlmError` within the documented bounds, with no key sent or shown where it should
not be. Every probe goes through a real loopback server and the real providers."""

from __future__ import annotations

import contextlib
import email.utils
import gzip
import json
import time
import tracemalloc

import pytest
from support import FAKE_KEY, ask, collect_until_error
from wires import WIRES, Wire

from contracts.explain import REQUEST_CHARS, wire_evidence
from contracts.observed import Exchange
from contracts.recorder import recorded, recording_client
from contracts.replica import ReplicaServer, Script, ScriptedResponse
from providers import (
    LlmError,
    MalformedResponseError,
    ProviderUnavailableError,
    RateLimitError,
    StreamEvent,
    ToolUseStart,
)

ANTHROPIC, RESPONSES = WIRES["anthropic"], WIRES["openai_responses"]


async def _run(
    wire: Wire, response: ScriptedResponse, path: str, **settings: object
) -> tuple[list[StreamEvent], Exception | None]:
    with ReplicaServer(Script(response)) as server:
        provider = wire.provider(api_key=FAKE_KEY, base_url=server.base_url, **settings)
        if path == "stream":
            return await collect_until_error(provider.stream(ask()))
        try:
            await provider.complete(ask())
        except Exception as exc:
            return [], exc
        return [], None


# -- bombs on the wire -----------------------------------------------------------------------------

DEEP = "[" * 200_000 + "]" * 200_000


async def test_deeply_nested_json_in_an_event_is_malformed(wire: Wire) -> None:
    body = wire.unfinished("a") + wire.event(DEEP)
    _, error = await _run(wire, ScriptedResponse.sse(body), "stream")
    assert isinstance(error, MalformedResponseError), repr(error)


async def test_a_deeply_nested_answer_is_malformed(wire: Wire) -> None:
    response = ScriptedResponse(
        pieces=(DEEP.encode(),), headers={"content-type": "application/json"}
    )
    _, error = await _run(wire, response, "complete")
    assert isinstance(error, MalformedResponseError), repr(error)


@pytest.mark.parametrize("path", ["stream", "complete"])
async def test_a_huge_response_header_is_a_typed_error(wire: Wire, path: str) -> None:
    headers = {"content-type": "text/event-stream", "x-padding": "p" * 300_000}
    response = ScriptedResponse(pieces=(wire.stream("a"),), headers=headers)
    _, error = await _run(wire, response, path)
    assert isinstance(error, LlmError), repr(error)


@pytest.fixture(scope="module")
def bomb() -> bytes:
    """16 MiB of zeros in about 16 KiB of gzip: far below the bound as sent, far above it
    decoded. Made once, when a test asks for it, not when the module is collected."""
    return gzip.compress(b"0" * (16 * 1024 * 1024), compresslevel=9)


@pytest.mark.parametrize("status", [200, 500])
async def test_a_gzip_bomb_stops_at_max_response_bytes_decoded(
    wire: Wire, status: int, bomb: bytes
) -> None:
    headers = {"content-type": "application/json", "content-encoding": "gzip"}
    response = ScriptedResponse(status=status, pieces=(bomb,), headers=headers)
    tracemalloc.start()
    try:
        _, error = await _run(wire, response, "complete", max_response_bytes=1024 * 1024)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert isinstance(error, MalformedResponseError), repr(error)
    assert "max_response_bytes" in str(error)
    assert peak < 8 * 1024 * 1024, f"{peak / 2**20:.0f} MiB held for a 1 MiB bound"


@pytest.mark.parametrize("path", ["stream", "complete"])
async def test_a_body_that_stops_half_way_is_a_typed_error(wire: Wire, path: str) -> None:
    whole = wire.stream("hello") if path == "stream" else wire.answer_bytes("hello")
    kind = "text/event-stream" if path == "stream" else "application/json"
    response = ScriptedResponse(
        pieces=(whole[: len(whole) // 2], whole[len(whole) // 2 :]),
        headers={"content-type": kind, "content-length": str(len(whole))},
        disconnect_after=1,
    )
    _, error = await _run(wire, response, path)
    assert isinstance(error, LlmError), repr(error)


# -- what one answer may hold, on every protocol ---------------------------------------------------


def _anthropic_tool_stream(calls: int, fragments: int) -> bytes:
    events: list[tuple[str, object]] = [
        ("message_start", {"type": "message_start", "message": {"usage": {"input_tokens": 1}}})
    ]
    for index in range(calls):
        block = {"type": "tool_use", "id": f"toolu_{index}", "name": "f", "input": {}}
        events.append(
            ("content_block_start",
             {"type": "content_block_start", "index": index, "content_block": block})
        )  # fmt: skip
        piece = {"type": "input_json_delta", "partial_json": "x" * 100}
        events += [
            ("content_block_delta", {"type": "content_block_delta", "index": index, "delta": piece})
        ] * fragments
    return b"".join(
        f"event: {name}\ndata: {json.dumps(data)}\n\n".encode() for name, data in events
    )


def _responses_tool_stream(calls: int, fragments: int) -> bytes:
    events: list[dict[str, object]] = [
        {"type": "response.created",
         "response": {"id": "resp_1", "object": "response", "status": "in_progress",
                      "model": "m", "output": []}},
    ]  # fmt: skip
    for index in range(calls):
        item = {"type": "function_call", "id": f"fc_{index}", "call_id": f"call_{index}",
                "name": "f", "arguments": ""}  # fmt: skip
        events.append({"type": "response.output_item.added", "output_index": index, "item": item})
        events += [
            {
                "type": "response.function_call_arguments.delta",
                "item_id": f"fc_{index}",
                "output_index": index,
                "delta": "x" * 100,
            }
        ] * fragments
    return b"".join(
        f"event: {event['type']}\ndata: {json.dumps(event)}\n\n".encode() for event in events
    )


#: A completed response with no output: what ends a stream whose items were all seen.
_RESPONSES_END = b"event: response.completed\ndata: %s\n\n" % json.dumps(
    {"type": "response.completed",
     "response": {"id": "resp_1", "object": "response", "status": "completed", "model": "m",
                  "output": [], "usage": {"input_tokens": 1, "output_tokens": 1,
                                          "total_tokens": 2}}}
).encode()  # fmt: skip
_TOOL_STREAMS = {"anthropic": _anthropic_tool_stream, "openai_responses": _responses_tool_stream}


@pytest.mark.parametrize("name", sorted(_TOOL_STREAMS))
async def test_small_argument_fragments_stop_at_max_held_chars(name: str) -> None:
    body = _TOOL_STREAMS[name](1, 500)
    _, error = await _run(WIRES[name], ScriptedResponse.sse(body), "stream", max_held_chars=10_000)
    assert isinstance(error, MalformedResponseError), repr(error)
    assert "max_held_chars=10000" in str(error)


@pytest.mark.parametrize("name", sorted(_TOOL_STREAMS))
async def test_the_number_of_tool_calls_is_bounded_on_every_protocol(name: str) -> None:
    body = _TOOL_STREAMS[name](50, 1)
    events, error = await _run(WIRES[name], ScriptedResponse.sse(body), "stream", max_tool_calls=10)
    assert isinstance(error, MalformedResponseError), repr(error)
    assert sum(isinstance(event, ToolUseStart) for event in events) <= 10


# -- reader oddities ------------------------------------------------------------------------------


def _named(*events: tuple[str, object]) -> bytes:
    return b"".join(
        f"event: {name}\ndata: {json.dumps(data)}\n\n".encode() for name, data in events
    )


_ANTHROPIC_START = (
    "message_start",
    {"type": "message_start", "message": {"usage": {"input_tokens": 1}}},
)


_ANTHROPIC_END = (
    ("message_delta", {"type": "message_delta", "delta": {"stop_reason": "end_turn"}}),
    ("message_stop", {"type": "message_stop"}),
)


@pytest.mark.parametrize(
    "odd",
    [
        # a delta for a block never started
        [
            (
                "content_block_delta",
                {
                    "type": "content_block_delta",
                    "index": 3,
                    "delta": {"type": "text_delta", "text": "x"},
                },
            )
        ],
        # tool input on a text block
        [
            (
                "content_block_start",
                {
                    "type": "content_block_start",
                    "index": 0,
                    "content_block": {"type": "text", "text": ""},
                },
            ),
            (
                "content_block_delta",
                {
                    "type": "content_block_delta",
                    "index": 0,
                    "delta": {"type": "input_json_delta", "partial_json": "{"},
                },
            ),
        ],
        # data that is not an object
        [("content_block_delta", [1, 2, 3])],
        [("message_delta", None)],
    ],
    ids=["unstarted-block", "json-on-text", "array-data", "null-data"],
)
async def test_anthropic_oddities_are_malformed(odd: list[tuple[str, object]]) -> None:
    body = _named(_ANTHROPIC_START, *odd, *_ANTHROPIC_END)
    _, error = await _run(ANTHROPIC, ScriptedResponse.sse(body), "stream")
    assert isinstance(error, MalformedResponseError), repr(error)


async def test_two_function_calls_with_one_item_id_are_not_merged_silently() -> None:
    body = _responses_tool_stream(2, 1).replace(b'"fc_1"', b'"fc_0"') + _RESPONSES_END
    _, error = await _run(RESPONSES, ScriptedResponse.sse(body), "stream")
    assert isinstance(error, MalformedResponseError), repr(error)


async def test_arguments_for_an_unknown_item_are_malformed() -> None:
    body = (
        _responses_tool_stream(1, 1).replace(
            b'"item_id": "fc_0", "output_index": 0', b'"item_id": "fc_9", "output_index": 9'
        )
        + _RESPONSES_END
    )
    _, error = await _run(RESPONSES, ScriptedResponse.sse(body), "stream")
    assert isinstance(error, MalformedResponseError), repr(error)


async def test_a_responses_error_event_without_a_type_is_an_error() -> None:
    body = RESPONSES.unfinished("a") + b'event: error\ndata: {"message": "overloaded"}\n\n'
    body += (
        b"event: response.completed\ndata: "
        + json.dumps({"type": "response.completed", "response": RESPONSES.answer("a")}).encode()
        + b"\n\n"
    )
    _, error = await _run(RESPONSES, ScriptedResponse.sse(body), "stream")
    assert isinstance(error, LlmError), "the error event ends the stream"


# -- Retry-After in every form ---------------------------------------------------------------------


def _limited(wait_headers: dict[str, str], then: ScriptedResponse | None = None) -> Script:
    refusal = ScriptedResponse.json(
        {"type": "error", "error": {"type": "rate_limit_error", "message": "slow down"}},
        429,
        headers=wait_headers,
    )
    return Script(refusal, *([then] if then else []))


@pytest.mark.parametrize(
    ("headers", "wait"),
    [
        ({"retry-after": "IN_AN_HOUR"}, 3600),
        ({"retry-after": "99999999999999999999999"}, None),
        ({"retry-after-ms": "999999999"}, None),
    ],
    ids=["http-date", "huge-integer", "huge-ms"],
)
async def test_a_long_wait_in_any_form_is_given_up_at_once(
    wire: Wire, headers: dict[str, str], wait: float | None
) -> None:
    if headers.get("retry-after") == "IN_AN_HOUR":  # dated when the test runs
        headers = {"retry-after": email.utils.formatdate(time.time() + 3600, usegmt=True)}
    with ReplicaServer(_limited(headers)) as server:
        provider = wire.provider(
            api_key=FAKE_KEY, base_url=server.base_url, max_retries=3, deadline=5
        )
        with pytest.raises(RateLimitError) as raised:
            await provider.complete(ask())
    assert len(server.requests) == 1, "no wait was slept into the deadline"
    retry_after = raised.value.retry_after
    assert retry_after is not None
    assert retry_after >= 3000
    if wait is not None:
        assert abs(retry_after - wait) < 5


#: Not delta-seconds nor an HTTP date (an exponent, a sign, NaN, infinity, words): no advice,
#: so the SDK's own short backoff applies, whatever the SDK would have made of the text.
@pytest.mark.parametrize("value", ["1e12", "-5", "inf", "soon"])
@pytest.mark.parametrize("name", ["anthropic", "openai"])
async def test_odd_waits_are_no_advice(name: str, value: str) -> None:
    wire = WIRES[name]
    answer = ScriptedResponse.json(wire.answer("fine"))
    with ReplicaServer(_limited({"retry-after": value}, then=answer)) as server:
        provider = wire.provider(api_key=FAKE_KEY, base_url=server.base_url, max_retries=1)
        started = time.monotonic()
        response = await provider.complete(ask())
    assert response.text == "fine"
    assert time.monotonic() - started < 5, "an unusable wait is not slept on"


# -- keys on the wire ------------------------------------------------------------------------------


def _redirect_to(target: ReplicaServer) -> ScriptedResponse:
    return ScriptedResponse(
        status=307, headers={"location": f"{target.base_url}/v1/messages"}, pieces=(b"",)
    )


@pytest.mark.parametrize("client", ["built", "recording"])
async def test_a_redirect_to_another_origin_never_receives_the_key(client: str) -> None:
    elsewhere = ReplicaServer(Script(ScriptedResponse.json(ANTHROPIC.answer("x"))))
    with elsewhere, ReplicaServer(Script(_redirect_to(elsewhere))) as first, recorded("x"):
        settings: dict[str, object] = {"api_key": FAKE_KEY, "base_url": first.base_url}
        if client == "recording":
            settings["http_client"] = recording_client()
        provider = ANTHROPIC.provider(**settings)
        # Refusing to follow is as good as following without the key.
        with contextlib.suppress(LlmError):
            await provider.complete(ask())
    for request in elsewhere.requests:
        seen = json.dumps(request.headers)
        assert FAKE_KEY not in seen, "the key went to another origin"


async def test_a_key_in_the_base_url_query_is_not_in_a_connection_error() -> None:
    secret = "qs3cr3t-v4lue-0123456789"
    provider = ANTHROPIC.provider(
        api_key=FAKE_KEY, base_url=f"http://127.0.0.1:9/v1?key={secret}", deadline=5
    )
    with pytest.raises(ProviderUnavailableError) as raised:
        await provider.complete(ask())
    assert secret not in str(raised.value) + repr(raised.value)


# -- the key in wire evidence ----------------------------------------------------------------------


#: Where the request's text starts holding the content, and where its shown head ends.
_CONTENT_AT = len('{"messages":[{"role":"user","content":"')
_HEAD = REQUEST_CHARS - int(REQUEST_CHARS * 2 / 3)


@pytest.mark.parametrize("inside", [1, 8, 20, len(FAKE_KEY) - 1])
def test_evidence_scrubs_a_key_before_it_cuts_the_request(inside: int) -> None:
    """The key straddles the end of the request's shown head by `inside` characters."""
    pad = "x" * (_HEAD - _CONTENT_AT - inside)
    request = {"messages": [{"role": "user", "content": pad + FAKE_KEY + "y" * 2000}]}
    lines = wire_evidence([Exchange(request, 200, "application/json", "{}")], FAKE_KEY)
    text = "\n".join(lines)
    assert FAKE_KEY[:8] not in text
    assert FAKE_KEY[-8:] not in text


def test_evidence_hides_any_key_shaped_value_and_escaped_forms() -> None:
    other = "sk-ant-api03-" + "Q7" * 30
    body = json.dumps({"error": {"message": f"keys {other} and {json.dumps(FAKE_KEY + chr(10))}"}})
    lines = wire_evidence([Exchange({}, 401, "application/json", body)], FAKE_KEY)
    text = "\n".join(lines)
    assert other not in text
    assert FAKE_KEY[:8] not in text
