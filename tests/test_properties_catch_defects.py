"""Each injected adapter defect is caught by the property that names it.

The defects are the ones a streaming adapter most plausibly grows; each is patched into the
real adapter, then the property's search (no shrinking, fixed budget) must falsify it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

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
from providers.openai_compat.adapter import StreamAdapter
from providers.types import MessageDelta, StopReason, StreamEvent, Usage

SEARCH = settings(
    max_examples=400,
    phases=[Phase.generate],
    database=None,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)


def drop_last_text_fragment(monkeypatch: pytest.MonkeyPatch) -> None:
    original = StreamAdapter._text

    def lagging(self: StreamAdapter, kind: str, text: str, out: list[StreamEvent]) -> None:
        pending = self.__dict__.get("lagging")
        self.__dict__["lagging"] = (kind, text)
        if pending:
            original(self, *pending, out)

    monkeypatch.setattr(StreamAdapter, "_text", lagging)


def usage_twice(monkeypatch: pytest.MonkeyPatch) -> None:
    original = StreamAdapter.finish

    def finish(self: StreamAdapter) -> list[StreamEvent]:
        events = original(self)
        usage = next(e for e in events if isinstance(e, Usage))
        return [*events[:-1], usage, events[-1]]

    monkeypatch.setattr(StreamAdapter, "finish", finish)


def unknown_finish_as_end_turn(monkeypatch: pytest.MonkeyPatch) -> None:
    original = StreamAdapter._message_delta

    def message_delta(self: StreamAdapter, raw: str) -> MessageDelta:
        if raw not in self._stop_mapping:
            return MessageDelta(stop_reason=StopReason.END_TURN, raw_stop_reason="")
        return original(self, raw)

    monkeypatch.setattr(StreamAdapter, "_message_delta", message_delta)


def done_after_truncation(monkeypatch: pytest.MonkeyPatch) -> None:
    original = StreamAdapter.finish

    def finish(self: StreamAdapter) -> list[StreamEvent]:
        if self._finish_reason is None:
            self._finish_reason = "stop"
        return original(self)

    monkeypatch.setattr(StreamAdapter, "finish", finish)


def join_arguments_across_indexes(monkeypatch: pytest.MonkeyPatch) -> None:
    original = StreamAdapter._tool_key

    def tool_key(self: StreamAdapter, index: Any, call_id: str, *, starts_call: bool) -> int:
        key = original(self, index, call_id, starts_call=starts_call)
        return min(self._tools, default=key) if isinstance(index, int) else key

    monkeypatch.setattr(StreamAdapter, "_tool_key", tool_key)


def on_finished(check: Callable[[RunCase], None]) -> Callable[[], None]:
    @SEARCH
    @given(finished_runs())
    def search(case: RunCase) -> None:
        check(case)

    return search


def on_truncated(check: Callable[[props.StreamRun], None]) -> Callable[[], None]:
    @SEARCH
    @given(truncated_runs())
    def search(run: props.StreamRun) -> None:
        check(run)

    return search


CAUGHT_BY = [
    (drop_last_text_fragment, "text out equals text in", on_finished(check_text)),
    (usage_twice, "exactly one Usage", on_finished(check_usage)),
    (usage_twice, "grammar", on_finished(check_grammar)),
    (
        unknown_finish_as_end_turn,
        "stop reason follows the profile, raw kept",
        on_finished(check_stop_reason),
    ),
    (done_after_truncation, "truncation raises, never Done", on_truncated(props.prop_truncated)),
    # Two JSON objects joined are no JSON object: the run fails where it must end normally.
    (
        join_arguments_across_indexes,
        "a finish the profile maps to no error ends normally",
        on_finished(check_outcome),
    ),
]


@pytest.mark.parametrize(
    ("defect", "property_name", "search"),
    CAUGHT_BY,
    ids=[f"{d.__name__}-by-{name}" for d, name, _ in CAUGHT_BY],
)
def test_property_catches_injected_defect(
    monkeypatch: pytest.MonkeyPatch,
    defect: Callable[[pytest.MonkeyPatch], None],
    property_name: str,
    search: Callable[[], None],
) -> None:
    search()  # the property holds on the real adapter ...
    defect(monkeypatch)
    with pytest.raises(AssertionError):  # ... and is falsified on the broken one
        search()
