"""Live certify of several vendors runs their cases at the same time, each against its own
endpoint (loopback look-alikes of vLLM here): shown by the order in which requests arrive,
not by a clock."""

from __future__ import annotations

import asyncio
import re
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import SecretStr

from contracts.certify_run import certify_profiles
from contracts.replica.server import RecordedRequest, ReplicaServer, Responder, ScriptedResponse
from contracts.report import Certificate
from contracts.runner import LiveTarget
from contracts.targets import NO_KEY, profiles_named
from providers.vendors import PROFILE_DIR, VENDOR_DIRS_ENV
from tests.vllm_like import MODEL, VllmLike

VENDORS = ["vllm", "ollama"]


@pytest.fixture(autouse=True)
def _tiny_windows(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The profiles with the tiny served model's limits: the bundled windows would make the
    context-length case send a prompt of that many words."""
    for name in VENDORS:
        bundled = (PROFILE_DIR / f"{name}.toml").read_text(encoding="utf-8")
        tiny = re.sub(r"(?m)^max_(context|output)_tokens = \d+$", r"max_\1_tokens = 4096", bundled)
        (tmp_path / f"{name}.toml").write_text(tiny, encoding="utf-8")
    monkeypatch.setenv(VENDOR_DIRS_ENV, str(tmp_path))


class Arrivals:
    """Which vendor's endpoint each request reached, in the order they arrived at either."""

    def __init__(self) -> None:
        self.order: list[str] = []
        self._lock = threading.Lock()  # each server answers on a thread of its own

    def noting(self, vendor: str, responder: Responder) -> Responder:
        def respond(request: RecordedRequest) -> ScriptedResponse:
            with self._lock:
                self.order.append(vendor)
            return responder(request)

        return respond


@pytest.fixture
def servers() -> Iterator[tuple[Arrivals, dict[str, ReplicaServer]]]:
    arrivals = Arrivals()
    with (
        ReplicaServer(arrivals.noting("vllm", VllmLike())) as first,
        ReplicaServer(arrivals.noting("ollama", VllmLike())) as second,
    ):
        yield arrivals, {"vllm": first, "ollama": second}


def test_live_vendors_run_their_cases_at_the_same_time_results_in_the_order_asked(
    servers: tuple[Arrivals, dict[str, ReplicaServer]],
    capsys: pytest.CaptureFixture[str],
) -> None:
    arrivals, endpoints = servers
    targets = {
        name: LiveTarget(base_url=server.base_url, key=SecretStr(NO_KEY), keyless=True)
        for name, server in endpoints.items()
    }
    certificate = _certify(VENDORS, targets)
    order = list(arrivals.order)
    lines = capsys.readouterr().err.splitlines()
    alone = [_certify([name], targets).vendors[0] for name in VENDORS]

    last_of_first = len(order) - 1 - order[::-1].index("vllm")
    # One vendor after the other would send every vllm request before any ollama request.
    assert order.index("ollama") < last_of_first
    assert [result.vendor for result in certificate.vendors] == VENDORS
    assert [line.split(":")[0] for line in lines] == VENDORS
    # Each vendor's recordings stayed its own: the verdicts are those of a run on its own.
    for together, apart in zip(certificate.vendors, alone, strict=True):
        assert together.provenance == apart.provenance
        assert set(together.provenance.values()) == {"live"}
        assert {c: r.verdict for c, r in together.clauses.items()} == {
            c: r.verdict for c, r in apart.clauses.items()
        }


def _certify(vendors: list[str], targets: dict[str, LiveTarget]) -> Certificate:
    return asyncio.run(
        certify_profiles(
            profiles_named(vendors),
            mode="live",
            cassette_root=None,
            targets=targets,
            model=MODEL,
        )
    )
