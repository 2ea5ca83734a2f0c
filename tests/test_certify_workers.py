"""Offline certify of several vendors runs them in worker processes, and says so no
differently: the same certificate, each vendor's line in the order asked for."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Any

import pytest

from contracts import certify_run
from contracts.report import Certificate, VendorResult
from contracts.targets import cassette_root, profiles_named

#: Not in alphabetical order: the order asked for is the order of the lines and results.
VENDORS = ["xai", "claude_subscription"]
_real_worker = certify_run._certify_in_worker
_PIDS = "LLM_CONTRACTS_TEST_PIDS"


def _noting_pid(*args: Any, **kwargs: Any) -> tuple[VendorResult, float]:
    """The worker, noting which process ran it (module level: a worker finds it by name)."""
    with Path(os.environ[_PIDS]).open("a", encoding="utf-8") as pids:
        pids.write(f"{os.getpid()}\n")
    return _real_worker(*args, **kwargs)


def _certify(cores: int, monkeypatch: pytest.MonkeyPatch) -> Certificate:
    monkeypatch.setattr(os, "cpu_count", lambda: cores)
    return asyncio.run(
        certify_run.certify_profiles(
            profiles_named(VENDORS),
            mode="replay",
            cassette_root=cassette_root(None),
            targets={},
            model=None,
        )
    )


def test_vendors_in_worker_processes_give_the_same_certificate_in_the_order_asked(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    pids = tmp_path / "pids"
    monkeypatch.setenv(_PIDS, str(pids))
    monkeypatch.setattr(certify_run, "_certify_in_worker", _noting_pid)
    side_by_side = _certify(2, monkeypatch)
    lines = capsys.readouterr().err.splitlines()
    workers = set(pids.read_text(encoding="utf-8").split())
    one_by_one = _certify(1, monkeypatch)

    assert workers  # the vendors ran in processes other than this one
    assert str(os.getpid()) not in workers
    assert [line.split(":")[0] for line in lines] == VENDORS
    assert [result.vendor for result in side_by_side.vendors] == VENDORS
    assert side_by_side.vendors == one_by_one.vendors
