"""Repo-level test settings: tests reach only loopback, whatever the code under test tries."""

from __future__ import annotations

import gc
import os
from collections.abc import Generator, Iterator

import pytest
from hypothesis import HealthCheck, settings

from contracts.imports import without_collection
from contracts.netguard import loopback_only


@pytest.fixture(autouse=True, scope="session")
def _loopback_only() -> Iterator[None]:
    with loopback_only():
        yield


pytest_plugins = ["pytester"]


@pytest.hookimpl(tryfirst=True)
def pytest_cmdline_main(config: pytest.Config) -> None:
    """`-n` without `--dist` would deal the tests out in fixed batches, and the worker left
    with the slow ones runs alone at the end while the other core idles: steal work instead.
    Runs before pytest-xdist's own hook, which picks `load` when no mode is given."""
    option = config.option
    if getattr(option, "numprocesses", None) and getattr(option, "dist", "no") == "no":
        option.dist = "worksteal"


@pytest.hookimpl(wrapper=True)
def pytest_collection(session: pytest.Session) -> Generator[None, object, object]:
    """Collecting imports every test module and, through them, the vendor SDKs: hundreds of
    thousands of objects that live to the end of the run. The cyclic collector's passes over
    that growing heap find almost nothing (a quarter of collection's CPU), and each full pass
    during the tests would walk it again: paused while collecting, then the little garbage is
    freed and what is left is moved out of the collector's sight."""
    with without_collection():
        result = yield
    gc.collect()
    gc.freeze()
    return result


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
