"""Offline certify of several vendors runs them in worker processes, each vendor's cases
shared among them, and says so no differently: the same certificate, each vendor's line in
the order asked for."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Any

import pytest

from contracts import certify_run
from contracts.report import Certificate
from contracts.targets import cassette_root, profiles_named
from providers.vendors import VendorProfile

#: Not in alphabetical order: the order asked for is the order of the lines and results.
VENDORS = ["xai", "claude_subscription"]
_real_worker = certify_run._certify_in_worker
_PIDS = "LLM_CONTRACTS_TEST_PIDS"


def _noting_pid(profile: VendorProfile, *args: Any, **kwargs: Any) -> Any:
    """The worker, noting which process ran which share of which vendor's cases (module
    level: a worker finds it by name)."""
    part, parts = kwargs["share"]
    with Path(os.environ[_PIDS]).open("a", encoding="utf-8") as pids:
        pids.write(f"{os.getpid()} {profile.name} {part} {parts}\n")
    return _real_worker(profile, *args, **kwargs)


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
    shares = [line.split() for line in pids.read_text(encoding="utf-8").splitlines()]
    one_by_one = _certify(1, monkeypatch)

    assert shares  # the vendors ran in processes other than this one
    assert str(os.getpid()) not in {pid for pid, *_ in shares}
    # Each vendor's cases in as many shares as there are workers, so its line comes as soon
    # as every core has done its share of that vendor.
    assert sorted(tuple(share) for _, *share in shares) == [
        (vendor, str(part), "2") for vendor in sorted(VENDORS) for part in range(2)
    ]
    assert [line.split(":")[0] for line in lines] == VENDORS
    assert [result.vendor for result in side_by_side.vendors] == VENDORS
    assert side_by_side.vendors == one_by_one.vendors
