"""pytest plugin (entry point `pytest11`): parametrizes every `ProviderContract` subclass."""

from __future__ import annotations

import pytest

from contracts.suite import ProviderContract, contract_params


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    cls = metafunc.cls
    if (
        cls is not None
        and issubclass(cls, ProviderContract)
        and ("contract_case" in metafunc.fixturenames)
    ):
        metafunc.parametrize("contract_case", contract_params(cls))
