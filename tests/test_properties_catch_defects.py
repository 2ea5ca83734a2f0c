"""Each injected provider defect is caught by the property that names it.

The defects are the ones a streaming provider most plausibly grows; each is injected from
outside (tests/defects.py), then the property's search (no shrinking, fixed budget) must
falsify it while it holds on the real provider.
"""

from __future__ import annotations

from collections.abc import Callable

import defects
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from test_properties import (
    RunCase,
    check_grammar,
    check_outcome,
    check_stop_reason,
    check_text,
    check_usage,
    finished_runs,
    truncated_runs,
)

from contracts import properties as props

#: Examples drawn to find a defect; the search stops at the first that falsifies.
SEARCH_BUDGET = 400
#: Examples the property must hold on the real provider here: as many as its own test in
#: test_properties draws (the loaded profile's count), not the whole search budget again.
HOLDS_ON = settings().max_examples


def _search(examples: int) -> settings:
    return settings(
        max_examples=examples,
        phases=[Phase.generate],
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )


Search = Callable[[props.ProviderBuilder, int], None]


def on_finished(check: Callable[[RunCase], None]) -> Search:
    def search(build: props.ProviderBuilder, examples: int) -> None:
        @_search(examples)
        @given(finished_runs(build))
        def run(case: RunCase) -> None:
            check(case)

        run()

    return search


def on_truncated(check: Callable[[props.StreamRun], None]) -> Search:
    def search(build: props.ProviderBuilder, examples: int) -> None:
        @_search(examples)
        @given(truncated_runs(build))
        def run(case: props.StreamRun) -> None:
            check(case)

        run()

    return search


CAUGHT_BY: list[tuple[str, props.ProviderBuilder, str, Search]] = [
    (
        "drop_last_text_fragment",
        defects.rewritten(defects.drop_last_text_fragment),
        "text out equals text in",
        on_finished(check_text),
    ),
    (
        "usage_twice",
        defects.rewritten(defects.usage_twice),
        "exactly one Usage",
        on_finished(check_usage),
    ),
    ("usage_twice", defects.rewritten(defects.usage_twice), "grammar", on_finished(check_grammar)),
    (
        "unknown_finish_as_end_turn",
        defects.rewritten_per_profile(defects.unknown_finish_as_end_turn),
        "stop reason follows the profile, raw kept",
        on_finished(check_stop_reason),
    ),
    (
        "done_after_truncation",
        defects.rewritten(defects.done_after_truncation),
        "truncation raises, never Done",
        on_truncated(props.prop_truncated),
    ),
    # Two JSON objects joined are no JSON object: the run fails where it must end normally.
    (
        "joins_tool_calls",
        defects.joins_tool_calls,
        "a finish the profile maps to no error ends normally",
        on_finished(check_outcome),
    ),
]


@pytest.mark.parametrize(
    ("defect", "broken", "property_name", "search"),
    CAUGHT_BY,
    ids=[f"{defect}-by-{name}" for defect, _, name, _ in CAUGHT_BY],
)
def test_property_catches_injected_defect(
    defect: str,
    broken: props.ProviderBuilder,
    property_name: str,
    search: Search,
) -> None:
    search(props.our_provider, HOLDS_ON)  # the property holds on the real provider ...
    with pytest.raises(AssertionError):  # ... and is falsified on the broken one
        search(broken, SEARCH_BUDGET)
