"""An in-memory httpx2 transport that hands a provider vendor bytes in chosen pieces.

Used by the property suite and the tests: the provider's real code path (SDK, transport, our
SSE decoder, chunk reader, block assembler) runs, each piece arriving as one transport read.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence

import httpx2


class PieceStream(httpx2.AsyncByteStream):
    """A response body delivered in the given pieces; can fail mid-body like a dropped link."""

    def __init__(self, pieces: Sequence[bytes], *, fail_after: int | None = None) -> None:
        self.pieces = pieces  # not copied: a benchmark's input is not the stream's cost
        self.fail_after = fail_after
        self.sent = 0
        self.closed = False

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for number, piece in enumerate(self.pieces):
            if self.fail_after is not None and number >= self.fail_after:
                raise httpx2.RemoteProtocolError("peer closed connection mid-body")
            self.sent += 1
            yield piece

    async def aclose(self) -> None:
        self.closed = True


def sse_response(pieces: Sequence[bytes], *, status: int = 200) -> httpx2.Response:
    return httpx2.Response(
        status, headers={"content-type": "text/event-stream"}, stream=PieceStream(pieces)
    )


def replay_transport(*responses: httpx2.Response) -> httpx2.MockTransport:
    """Answers successive requests with the given responses, in order."""
    queue = list(responses)

    def handle(request: httpx2.Request) -> httpx2.Response:
        if not queue:
            raise AssertionError(f"no scripted response left for {request.method} {request.url}")
        return queue.pop(0)

    return httpx2.MockTransport(handle)
