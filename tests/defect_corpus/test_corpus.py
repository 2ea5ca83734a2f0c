"""One fault, one clause, on a corpus of realistic defects: each fails the one clause it
names and no other; correct providers fail nothing.

The defects come from bugs reported against real client libraries, gateways and servers
(each links its issue or pull request). They reach the provider only from outside: an
`LlmProvider` wrapper around our provider's replayed run (`replayed.py`), or, where only the
bytes can show the defect, a small independent provider or a broken chunk reader plugged into
our provider, run against the vendor's replica (`on_the_wire.py`).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from defects import (
    Broken,
    failing_clauses,
    failing_on_replay,
    failing_on_the_replica,
    record_from_the_replica,
)
from on_the_wire import WIRE_DEFECTS, DecodesEachReadOnItsOwn, WireDefect
from replayed import DEFECTS, CorpusDefect

from contracts.spec import load_clauses
from providers.types import StreamEvent, TextDelta


@pytest.mark.parametrize("defect", DEFECTS, ids=lambda defect: defect.__name__)
def test_the_defect_fails_its_clause_and_no_other(defect: type[CorpusDefect]) -> None:
    assert failing_clauses(defect, defect.vendor) == {defect.clause}


#: What a defect's healthy provider fails on its vendor's replica, by the healthy builder's
#: function and the vendor: the defects that share both share one run per process.
_HEALTHY_FAILURES: dict[tuple[object, str], frozenset[str]] = {}


def _failing_without_the_defect(defect: type[WireDefect]) -> frozenset[str]:
    key = (defect.healthy.__func__, defect.vendor)  # type: ignore[attr-defined]
    if key not in _HEALTHY_FAILURES:
        _HEALTHY_FAILURES[key] = frozenset(failing_on_the_replica(defect.healthy, defect.vendor))
    return _HEALTHY_FAILURES[key]


@pytest.mark.parametrize("defect", WIRE_DEFECTS, ids=lambda defect: defect.__name__)
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


def test_each_defect_cites_the_report_it_is_modelled_on() -> None:
    for defect in [*DEFECTS, *WIRE_DEFECTS]:
        assert re.search(
            r"https://github\.com/[\w.-]+/[\w.-]+/(issues|pull)/\d+", defect.__doc__ or ""
        ), defect


def test_the_corpus_is_large_and_reaches_every_clause_it_can() -> None:
    defects: list[type[CorpusDefect] | type[WireDefect]] = [*DEFECTS, *WIRE_DEFECTS]
    names = [defect.__name__ for defect in defects]
    assert len(set(names)) == len(names) >= 40
    assert {defect.clause for defect in defects} <= set(load_clauses())


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
