"""A loopback server whose answer does not end: one line (or one JSON document) that keeps
growing, for the memory tests. It stops at `total` bytes, so a client without a bound still
finishes (and its memory shows it) instead of running the test machine out of memory."""

from __future__ import annotations

import contextlib
import socket
import threading
from types import TracebackType
from typing import Self

_PIECE = 64 * 1024


class EndlessServer:
    """Answers every request (`status`) with `prefix`, then `filler` bytes up to `total`."""

    def __init__(
        self,
        *,
        content_type: str,
        prefix: bytes,
        total: int,
        filler: bytes = b"a",
        status: str = "200 OK",
    ):
        self.status = status
        self.content_type = content_type
        self.prefix = prefix
        self.total = total
        self.piece = filler * max(1, _PIECE // len(filler))  # whole fillers: events stay whole
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.requests = 0
        self._thread = threading.Thread(target=self._accept, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.listener.getsockname()[1]}/v1"

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        with contextlib.suppress(OSError):
            self.listener.shutdown(socket.SHUT_RDWR)  # wakes the blocked accept()
        self.listener.close()
        self._thread.join(timeout=10)

    def _accept(self) -> None:
        while True:
            try:
                connection, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._answer, args=(connection,), daemon=True).start()

    def _answer(self, connection: socket.socket) -> None:
        with connection:
            try:
                if not self._read_request(connection):
                    return  # a probe that only connects
                self.requests += 1
                head = (
                    f"HTTP/1.1 {self.status}\r\ncontent-type: {self.content_type}\r\n"
                    "transfer-encoding: chunked\r\n\r\n"
                )
                connection.sendall(head.encode() + _chunk(self.prefix))
                sent = len(self.prefix)
                while sent < self.total:
                    connection.sendall(_chunk(self.piece))
                    sent += len(self.piece)
                connection.sendall(b"0\r\n\r\n")
            except OSError:
                return  # the client gave up: what the bound is for

    @staticmethod
    def _read_request(connection: socket.socket) -> bool:
        data = b""
        while b"\r\n\r\n" not in data:
            more = connection.recv(65536)
            if not more:
                return False
            data += more
        head, _, body = data.partition(b"\r\n\r\n")
        length = next(
            (
                int(line.split(b":", 1)[1])
                for line in head.split(b"\r\n")
                if line.lower().startswith(b"content-length:")
            ),
            0,
        )
        while len(body) < length:
            more = connection.recv(65536)
            if not more:
                return False
            body += more
        return True


def _chunk(data: bytes) -> bytes:
    return b"%x\r\n%s\r\n" % (len(data), data)
