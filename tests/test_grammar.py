from __future__ import annotations

from contracts.grammar import violations
from providers.types import (
    Connected,
    Done,
    MessageDelta,
    StopReason,
    TextDelta,
    ToolInputDelta,
    ToolUseEnd,
    ToolUseStart,
    Usage,
)

START = Connected(provider="p", model="m")
END = [
    MessageDelta(stop_reason=StopReason.END_TURN, raw_stop_reason="stop"),
    Usage(input_tokens=1, output_tokens=1),
    Done(),
]


def rules(events: list[object], **kw: bool) -> list[tuple[int, str]]:
    return [(v.position, v.rule) for v in violations(events, **kw)]  # type: ignore[arg-type]


def test_a_valid_stream_has_no_violations() -> None:
    tool = [
        ToolUseStart(index=1, id="a", name="f"),
        ToolInputDelta(index=1, partial_json='{"x"'),
        ToolInputDelta(index=1, partial_json=":1}"),
        ToolUseEnd(index=1, id="a", name="f", arguments='{"x":1}', input={"x": 1}),
    ]
    assert rules([START, TextDelta(index=0, text="hi"), *tool, *END]) == []


def test_usage_before_message_delta_is_reported_at_its_position() -> None:
    events = [START, END[1], END[0], END[2]]
    assert (1, "order") in rules(events)


def test_missing_connected_and_missing_end() -> None:
    assert rules([TextDelta(index=0, text="x")]) == [(0, "order"), (1, "incomplete")]


def test_interleaved_tool_blocks() -> None:
    events = [
        START,
        ToolUseStart(index=0, id="a", name="f"),
        ToolInputDelta(index=1, partial_json="{}"),
    ]
    assert (2, "tool-interleave") in rules(events, raised=True)


def test_tool_end_must_match_its_deltas() -> None:
    events = [
        START,
        ToolUseStart(index=0, id="a", name="f"),
        ToolInputDelta(index=0, partial_json='{"x":1}'),
        ToolUseEnd(index=0, id="a", name="f", arguments='{"x":2}', input={"x": 2}),
        *END,
    ]
    assert (3, "tool-arguments") in rules(events)


def test_a_failed_stream_may_stop_anywhere_but_not_after_done() -> None:
    assert rules([START, TextDelta(index=0, text="x")], raised=True) == []
    assert (5, "error-after-done") in rules(
        [START, TextDelta(index=0, text="x"), *END], raised=True
    )
