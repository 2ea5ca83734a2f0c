from __future__ import annotations

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
