"""Read a streaming HTTP response body as SSE events, bounded in time and memory.

Protocol-neutral: any provider whose vendor streams Server-Sent Events reads its body here.
A body can be hostile or just unlucky: a proxy's HTML page or a JSON error answered with
HTTP 200, a leading BOM, a corrupt `content-encoding`, a server trickling one byte a second,
one endless event. Each ends as a typed `LlmError`, never a transport exception, a hang or
unbounded memory.
"""

from __future__ import annotations

import asyncio
import zlib
from collections.abc import AsyncIterator, Callable, Mapping
from typing import Any, Protocol

import httpx2
import jiter

from providers.errors import (
    LlmError,
    MalformedResponseError,
    ProviderUnavailableError,
    StreamTruncatedError,
)
from providers.scrub import Scrubber
from providers.sse import SseDecoder, SseEvent

#: Content encodings decoded here, a piece at a time and never past a bound: zlib's window
#: bits for each (47: a zlib or a gzip header, whichever the body has).
ZLIB_WINDOWS = {"gzip": 16 + zlib.MAX_WBITS, "x-gzip": 16 + zlib.MAX_WBITS, "deflate": 47}
#: How much of a body that is not an event stream is kept to judge it: an error body is small.
_JUDGED_BYTES = 64 * 1024
_SNIPPET = 200
_LEADING_NOISE = b"\xef\xbb\xbf \t\r\n"
_JSON_START = (b"{", b"[")


class ByteResponse(Protocol):
    """The part of a streaming HTTP response we read: its headers and decoded bytes (an
    `httpx2.Response`, read directly rather than through an SDK's wrapper around it)."""

    @property
    def headers(self) -> Mapping[str, str]: ...

    def aiter_bytes(self) -> AsyncIterator[bytes]: ...


class Deadline:
    """When the whole response must have arrived: `seconds` from now, whatever each read takes.

    A per-read timeout alone lets a server that trickles a byte a second hold a call forever.
    A body is read under one timer for the whole response, not one per read: a body that never
    waits (in memory, or already buffered) gives the loop no turn to drop cancelled timers, so
    per-read timers would pile up with the stream's length. The timer cancels only the task
    that is inside a read when it fires (a reader sets `reader` for the time of each read), never
    the caller's code between two events.
    """

    __slots__ = ("_at", "_cancelled", "_handle", "expired", "reader", "seconds")

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._at = asyncio.get_running_loop().time() + seconds
        #: Set once the deadline has passed; a read started after it fails at once.
        self.expired = False
        #: The task inside a read of the body right now, if any: the one the timer cancels.
        self.reader: asyncio.Task[Any] | None = None
        self._handle: asyncio.TimerHandle | None = None
        #: The task the timer cancelled, with its count of cancellations before.
        self._cancelled: tuple[asyncio.Task[Any], int] | None = None

    def remaining(self) -> float:
        """Seconds left before the deadline (negative once it passed)."""
        return self._at - asyncio.get_running_loop().time()

    def guard(self) -> asyncio.Timeout:
        """Wrap one await (never a `yield`): raises TimeoutError once the deadline passes."""
        return asyncio.timeout_at(self._at)

    def arm(self) -> None:
        """Start the one timer for the body's reads (again: no effect)."""
        if self._handle is None:
            self._handle = asyncio.get_running_loop().call_at(self._at, self._expire)

    def close(self) -> None:
        """Drop the timer: the response is over."""
        if self._handle is not None:
            self._handle.cancel()

    def took_back(self) -> bool:
        """Whether the cancellation being handled is the timer's own, and no one else's: then
        it is taken back from the task (its caller raises the timeout instead)."""
        cancelled, self._cancelled = self._cancelled, None
        if cancelled is None:
            return False
        task, cancelling = cancelled
        return task.uncancel() <= cancelling

    def _expire(self) -> None:
        self.expired = True
        task = self.reader
        if task is not None:
            # How many cancellations the task had before this one: any more are someone else's.
            self._cancelled = (task, task.cancelling())
            task.cancel()

    def before_connected(self, provider: str) -> ProviderUnavailableError:
        return ProviderUnavailableError(
            f"no complete response within the deadline of {self.seconds:g}s: retry later or "
            "raise deadline=",
            provider=provider,
        )

    def mid_body(self, provider: str) -> StreamTruncatedError:
        return StreamTruncatedError(
            f"the response did not finish within the deadline of {self.seconds:g}s: the answer "
            "is incomplete; retry the request or raise deadline=",
            provider=provider,
        )


