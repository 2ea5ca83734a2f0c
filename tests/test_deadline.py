"""The deadline's one timer: it ends the body read in progress, and only its own cancellation."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import httpx2
import pytest
from support import ask, collect_until_error

from contracts.wire import chunk, sse_event
from providers import LlmProvider, from_vendor
from providers.body import Deadline, SseBody
from providers.errors import LlmError, MalformedResponseError, StreamTruncatedError
from providers.scrub import Scrubber


class SlowReads:
    """An event stream whose reads each take `seconds`."""

    def __init__(self, *reads: tuple[float, bytes]) -> None:
        self.headers = {"content-type": "text/event-stream"}
        self.reads = reads

    async def aiter_bytes(self) -> AsyncIterator[bytes]:
        for seconds, data in self.reads:
            await asyncio.sleep(seconds)
            yield data


def _fail(_: object) -> LlmError:
    return MalformedResponseError("unexpected", provider="p")


async def _connected(deadline: Deadline, *reads: tuple[float, bytes]) -> SseBody:
    body = SseBody(
        SlowReads(*reads),
        provider="p",
        scrubber=Scrubber([]),
        deadline=deadline,
        max_event_bytes=1024,
        json_answer=_fail,
        undecodable=_fail,
    )
    await body.check()
    return body


async def test_reads_before_the_deadline_return_their_value() -> None:
    deadline = Deadline(30.0)
    body = await _connected(deadline, (0, b"first"), (0, b"second"))
    assert await body.read() == b"first"
    assert await body.read() == b"second"
    assert await body.read() is None
    deadline.close()


async def test_a_read_in_progress_at_the_deadline_times_out_and_so_does_the_next() -> None:
    deadline = Deadline(0.05)
    body = await _connected(deadline, (5, b"late"), (0, b"never"))
    with pytest.raises(StreamTruncatedError, match="did not finish within the deadline"):
        await body.read()
    with pytest.raises(StreamTruncatedError, match="did not finish within the deadline"):
        await body.read()
    task = asyncio.current_task()
    assert task is not None
    assert task.cancelling() == 0  # the deadline's cancellation was taken back


async def test_a_cancellation_from_outside_stays_a_cancellation() -> None:
    deadline = Deadline(30.0)
    body = await _connected(deadline, (5, b"late"))
    reading = asyncio.ensure_future(body.read())
    await asyncio.sleep(0.01)
    reading.cancel()
    with pytest.raises(asyncio.CancelledError):
        await reading
    deadline.close()


async def test_the_deadline_passing_between_reads_cancels_nothing_and_fails_the_next_read() -> None:
    deadline = Deadline(0.02)
    body = await _connected(deadline, (0, b"ok"), (0, b"never"))
    assert await body.read() == b"ok"
    await asyncio.sleep(0.05)  # the caller's own await, between two reads: not cancelled
    with pytest.raises(StreamTruncatedError, match="did not finish within the deadline"):
        await body.read()


# -- the same rules for a provider's stream, whose loop reads the body itself --------------------


class _SlowAfterFirst(httpx2.AsyncByteStream):
    """An event stream whose first piece is there at once and whose next read takes 5 s."""

    def __init__(self, first: bytes, rest: bytes) -> None:
        self.first, self.rest = first, rest

    async def __aiter__(self) -> AsyncIterator[bytes]:
        yield self.first
        await asyncio.sleep(5)
        yield self.rest


def _slow_provider(deadline: float) -> LlmProvider:
    first = sse_event(json.dumps(chunk({"role": "assistant", "content": "hi"})))
    rest = sse_event(json.dumps(chunk(finish="stop"))) + sse_event("[DONE]")

    def handle(_: httpx2.Request) -> httpx2.Response:
        headers = {"content-type": "text/event-stream"}
        return httpx2.Response(200, headers=headers, stream=_SlowAfterFirst(first, rest))

    client = httpx2.AsyncClient(transport=httpx2.MockTransport(handle))
    return from_vendor("openai", api_key="k", http_client=client, deadline=deadline)


async def test_a_stream_read_in_progress_at_the_deadline_ends_the_stream_truncated() -> None:
    events, error = await collect_until_error(_slow_provider(0.5).stream(ask()))
    assert isinstance(error, StreamTruncatedError)
    assert "did not finish within the deadline" in str(error)
    assert [event.type for event in events] == ["connected", "text_delta"]
    task = asyncio.current_task()
    assert task is not None
    assert task.cancelling() == 0  # the deadline's cancellation was taken back


async def test_the_deadline_passing_while_the_caller_awaits_cancels_only_the_next_read() -> None:
    stream = _slow_provider(0.5).stream(ask())
    events = [await anext(stream), await anext(stream)]
    await asyncio.sleep(0.6)  # the caller's own await between two events: not cancelled
    with pytest.raises(StreamTruncatedError, match="did not finish within the deadline"):
        await anext(stream)
    assert [event.type for event in events] == ["connected", "text_delta"]


async def test_a_cancellation_from_outside_a_stream_stays_a_cancellation() -> None:
    async def consume() -> None:
        async for _ in _slow_provider(30.0).stream(ask()):
            pass

    reading = asyncio.ensure_future(consume())
    await asyncio.sleep(0.05)
    reading.cancel()
    with pytest.raises(asyncio.CancelledError):
        await reading
