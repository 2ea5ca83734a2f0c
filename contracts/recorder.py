"""Recording live traffic while it streams: each response reaches the provider as its bytes
arrive, and a copy of at most `max_bytes` of each body is kept for the cassette.

The recorder is a pair of event hooks on the HTTP client the provider is given
(`recording_client()`), active only inside `recorded()`. Nothing process-wide is patched: a
context variable (copied into every task) says which recording is on, so recordings made
concurrently in one process each keep their own exchanges. A body past the cap ends the read
with `RecordingError`, so an endless answer costs at most the cap, never the whole body.
"""

from __future__ import annotations

import zlib
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

import httpx2

from providers.body import ZLIB_WINDOWS
from providers.errors import LlmError

#: 16 MiB of one response body: a scenario's answer is a few KiB, a long live answer a few MiB.
MAX_RECORDED_BYTES = 16 * 1024 * 1024
#: What raises the cap, named in the error.
RAISE_HINT = "raise it with --max-recorded-bytes"


class RecordingError(LlmError):
    """A response the recording cannot keep whole: past the cap, or in an encoding it cannot
    decode. Nothing is written for the case; the message names the bound and how to raise it."""


@dataclass
class RecordedExchange:
    """One request and as much of its response as the provider read."""

    method: str
    uri: str
    request_headers: dict[str, str]
    request_body: bytes
    status: int
    reason: str
    response_headers: dict[str, str]
    body: bytearray = field(default_factory=bytearray)

    def interaction(self) -> dict[str, Any]:
        """vcrpy's shape of an interaction, which the cassette serializer reads."""
        return {
            "request": {
                "method": self.method,
                "uri": self.uri,
                "headers": self.request_headers,
                "body": self.request_body,
            },
            "response": {
                "status": {"code": self.status, "message": self.reason},
                "headers": self.response_headers,
                "body": {"string": bytes(self.body)},
            },
        }


@dataclass
class Recording:
    """What one case sent and received through a recording client."""

    vendor: str
    max_bytes: int = MAX_RECORDED_BYTES
    exchanges: list[RecordedExchange] = field(default_factory=list)
    #: Why a response could not be kept, if one could not: the case's cassette must not be
    #: written. The message, not the error: the error's traceback holds the body read so far.
    failure: str | None = None

    def fail(self, why: str) -> RecordingError:
        self.failure = why
        return RecordingError(why, provider=self.vendor)


_current: ContextVar[Recording | None] = ContextVar("llm_contracts_recording", default=None)


@contextmanager
def recorded(vendor: str, max_bytes: int = MAX_RECORDED_BYTES) -> Iterator[Recording]:
    """Record what recording clients send and receive in this context (and tasks it starts)."""
    recording = Recording(vendor, max_bytes)
    token = _current.set(recording)
    try:
        yield recording
    finally:
        _current.reset(token)


def recording_client(**options: Any) -> httpx2.AsyncClient:
    """An HTTP client that records inside `recorded()` and is a plain client outside it."""
    return httpx2.AsyncClient(
        follow_redirects=True,
        event_hooks={"request": [_ask_identity], "response": [_keep_copy]},
        **options,
    )


async def _ask_identity(request: httpx2.Request) -> None:
    """A recorded body is kept as text: ask for it uncompressed."""
    if _current.get() is not None:
        request.headers["accept-encoding"] = "identity"


async def _keep_copy(response: httpx2.Response) -> None:
    recording = _current.get()
    if recording is None:
        return
    request = response.request
    try:
        sent = request.content
    except httpx2.RequestNotRead:  # a streamed upload: no provider of ours sends one
        sent = b""
    exchange = RecordedExchange(
        method=request.method,
        uri=str(request.url),
        request_headers=dict(request.headers),
        request_body=sent,
        status=response.status_code,
        reason=response.reason_phrase,
        response_headers=dict(response.headers),
    )
    recording.exchanges.append(exchange)
    assert isinstance(response.stream, httpx2.AsyncByteStream), "an async client's response"
    response.stream = _CopyingStream(response.stream, exchange, recording)


class _CopyingStream(httpx2.AsyncByteStream):
    """The response's bytes, passed on as they arrive, a decoded copy kept up to the cap."""

    def __init__(
        self, inner: httpx2.AsyncByteStream, exchange: RecordedExchange, recording: Recording
    ) -> None:
        self._inner = inner
        self._exchange = exchange
        self._recording = recording
        encoding = exchange.response_headers.get("content-encoding", "identity").lower()
        self._encoding = encoding
        window = ZLIB_WINDOWS.get(encoding)
        self._decoder = zlib.decompressobj(window) if window is not None else None

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self._inner:
            self._keep(chunk)
            yield chunk

    async def aclose(self) -> None:
        await self._inner.aclose()

    def _refuse(self, why: str) -> RecordingError:
        # The copy is of no use now; let it go at once, not when the garbage collector finds
        # the cycle the error's traceback makes through this stream.
        self._exchange.body.clear()
        return self._recording.fail(why)

    def _keep(self, chunk: bytes) -> None:
        kept = self._exchange.body
        room = self._recording.max_bytes - len(kept)
        if self._decoder is not None:
            try:
                # One byte past the room at most: a compression bomb stops at the cap too.
                chunk = self._decoder.decompress(chunk, room + 1)
            except zlib.error:
                raise self._refuse(
                    f"the {self._encoding} body of the HTTP {self._exchange.status} response "
                    "does not decode: it cannot be recorded"
                ) from None
        elif self._encoding not in ("identity", ""):
            raise self._refuse(
                f"the HTTP {self._exchange.status} response came {self._encoding}-encoded "
                "although the recorder asked for it uncompressed: it cannot be recorded"
            )
        if len(chunk) > room:
            limit = self._recording.max_bytes
            raise self._refuse(
                f"the HTTP {self._exchange.status} response body passed the recording cap of "
                f"{limit} bytes ({limit / 2**20:g} MiB) before it ended, so no cassette was "
                f"written for this case; {RAISE_HINT} if the answer is really that large"
            )
        kept += chunk