def cap_bodies(client: httpx2.AsyncClient, limit: int, provider: str) -> None:
    """Bound every body the SDK reads whole on `client` (one the provider built: a caller's
    own client is not changed): an error body that never ends stops at `limit` bytes with
    `MalformedResponseError`. The bound holds for the decoded bytes: a few KiB of gzip can
    stand for gigabytes, so the body is decoded here, never past the bound, and reaches the
    SDK as plain bytes. Event streams are bounded per event instead (`SseBody`)."""

    async def capped(response: httpx2.Response) -> None:
        if media_type(response.headers) != "text/event-stream":
            assert isinstance(response.stream, httpx2.AsyncByteStream), "an async client"
            encoding = response.headers.pop("content-encoding", "identity").strip().lower()
            response.stream = _CappedStream(response.stream, limit, provider, encoding)

    client.event_hooks["response"].append(capped)


class _CappedStream(httpx2.AsyncByteStream):
    def __init__(
        self, inner: httpx2.AsyncByteStream, limit: int, provider: str, encoding: str
    ) -> None:
        self._inner = inner
        self._limit = limit
        self._provider = provider
        self._encoding = encoding
        window = ZLIB_WINDOWS.get(encoding)
        self._decoder = zlib.decompressobj(window) if window is not None else None

    def _decoded(self, piece: bytes, room: int) -> bytes:
        if self._decoder is None:
            if self._encoding in ("identity", ""):
                return piece
            raise MalformedResponseError(
                f"the response came {self._encoding}-encoded, which was not asked for and "
                "cannot be read within max_response_bytes",
                provider=self._provider,
            )
        try:
            # One byte past the room at most: a compression bomb stops at the bound too.
            return self._decoder.decompress(piece, room + 1)
        except zlib.error as exc:
            # Read as every corrupt encoding is: worth a retry.
            raise httpx2.DecodingError(f"{self._encoding}: {exc}") from None

    async def __aiter__(self) -> AsyncIterator[bytes]:
        read = 0
        async for raw in self._inner:
            piece = self._decoded(raw, self._limit - read)
            read += len(piece)
            if read > self._limit:
                raise MalformedResponseError(
                    f"the response body is larger than max_response_bytes={self._limit} and "
                    "still not over: the vendor sent more than any answer needs; raise "
                    "max_response_bytes= if this is expected",
                    provider=self._provider,
                )
            yield piece

    async def aclose(self) -> None:
        await self._inner.aclose()


def media_type(headers: Mapping[str, str]) -> str:
    return headers.get("content-type", "").partition(";")[0].strip().lower()


def _looks_like(data: bytes) -> bytes:
    """The first meaningful byte of a body: `{`/`[` JSON, `<` HTML, else anything."""
    return data.lstrip(_LEADING_NOISE)[:1]


def is_json(headers: Mapping[str, str], data: bytes) -> bool:
    kind = media_type(headers)
    return kind == "application/json" or kind.endswith("+json") or _looks_like(data) in _JSON_START


def proxy_page_error(
    headers: Mapping[str, str], data: bytes, *, provider: str, scrubber: Scrubber
) -> ProviderUnavailableError | None:
    """An HTML page where the vendor's answer should be: a proxy, portal or gateway spoke."""
    if "html" not in media_type(headers) and _looks_like(data) != b"<":
        return None
    return ProviderUnavailableError(
        "HTTP 200 with an HTML page instead of the vendor's answer: a proxy or gateway "
        "answered, not the vendor; check base_url and any proxy between you and the vendor: "
        f"{scrubber.snippet(data, _SNIPPET)!r}",
        provider=provider,
        status_code=200,
        retryable=False,
    )


def _piece_reads(response: ByteResponse) -> AsyncIterator[bytes]:
    """The body's pieces, as they arrive.

    An httpx2 response whose bytes come as they were sent (no content-encoding) is read from
    its transport stream: the response's own byte iterator adds two generator layers and three
    list-building calls to every read (about 1 us, as much as the rest of reading an event) to
    decode and re-chunk bytes that need neither. Any other body, and one something else has
    begun to read, goes through that iterator, which decodes it."""
    if (
        isinstance(response, httpx2.Response)
        and not response.is_stream_consumed
        and not response.is_closed
        and isinstance(response.stream, httpx2.AsyncByteStream)
        and response.headers.get("content-encoding", "identity").strip().lower() == "identity"
    ):
        response.is_stream_consumed = True  # as its own iterator marks it: nobody reads it twice
        return response.stream.__aiter__()
    return response.aiter_bytes().__aiter__()


