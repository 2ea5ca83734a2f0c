from __future__ import annotations

from functools import cache

# pytester's in-process runs restore sys.modules afterwards, dropping every module the inner
# session imported first. httpx2 imports httpcore2 on its first request and keeps that
# module's exception classes; dropped and imported again, httpcore2 raises classes httpx2 no
# longer maps, and a cut connection escapes as a raw httpcore2 error. Imported here, before
# any inner run, it is one module for the whole process.
import httpcore2
import pytest
from support import FakeVendor
from wires import WIRES, Wire

#: Every provider built without a client of its own makes an HTTP client that loads the
#: system's CA bundle into a new TLS context: 40-90 ms of CPU each, and the suite builds
#: thousands (collection builds some too). No test speaks TLS (only plain HTTP to 127.0.0.1),
#: so the context loaded once serves every client in this process.
_one_tls_context = pytest.MonkeyPatch()


def pytest_configure(config: pytest.Config) -> None:
    _one_tls_context.setattr(httpcore2, "default_ssl_context", cache(httpcore2.default_ssl_context))


def pytest_unconfigure(config: pytest.Config) -> None:
    _one_tls_context.undo()


@pytest.fixture
def vendor() -> FakeVendor:
    return FakeVendor()


@pytest.fixture(params=sorted(WIRES))
def wire(request: pytest.FixtureRequest) -> Wire:
    """Each wire protocol in turn, for tests whose behaviour no protocol may change."""
    return WIRES[request.param]
