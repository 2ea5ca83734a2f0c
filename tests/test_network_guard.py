from __future__ import annotations

import socket

import pytest


def test_tests_cannot_reach_beyond_loopback() -> None:
    with (
        socket.socket() as sock,
        pytest.raises(ConnectionRefusedError, match="only loopback may be reached"),
    ):
        sock.connect(("192.0.2.1", 443))  # TEST-NET-1: never routed, refused before sending
