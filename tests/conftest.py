from __future__ import annotations

# pytester's in-process runs restore sys.modules afterwards, dropping every module the inner
# session imported first. httpx2 imports httpcore2 on its first request and keeps that
# module's exception classes; dropped and imported again, httpcore2 raises classes httpx2 no
# longer maps, and a cut connection escapes as a raw httpcore2 error. Imported here, before
# any inner run, it is one module for the whole process.
import httpcore2  # noqa: F401
import pytest
from support import FakeVendor
from wires import WIRES, Wire


@pytest.fixture
def vendor() -> FakeVendor:
    return FakeVendor()


@pytest.fixture(params=sorted(WIRES))
def wire(request: pytest.FixtureRequest) -> Wire:
    """Each wire protocol in turn, for tests whose behaviour no protocol may change."""
    return WIRES[request.param]
