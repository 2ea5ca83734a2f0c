"""Repo-level test settings: tests reach only loopback, whatever the code under test tries."""

from __future__ import annotations

import ipaddress
import os
import socket
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

_real_connect = socket.socket.connect
_real_connect_ex = socket.socket.connect_ex


def _require_loopback(address: Any) -> None:
    if isinstance(address, tuple):
        host = str(address[0])
        try:
            loopback = ipaddress.ip_address(host.split("%", maxsplit=1)[0]).is_loopback
        except ValueError:
            loopback = host == "localhost"
        if not loopback:
            raise ConnectionRefusedError(f"tests may only reach loopback, not {host}")


def _guarded_connect(self: socket.socket, address: Any) -> None:
    _require_loopback(address)
    _real_connect(self, address)


def _guarded_connect_ex(self: socket.socket, address: Any) -> int:
    _require_loopback(address)
    return _real_connect_ex(self, address)


@pytest.fixture(autouse=True, scope="session")
def _loopback_only() -> Iterator[None]:
    socket.socket.connect = _guarded_connect  # type: ignore[method-assign]
    socket.socket.connect_ex = _guarded_connect_ex  # type: ignore[method-assign]
    yield
    socket.socket.connect = _real_connect  # type: ignore[method-assign]
    socket.socket.connect_ex = _real_connect_ex  # type: ignore[method-assign]


pytest_plugins = ["pytester"]


def _register_hypothesis_profiles() -> None:
    """`ci` (default): bounded for a 2-core CI run. `thorough`: thousands of examples.

    Choose with LLM_CONTRACTS_HYPOTHESIS=thorough or pytest --hypothesis-profile=thorough.
    """
    relaxed = [HealthCheck.too_slow, HealthCheck.data_too_large]
    settings.register_profile(
        "ci", max_examples=60, deadline=None, suppress_health_check=relaxed, print_blob=True
    )
    settings.register_profile(
        "thorough", max_examples=3000, deadline=None, suppress_health_check=relaxed, print_blob=True
    )
    settings.load_profile(os.environ.get("LLM_CONTRACTS_HYPOTHESIS", "ci"))


_register_hypothesis_profiles()
