"""One fault, one clause, on a corpus of realistic defects: each fails the one clause it
names and no other; correct providers fail nothing.

The defects come from bugs reported against real client libraries, gateways and servers
(each links its issue or pull request). They reach the provider only from outside: an
`LlmProvider` wrapper around our provider's replayed run (`replayed.py`), or, where only the
bytes can show the defect, a small independent provider or a broken chunk reader plugged into
our provider, run against the vendor's replica (`on_the_wire.py`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import replayed_second
import wire_second
from defects import (
    Broken,
    failing_clauses,
    failing_on_replay,
    failing_on_the_replica,
    record_from_the_replica,
)
from on_the_wire import WIRE_DEFECTS, DecodesEachReadOnItsOwn, WireDefect
from replayed import DEFECTS, CorpusDefect
from served import SERVED_DEFECTS, ServedDefect
from vllm_like import MODEL, VllmLike

from contracts.cli import main
from contracts.replica.server import ReplicaServer
from contracts.spec import load_clauses
from providers.types import StreamEvent, TextDelta
from providers.vendors import PROFILE_DIR, VENDOR_DIRS_ENV

#: Both corpora: the first, and a second built apart from it to find what the first missed.
REPLAYED: list[type[CorpusDefect]] = [*DEFECTS, *replayed_second.DEFECTS]
ON_THE_WIRE: list[type[WireDefect]] = [*WIRE_DEFECTS, *wire_second.WIRE_DEFECTS]


@pytest.mark.parametrize("defect", REPLAYED, ids=lambda defect: defect.__name__)
def test_the_defect_fails_its_clause_and_no_other(defect: type[CorpusDefect]) -> None:
    assert failing_clauses(defect, defect.vendor) == {defect.clause}


#: What a defect's healthy provider fails on its vendor's replica, by what builds it (our
#: provider for the vendor, or the independent provider the defect changes) and the vendor:
#: the defects that share both share one run per process.
_HEALTHY_FAILURES: dict[tuple[object, object, str], frozenset[str]] = {}


def _failing_without_the_defect(defect: type[WireDefect]) -> frozenset[str]:
    healthy = defect.healthy.__func__  # type: ignore[attr-defined]
    key = (healthy, getattr(defect, "independent", None), defect.vendor)
    if key not in _HEALTHY_FAILURES:
        _HEALTHY_FAILURES[key] = frozenset(failing_on_the_replica(defect.healthy, defect.vendor))
    return _HEALTHY_FAILURES[key]


@pytest.mark.parametrize("defect", ON_THE_WIRE, ids=lambda defect: defect.__name__)
def test_the_wire_defect_fails_its_clause_and_no_other(defect: type[WireDefect]) -> None:
    """Clauses the same provider already fails without the defect (an independent provider
    that lacks a feature) are its own, not the defect's."""
    already = _failing_without_the_defect(defect)
    assert defect.clause not in already
    assert failing_on_the_replica(defect.build, defect.vendor) - already == {defect.clause}


def test_replay_alone_catches_a_provider_that_decodes_each_read_on_its_own(
    tmp_path: Path,
) -> None:
    """Cassette replay cuts bodies into reads as the replica does: cassettes the healthy
    provider recorded, replayed with no replica running, fail the defect on text.fidelity."""
    defect, healthy = DecodesEachReadOnItsOwn.build, DecodesEachReadOnItsOwn.healthy
    record_from_the_replica(healthy, "openai", tmp_path)
    already = failing_on_replay(healthy, "openai", tmp_path)
    assert failing_on_replay(defect, "openai", tmp_path) - already == {"text.fidelity"}


#: Every defect of both corpora, however it is injected.
ALL_DEFECTS: list[type[Any]] = [
    *REPLAYED,
    *ON_THE_WIRE,
    *wire_second.PLUGIN_DEFECTS,
    *SERVED_DEFECTS,
]


def test_each_defect_cites_the_report_it_is_modelled_on() -> None:
    for defect in ALL_DEFECTS:
        assert re.search(
            r"https://github\.com/[\w.-]+/[\w.-]+/(issues|pull)/\d+", defect.__doc__ or ""
        ), defect


def test_the_corpora_are_large_and_reach_every_clause_they_can() -> None:
    names = [defect.__name__ for defect in ALL_DEFECTS]
    assert len(set(names)) == len(names)
    second = [
        *replayed_second.DEFECTS,
        *wire_second.WIRE_DEFECTS,
        *wire_second.PLUGIN_DEFECTS,
        *SERVED_DEFECTS,
    ]
    assert len(ALL_DEFECTS) - len(second) >= 40
    assert len(second) >= 25
    assert {defect.clause for defect in ALL_DEFECTS} <= set(load_clauses())


