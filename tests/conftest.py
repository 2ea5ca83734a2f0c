from __future__ import annotations

import pytest
from support import FakeVendor


@pytest.fixture
def vendor() -> FakeVendor:
    return FakeVendor()
