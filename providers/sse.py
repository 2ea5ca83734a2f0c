"""An incremental Server-Sent Events decoder over raw bytes.

We parse the body ourselves instead of using the SDK's typed stream: building the SDK's chunk
objects costs ~70 us a chunk, reading the bytes ~3 us (design section 11). The decoder follows
the WHATWG event-stream rules that matter for vendors: `\\n`, `\\r\\n` and `\\r` line ends,
comment lines, multi-line `data:`, and events split anywhere across reads.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class SseEvent:
    data: bytes
    event: str = "message"


class SseDecoder:
    """Feed it bytes as they arrive; it returns the events completed so far."""

    __slots__ = ("_data", "_event", "_pending", "_pending_cr")

    def __init__(self) -> None:
        self._pending = b""
        self._pending_cr = False
        self._data: list[bytes] = []
        self._event = "message"

    def feed(self, chunk: bytes) -> list[SseEvent]:
        if self._pending_cr:
            # A read ended on "\r": a "\n" starting this read belongs to the same line end.
            self._pending_cr = False
            if chunk.startswith(b"\n"):
                chunk = chunk[1:]
        buffer = self._pending + chunk if self._pending else chunk
        if b"\r" in buffer:
            if buffer.endswith(b"\r"):
                self._pending_cr = True
            buffer = buffer.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        lines = buffer.split(b"\n")
        self._pending = lines.pop()
        events: list[SseEvent] = []
        for line in lines:
            event = self._line(line)
            if event is not None:
                events.append(event)
        return events

    def finish(self) -> SseEvent | None:
        """The event the body ended inside of, if any: the caller decides whether it is whole."""
        if self._pending:
            self._line(self._pending)
            self._pending = b""
        if not self._data:
            return None
        event = SseEvent(b"\n".join(self._data), self._event)
        self._data = []
        return event

    def _line(self, line: bytes) -> SseEvent | None:
        if not line:
            if not self._data:
                self._event = "message"
                return None
            event = SseEvent(
                self._data[0] if len(self._data) == 1 else b"\n".join(self._data), self._event
            )
            self._data = []
            self._event = "message"
            return event
        if line[0] == 0x3A:  # ":" starts a comment (keep-alives, ":ok", ": OPENROUTER PROCESSING")
            return None
        field, _, value = line.partition(b":")
        if value.startswith(b" "):
            value = value[1:]
        if field == b"data":
            self._data.append(value)
        elif field == b"event":
            self._event = value.decode("utf-8", "replace")
        return None
