"""A loopback HTTP/1.1 server that plays scripted vendor responses, with fault modes.

It runs its own event loop in a daemon thread, so sync and async tests alike can point a
provider at `base_url`. It binds 127.0.0.1 on an ephemeral port and stops, cancelling any
response still being written, when its `with` block ends.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import random
import re
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Self

from contracts.wire import split_at, wire_json

_REASONS = {
    200: "OK",
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    422: "Unprocessable Entity",
    429: "Too Many Requests",
    500: "Internal Server Error",
    503: "Service Unavailable",
    529: "Overloaded",
}


def reason_phrase(status: int) -> str:
    """What the status line says after the code."""
    return _REASONS.get(status, "Status")


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    #: When it arrived (event-loop clock, seconds): the journal that shows retries and waits.
    at: float = 0.0

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None


#: A byte inside a UTF-8 character (10xxxxxx), where a cut splits the character.
_CONTINUATION_BYTE = re.compile(b"[\x80-\xbf]")
_NEWLINE = re.compile(b"\n")


def _offsets(pattern: re.Pattern[bytes], body: bytes) -> list[int]:
    """Where `pattern`'s one-byte matches are in `body`, in order (a regex scan: a loop over
    every byte of every body cost more than the rest of the cutting)."""
    return [match.start() for match in pattern.finditer(body)]


@dataclass(frozen=True)
class ScriptedResponse:
    """One response. `pieces` are written one by one (one transport read each, usually).

    `delay` seconds pass before each piece (slow chunks, timeouts); `disconnect_after` aborts
    the connection after that many pieces, without ending the body.
    """

    status: int = 200
    pieces: tuple[bytes, ...] = ()
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    disconnect_after: int | None = None
    #: How the body was cut into reads, when `delivered_in` cut it: named in the evidence.
    delivery: str = ""
    #: Pieces after which the server waits a moment, so the client reads up to that boundary
    #: on its own (TCP would otherwise join quickly written pieces into one read).
    pauses: frozenset[int] = frozenset()

    @property
    def body(self) -> bytes:
        """The body as written: up to the disconnect, when there is one."""
        cut = self.disconnect_after
        return b"".join(self.pieces if cut is None else self.pieces[:cut])

    def delivered_in(self, seed: int) -> ScriptedResponse:
        """The same bytes, cut anew into reads as a network would: mid-line, mid-character,
        or several events in one read, chosen by `seed` (so a case is cut the same way every
        run). A disconnect still happens after the same bytes."""
        body = self.body
        if len(body) < 2:
            return self
        rng = random.Random(seed)
        style = rng.choice(("fine", "coarse", "mixed"))
        sizes = {"fine": (1, 24), "coarse": (64, 600), "mixed": (1, 600)}[style]
        cuts = set()
        position = 0
        while position < len(body):
            position += rng.randint(*sizes)
            cuts.add(position)
        inside_characters = _offsets(_CONTINUATION_BYTE, body)
        split_character = rng.choice(inside_characters) if inside_characters else None
        if split_character is not None:
            cuts.add(split_character)  # a UTF-8 character split across reads
        newlines = _offsets(_NEWLINE, body)
        if newlines:
            cuts.add(max(1, rng.choice(newlines) - rng.randint(1, 8)))  # a line split
        pieces = tuple(split_at(body, cuts))
        ends = list(itertools.accumulate(len(piece) for piece in pieces))
        pauses = frozenset({ends.index(split_character)} if split_character else ())
        split = " with a character split" if inside_characters else ""
        delivery = f"{len(pieces)} reads, {style} cuts{split} (seed {seed})"
        cut = None if self.disconnect_after is None else len(pieces)
        return ScriptedResponse(
            self.status, pieces, self.headers, self.delay, cut, delivery, pauses
        )

    @classmethod
    def sse(cls, body: bytes | Iterable[bytes], **kwargs: Any) -> ScriptedResponse:
        pieces = (body,) if isinstance(body, bytes) else tuple(body)
        headers = {"content-type": "text/event-stream", **kwargs.pop("headers", {})}
        return cls(pieces=pieces, headers=headers, **kwargs)

    @classmethod
    def json(cls, payload: Any, status: int = 200, **kwargs: Any) -> ScriptedResponse:
        headers = {"content-type": "application/json", **kwargs.pop("headers", {})}
        return cls(status=status, pieces=(wire_json(payload).encode(),), headers=headers, **kwargs)

    @classmethod
    def text(cls, text: str, status: int, **kwargs: Any) -> ScriptedResponse:
        headers = {"content-type": "text/plain", **kwargs.pop("headers", {})}
        return cls(status=status, pieces=(text.encode(),), headers=headers, **kwargs)


#: Long enough for the client to read what was written before the next piece arrives.
_PAUSE_SECONDS = 0.02

Responder = Callable[[RecordedRequest], ScriptedResponse]


class Script:
    """A responder that answers requests with the given responses, in order."""

    def __init__(self, *responses: ScriptedResponse) -> None:
        self._responses = list(responses)

    def __call__(self, request: RecordedRequest) -> ScriptedResponse:
        if not self._responses:
            return ScriptedResponse.json(
                {"error": {"message": "replica script exhausted", "type": "replica_error"}}, 500
            )
        return self._responses.pop(0)


class ReplicaServer:
    """`with`: served from an event loop of its own in a daemon thread, for any caller.
    `async with`: served by the caller's running loop, for a caller that only awaits the
    server's answers (no thread, no second loop, no switching between them per read)."""

    def __init__(self, responder: Responder) -> None:
        self.responder = responder
        self.requests: list[RecordedRequest] = []
        #: Each request with the response the replica wrote for it (as far as it got).
        self.exchanges: list[tuple[RecordedRequest, ScriptedResponse]] = []
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._own_loop: tuple[asyncio.AbstractEventLoop, threading.Thread] | None = None
        self.port = 0

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def __enter__(self) -> Self:
        loop = asyncio.new_event_loop()
        thread = threading.Thread(target=loop.run_forever, daemon=True)
        self._own_loop = loop, thread
        thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), loop).result(timeout=10)
        return self

    def __exit__(self, *exc_info: object) -> None:
        assert self._own_loop is not None, "__exit__ without __enter__"
        loop, thread = self._own_loop
        asyncio.run_coroutine_threadsafe(self._stop(), loop).result(timeout=10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)
        loop.close()

    async def __aenter__(self) -> Self:
        await self._start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self._stop()

    async def _start(self) -> None:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def _stop(self) -> None:
        assert self._server is not None
        self._server.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            request = await self._read_request(reader)
            if request is not None:
                self.requests.append(request)
                reply = self.responder(request)
                self.exchanges.append((request, reply))
                await self._write_response(writer, reply)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass  # the client hung up mid-exchange: nothing left to answer
        finally:
            self._tasks.discard(task)
            writer.close()

    @staticmethod
    async def _read_request(reader: asyncio.StreamReader) -> RecordedRequest | None:
        head = await reader.readuntil(b"\r\n\r\n")
        request_line, *header_lines = head.decode("latin-1").split("\r\n")
        if not request_line:
            return None
        method, target, _ = request_line.split(" ", 2)
        headers = {}
        for line in header_lines:
            if line:
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
        length = int(headers.get("content-length", "0"))
        body = await reader.readexactly(length) if length else b""
        return RecordedRequest(method, target, headers, body, asyncio.get_running_loop().time())

    async def _write_response(self, writer: asyncio.StreamWriter, reply: ScriptedResponse) -> None:
        """The head and the pieces, each its own HTTP chunk. Served on the client's own loop
        (`async with`), pieces with nothing between them are written in one go: the loop does
        not yield between writes, so the client reads them together however many sends they
        take (a send each cost more CPU than the rest of the replica). Only a wait (a delay,
        a pause) lets that client read up to a piece's end on its own, and each wait comes
        after exactly that piece, as it always did. From a thread of its own (`with`), each
        piece is sent alone: a client in another thread may read between any two."""
        head = [f"HTTP/1.1 {reply.status} {reason_phrase(reply.status)}"]
        head.extend(f"{name}: {value}" for name, value in reply.headers.items())
        head += ["transfer-encoding: chunked", "connection: close"]
        unsent = bytearray(("\r\n".join(head) + "\r\n\r\n").encode("latin-1"))

        async def send() -> None:
            if unsent:
                writer.write(bytes(unsent))
                unsent.clear()
                await writer.drain()

        piece_by_piece = self._own_loop is not None
        if piece_by_piece:
            await send()

        cut = reply.disconnect_after
        for number, piece in enumerate(reply.pieces if cut is None else reply.pieces[:cut]):
            if reply.delay:
                await send()
                await asyncio.sleep(reply.delay)
            if piece:
                unsent += b"%x\r\n%s\r\n" % (len(piece), piece)
                if piece_by_piece:
                    await send()
            if number in reply.pauses:
                await send()
                await asyncio.sleep(_PAUSE_SECONDS)
        if cut is not None:
            await send()
            writer.transport.abort()
            return
        unsent += b"0\r\n\r\n"
        await send()