# -- a server's defects, certified as a user would: certify --live --base-url -----------------


@pytest.fixture(scope="module")
def tiny_vllm(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """The vllm profile with the limits of the tiny model the vLLM-like server serves, and no
    VLLM_API_KEY: the context-length case then sends a prompt of a few thousand words."""
    folder = tmp_path_factory.mktemp("vendors")
    bundled = (PROFILE_DIR / "vllm.toml").read_text(encoding="utf-8")
    tiny = re.sub(r"(?m)^max_(context|output)_tokens = \d+$", r"max_\1_tokens = 4096", bundled)
    (folder / "vllm.toml").write_text(tiny, encoding="utf-8")
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("VLLM_API_KEY", raising=False)
        patch.setenv(VENDOR_DIRS_ENV, str(folder))
        yield


def failing_on_the_server(server: VllmLike, out: Path) -> set[str]:
    """The clauses `certify --live --base-url` fails on the server, keyless."""
    with ReplicaServer(server) as running:
        argv = ["--vendor", "vllm", "--base-url", running.base_url, "--model", MODEL]
        main(["certify", "--live", "--no-key", "--out", str(out), *argv])
    result = json.loads(out.read_text(encoding="utf-8"))["vendors"][0]
    return {clause for clause, r in result["clauses"].items() if r["verdict"] == "fail"}


@pytest.mark.usefixtures("tiny_vllm")
@pytest.mark.parametrize("defect", SERVED_DEFECTS, ids=lambda defect: defect.__name__)
def test_the_server_defect_fails_its_clause_and_no_other(
    defect: type[ServedDefect], tmp_path: Path
) -> None:
    assert failing_on_the_server(defect(), tmp_path / "c.json") == {defect.clause}


@pytest.mark.usefixtures("tiny_vllm")
def test_a_correct_server_fails_nothing(tmp_path: Path) -> None:
    assert failing_on_the_server(VllmLike(), tmp_path / "c.json") == set()


# -- an independent provider's defect, certified through the pytest plugin -------------------

PLUGIN_RUN = """
import sys
sys.path[:0] = {paths!r}
from test_contract_third_party import NO_REQUEST_FEATURES
from wire_second import {name}
from contracts.suite import ProviderContract

class TestThirdParty(ProviderContract):
    vendor = {vendor!r}
    known_defects = NO_REQUEST_FEATURES
    CASSETTE_ROOT = None

    def make_provider(self, base_url, api_key):
        return {name}(base_url, api_key)
"""


@pytest.mark.parametrize("defect", wire_second.PLUGIN_DEFECTS, ids=lambda defect: defect.__name__)
def test_the_plugin_fails_the_defects_clause_and_no_other(
    defect: type[WireDefect], pytester: pytest.Pytester
) -> None:
    """A third party's provider with the defect, as its own pytest run sees it: the failing
    tests are its clause's, and the healthy provider's known defects stay xfail."""
    here = Path(__file__).resolve().parent
    paths = [str(here), str(here.parent)]
    pytester.makepyfile(
        test_third=PLUGIN_RUN.format(paths=paths, name=defect.__name__, vendor=defect.vendor)
    )
    run = pytester.inline_run(
        "-p", "no:cacheprovider", "-o", "asyncio_default_fixture_loop_scope=function"
    )
    failed = [report.nodeid for report in run.getfailures()]
    clauses = load_clauses()
    assert failed
    assert {next(c for c in clauses if node.endswith(f"-{c}]")) for node in failed} == {
        defect.clause
    }


# -- correct providers: nothing fails ----------------------------------------------------------


class CoalescesText(Broken):
    """Joins adjacent text deltas into one: a different chunking, the same text."""

    def events(self, events: list[StreamEvent], error: Exception | None) -> list[StreamEvent]:
        out: list[StreamEvent] = []
        for event in events:
            if isinstance(event, TextDelta) and out and isinstance(out[-1], TextDelta):
                out[-1] = out[-1].model_copy(update={"text": out[-1].text + event.text})
            else:
                out.append(event)
        return out


class OneCharacterPerDelta(Broken):
    """Splits every text delta into one delta per character."""

    def events(self, events: list[StreamEvent], error: Exception | None) -> list[StreamEvent]:
        return [
            x
            for e in events
            for x in (
                [e.model_copy(update={"text": c}) for c in e.text]
                if isinstance(e, TextDelta)
                else [e]
            )
        ]


@pytest.mark.parametrize("vendor", ["glm", "xai"])
@pytest.mark.parametrize("control", [Broken, CoalescesText, OneCharacterPerDelta])
def test_a_correct_provider_fails_nothing(control: type[Broken], vendor: str) -> None:
    assert failing_clauses(control, vendor) == set()