class SseBody:
    """One streaming response. `check()` before `Connected`; then read each piece of the body
    (`pieces()`, or `read()`) and `feed()` it to get the events it completes; then `tail()`
    once the body ends.

    `json_answer` turns a JSON body (where an event stream was expected) into the error the
    protocol maps it to: a vendor's error body keeps the vendor's own message and type.
    `undecodable` names a body whose content-encoding does not decode.
    """

    def __init__(
        self,
        response: ByteResponse,
        *,
        provider: str,
        scrubber: Scrubber,
        deadline: Deadline,
        max_event_bytes: int,
        json_answer: Callable[[Any], LlmError],
        undecodable: Callable[[Exception], LlmError],
    ) -> None:
        self._response = response
        self._provider = provider
        self._scrubber = scrubber
        self._deadline = deadline
        self._json_answer = json_answer
        self._undecodable = undecodable
        self._decoder = SseDecoder(max_event_bytes, too_large=self._too_large)
        #: The events a piece of the body completes. While none has come, the body so far is
        #: kept to judge it; then straight to the decoder, with no layer per event.
        self.feed: Callable[[bytes], list[SseEvent]] = self._feed_judging
        self._reads = _piece_reads(response)
        deadline.arm()
        #: The body read by `check()` to judge it, given back by the first `read()`.
        self._first: bytes | None = None
        self._connected = False
        #: The body so far while no event came out of it: judged when it ends without one.
        self._head: bytearray | None = bytearray()

    async def check(self) -> None:
        """Raise the typed error for a body that is not an event stream, before any event."""
        if media_type(self._response.headers) != "text/event-stream":
            data = await self._judged_prefix(await self.read() or b"")
            self._judge(data)
            self._first = data
        self._connected = True

    def pieces(self) -> AsyncIterator[bytes]:
        """The body's pieces from where `check()` left off, for the caller's own `async for`:
        no layer of ours per piece. Around each read the caller sets `deadline.reader` (and
        checks `deadline.expired` before it); what the loop raises goes to `read_error`."""
        if self._first is None:
            return self._reads
        first, self._first = self._first, None
        return self._after(first)

    def read_error(self, exc: BaseException) -> LlmError | None:
        """The typed error for an exception out of a read: the deadline's own cancellation, a
        body that does not decode. None for any other: the caller raises it again."""
        if isinstance(exc, httpx2.DecodingError):
            return self._undecodable(exc)
        if isinstance(exc, asyncio.CancelledError) and self._deadline.took_back():
            return self.timed_out()
        return None

    def timed_out(self) -> LlmError:
        """The error for a deadline that passed, before or after `Connected`."""
        deadline = self._deadline
        if self._connected:
            return deadline.mid_body(self._provider)
        return deadline.before_connected(self._provider)

    async def read(self) -> bytes | None:
        """The next piece of the body, or None at its end; a read at a time (`check()` and
        tests: a stream's loop reads `pieces()` itself)."""
        if self._first is not None:
            first, self._first = self._first, None
            if first:
                return first
        deadline = self._deadline
        if deadline.expired:
            raise self.timed_out()
        deadline.reader = asyncio.current_task()
        try:
            return await anext(self._reads, None)
        except (asyncio.CancelledError, httpx2.DecodingError) as exc:
            error = self.read_error(exc)
            if error is None:
                raise
        finally:
            deadline.reader = None
        raise error  # outside the handler: nothing of the transport's failure is chained

    async def _after(self, first: bytes) -> AsyncIterator[bytes]:
        """`first` (read to judge the body), then the rest."""
        if first:
            yield first
        async for piece in self._reads:
            yield piece

    def tail(self) -> SseEvent | None:
        """The event the body ended inside of, if any. A body that gave no event at all is
        judged like one not labelled as an event stream: an HTML page, or a JSON answer."""
        if self._head:
            self._judge(bytes(self._head))
        return self._decoder.finish()

    # -- internals ----------------------------------------------------------------------------

    async def _judged_prefix(self, first: bytes) -> bytes:
        """Enough of a body to judge it: up to `_JUDGED_BYTES`, or all of it when shorter."""
        kept = bytearray(first)
        while len(kept) < _JUDGED_BYTES and _looks_like(bytes(kept)) in (*_JSON_START, b"<"):
            data = await self.read()
            if data is None:
                break
            kept += data
        return bytes(kept)

    def _feed_judging(self, data: bytes) -> list[SseEvent]:
        """`feed` until the body has given an event (or too much to be an error body)."""
        events = self._decoder.feed(data)
        assert self._head is not None, "judging until the head is settled"
        if events or len(self._head) > _JUDGED_BYTES:
            self._head = None
            self.feed = self._decoder.feed
        else:
            self._head += data
        return events

    def _too_large(self, limit: int) -> MalformedResponseError:
        return MalformedResponseError(
            f"one event is larger than max_event_bytes={limit}: the vendor sent more than any "
            "answer needs; raise max_event_bytes= if this is expected",
            provider=self._provider,
        )

    def _judge(self, data: bytes) -> None:
        page = proxy_page_error(
            self._response.headers, data, provider=self._provider, scrubber=self._scrubber
        )
        if page is not None:
            raise page
        if is_json(self._response.headers, data):
            raise self._json(data)

    def _json(self, data: bytes) -> LlmError:
        try:
            body = jiter.from_json(data)
        except ValueError:
            return MalformedResponseError(
                "the vendor answered with a JSON body that does not parse, not an event "
                f"stream: {self._scrubber.snippet(data, _SNIPPET)!r}",
                provider=self._provider,
            )
        return self._json_answer(body)
