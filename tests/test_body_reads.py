"""Where a stream's bytes are read from: the transport's stream when they come as they were
sent, the response's own byte iterator (which decodes) otherwise, and whole either way."""

from __future__ import annotations

import gzip
from collections.abc import AsyncIterator, Awaitable, Callable

import httpx2
import pytest
from support import ask

from contracts.transport import PieceStream
from providers import from_vendor
from providers.types import TextDelta

BODY = [
    b'data: {"choices": [{"index": 0, "delta": {"content": "one "}}]}\n\n',
    b'data: {"choices": [{"index": 0, "delta": {"content": "two"}, "finish_reason": "stop"}]}\n\n',
    b"data: [DONE]\n\n",
]

Hook = Callable[[httpx2.Response], Awaitable[None]]


def _client(
    pieces: list[bytes], *, encoding: str | None = None, hook: Hook | None = None
) -> httpx2.AsyncClient:
    headers = {"content-type": "text/event-stream"}
    if encoding is not None:
        headers["content-encoding"] = encoding

    def handle(_: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(200, headers=headers, stream=PieceStream(pieces))

    hooks = {"response": [hook]} if hook is not None else {}
    return httpx2.AsyncClient(transport=httpx2.MockTransport(handle), event_hooks=hooks)


async def _text(client: httpx2.AsyncClient) -> str:
    provider = from_vendor("openai", api_key="k", http_client=client)
    return "".join(
        [event.text async for event in provider.stream(ask()) if isinstance(event, TextDelta)]
    )


def _iterator_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    async def refused(self: httpx2.Response, chunk_size: int | None = None) -> AsyncIterator[bytes]:
        raise AssertionError("read through the response's byte iterator")
        yield b""  # pragma: no cover - makes this an async generator

    monkeypatch.setattr(httpx2.Response, "aiter_bytes", refused)


async def test_bytes_as_sent_are_read_from_the_transport_stream(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _iterator_refused(monkeypatch)
    assert await _text(_client(BODY)) == "one two"
    assert await _text(_client(BODY, encoding="identity")) == "one two"


async def test_an_encoded_body_is_decoded_by_the_response_iterator() -> None:
    zipped = gzip.compress(b"".join(BODY))
    pieces = [zipped[:10], zipped[10:]]
    assert await _text(_client(pieces, encoding="gzip")) == "one two"


async def test_a_body_a_hook_already_read_is_given_whole(monkeypatch: pytest.MonkeyPatch) -> None:
    """A caller's client may read every response in an event hook (to log it): the transport
    stream is spent then, and the body comes from what the response kept."""

    async def read_it(response: httpx2.Response) -> None:
        await response.aread()

    assert await _text(_client(BODY, hook=read_it)) == "one two"
