from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING

# pytester's in-process runs restore sys.modules afterwards, dropping every module the inner
# session imported first. httpx2 imports httpcore2 on its first request and keeps that
# module's exception classes; dropped and imported again, httpcore2 raises classes httpx2 no
# longer maps, and a cut connection escapes as a raw httpcore2 error. Imported here, before
# any inner run, it is one module for the whole process.
import httpcore2
import pytest

if TYPE_CHECKING:
    from support import FakeVendor

#: Every provider built without a client of its own makes an HTTP client that loads the
#: system's CA bundle into a new TLS context: 40-90 ms of CPU each, and the suite builds
#: thousands (collection builds some too). No test speaks TLS (only plain HTTP to 127.0.0.1),
#: so the context loaded once serves every client in this process.
_one_tls_context = pytest.MonkeyPatch()


def pytest_configure(config: pytest.Config) -> None:
    _one_tls_context.setattr(httpcore2, "default_ssl_context", cache(httpcore2.default_ssl_context))


def pytest_unconfigure(config: pytest.Config) -> None:
    _one_tls_context.undo()


# The helpers below are imported where a test needs them, not when this file is: xdist's
# controller process loads this file too, runs no test, and would otherwise import every
# vendor SDK (about 2 s of CPU) before it starts the workers.


@pytest.fixture
def vendor() -> FakeVendor:
    from support import FakeVendor

    return FakeVendor()


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """`wire`: each wire protocol in turn, for tests whose behaviour no protocol may change."""
    if "wire" in metafunc.fixturenames:
        from wires import WIRES

        names = sorted(WIRES)
        metafunc.parametrize("wire", [WIRES[name] for name in names], ids=names)
