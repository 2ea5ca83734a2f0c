"""Loopback-only networking for test runs: any connection beyond 127.0.0.1/::1 is refused.

A contract run must never reach a real vendor by accident (a base URL left pointing at the
internet, an SDK's telemetry); this makes such an attempt fail loudly instead.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

_real_connect = socket.socket.connect
_real_connect_ex = socket.socket.connect_ex


class NetworkBlockedError(ConnectionRefusedError):
    """A connection to a non-loopback address was attempted while the guard was on."""


def require_loopback(address: Any) -> None:
    if isinstance(address, tuple):
        host = str(address[0])
        try:
            loopback = ipaddress.ip_address(host.split("%", maxsplit=1)[0]).is_loopback
        except ValueError:
            loopback = host == "localhost"
        if not loopback:
            raise NetworkBlockedError(f"only loopback may be reached here, not {host}")


def _guarded_connect(self: socket.socket, address: Any) -> None:
    require_loopback(address)
    _real_connect(self, address)


def _guarded_connect_ex(self: socket.socket, address: Any) -> int:
    require_loopback(address)
    return _real_connect_ex(self, address)


@contextmanager
def loopback_only() -> Iterator[None]:
    """Refuse every non-loopback connection while the block runs."""
    socket.socket.connect = _guarded_connect  # type: ignore[method-assign,assignment]
    socket.socket.connect_ex = _guarded_connect_ex  # type: ignore[method-assign,assignment]
    try:
        yield
    finally:
        socket.socket.connect = _real_connect  # type: ignore[method-assign]
        socket.socket.connect_ex = _real_connect_ex  # type: ignore[method-assign]
