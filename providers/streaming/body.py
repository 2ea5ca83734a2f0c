"""A streamed body's bytes -> (event name, parsed JSON data), for any SSE-based protocol.

Our SSE decoder and `jiter` replace the SDK's typed stream (a few microseconds a chunk instead
of tens). A body that ends inside an event keeps it when its JSON is whole; a cut one means
the answer is incomplete (`StreamTruncatedError`). Data that is not JSON is a
`MalformedResponseError` with a scrubbed snippet.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator, Callable
from typing import Any

import jiter

from providers.errors import MalformedResponseError, StreamTruncatedError
from providers.sse import SseDecoder

Scrub = Callable[[str], str]


def parse_json(data: bytes, *, provider: str, scrub: Scrub) -> Any:
    try:
        # Keys only: cached values would grow with every distinct string in a long stream.
        return jiter.from_json(data, cache_mode="keys")
    except ValueError:
        snippet = scrub(data[:120].decode("utf-8", "replace"))
        raise MalformedResponseError(
            f"the vendor sent a chunk that is not JSON: {snippet!r}", provider=provider
        ) from None


async def json_events(
    body: AsyncIterator[bytes], *, provider: str, scrub: Scrub
) -> AsyncGenerator[tuple[str, Any], None]:
    """Each event's name and parsed data, up to the end of the body."""
    decoder = SseDecoder()
    async for data in body:
        for event in decoder.feed(data):
            yield event.event, parse_json(event.data, provider=provider, scrub=scrub)
    tail = decoder.finish()
    if tail is not None:
        try:
            parsed = parse_json(tail.data, provider=provider, scrub=scrub)
        except MalformedResponseError:
            raise StreamTruncatedError(
                "the body ended in the middle of an event: the answer is incomplete; retry "
                "the request",
                provider=provider,
            ) from None
        yield tail.event, parsed
