"""An incremental Server-Sent Events decoder over raw bytes.

We parse the body ourselves instead of using the SDK's typed stream: building the SDK's chunk
objects costs ~70 us a chunk, reading the bytes ~3 us. The decoder follows the WHATWG
event-stream rules that matter for vendors: one leading UTF-8 BOM dropped, `\\n`, `\\r\\n` and
`\\r` line ends, comment lines, multi-line `data:`, and events split anywhere across reads.

Each read is scanned once and a partial line is kept as a list of pieces, so decoding is
linear in the body's size however long one line is; `max_event_bytes` bounds the memory one
event (or one unfinished line) may take.
"""

from __future__ import annotations

from dataclasses import dataclass

_BOM = b"\xef\xbb\xbf"


@dataclass(frozen=True, slots=True)
class SseEvent:
    data: bytes
    event: str = "message"


class SseEventTooLargeError(ValueError):
    """One event (or one line) grew past the decoder's `max_event_bytes`."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"one event is larger than {limit} bytes")
        self.limit = limit


class SseDecoder:
    """Feed it bytes as they arrive; it returns the events completed so far."""

    __slots__ = (
        "_at_start",
        "_data",
        "_data_size",
        "_event",
        "_limit",
        "_pending",
        "_pending_cr",
        "_pending_size",
    )

    def __init__(self, max_event_bytes: int | None = None) -> None:
        self._limit = max_event_bytes
        self._at_start = True
        self._pending: list[bytes] = []
        self._pending_size = 0
        self._pending_cr = False
        self._data: list[bytes] = []
        self._data_size = 0
        self._event = "message"

    def feed(self, chunk: bytes) -> list[SseEvent]:
        if self._at_start:
            chunk = self._without_bom(chunk)
            if not chunk:
                return []
        if self._pending_cr:
            # A read ended on "\r": a "\n" starting this read belongs to the same line end.
            self._pending_cr = False
            if chunk.startswith(b"\n"):
                chunk = chunk[1:]
        if b"\r" in chunk:
            if chunk.endswith(b"\r"):
                self._pending_cr = True
            chunk = chunk.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        lines = chunk.split(b"\n")
        tail = lines.pop()
        if lines and self._pending:
            lines[0] = b"".join((*self._pending, lines[0]))
            self._pending.clear()
            self._pending_size = 0
        if tail:
            self._pending.append(tail)
            self._pending_size += len(tail)
        events: list[SseEvent] = []
        for line in lines:
            event = self._line(line)
            if event is not None:
                events.append(event)
        self._check_size()
        return events

    def finish(self) -> SseEvent | None:
        """The event the body ended inside of, if any: the caller decides whether it is whole.

        Call it once, when the body has ended: the decoder is done after it.
        """
        if self._pending:
            # A partial line is never blank, so reading it can only add to the event.
            self._line(b"".join(self._pending))
        if not self._data:
            return None
        return SseEvent(b"\n".join(self._data), self._event)

    def _without_bom(self, chunk: bytes) -> bytes:
        """Drop one leading BOM, even when it arrives split across the first reads."""
        head = b"".join((*self._pending, chunk))
        if len(head) < len(_BOM) and _BOM.startswith(head):
            self._pending = [head]
            return b""
        self._at_start = False
        self._pending.clear()
        return head[len(_BOM) :] if head.startswith(_BOM) else head

    def _check_size(self) -> None:
        if self._limit is not None and self._data_size + self._pending_size > self._limit:
            raise SseEventTooLargeError(self._limit)

    def _line(self, line: bytes) -> SseEvent | None:
        if not line:
            if not self._data:
                self._event = "message"
                return None
            event = SseEvent(
                self._data[0] if len(self._data) == 1 else b"\n".join(self._data), self._event
            )
            self._data = []
            self._data_size = 0
            self._event = "message"
            return event
        # Comments (":ok", keep-alives) and unknown fields fall through every test below.
        if line.startswith(b"data:"):
            # One slice, not partition-then-strip: a long line is copied once.
            value = line[6:] if line.startswith(b" ", 5) else line[5:]
            self._data.append(value)
            self._data_size += len(value)
            self._check_size()
        elif line == b"data":  # a field name alone has an empty value
            self._data.append(b"")
        elif line.startswith(b"event:"):
            value = line[7:] if line.startswith(b" ", 6) else line[6:]
            self._event = value.decode("utf-8", "replace")
        return None
