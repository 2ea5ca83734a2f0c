"""Each grammar rule, with the exact text a failing test or certificate shows for it.

These strings are what a user reads to find where a provider went wrong, so each rule is
pinned: its name, the position it points at and its explanation.
"""

from __future__ import annotations

from typing import Any

import pytest

from contracts.grammar import Violation, violations
from providers.types import (
    Connected,
    Done,
    MessageDelta,
    StopReason,
    TextDelta,
    ThinkingDelta,
    ToolInputDelta,
    ToolUseEnd,
    ToolUseStart,
    Usage,
)

START = Connected(provider="p", model="m")
MESSAGE = MessageDelta(stop_reason=StopReason.END_TURN, raw_stop_reason="stop")
USAGE = Usage(input_tokens=1, output_tokens=1)
DONE = Done()
END = [MESSAGE, USAGE, DONE]


def shown(events: list[Any], *, raised: bool = False) -> list[str]:
    return [str(v) for v in violations(events, raised=raised)]


def tool(index: int = 0, args: str = '{"x":1}', **end: Any) -> list[Any]:
    """One well-formed tool block, its ToolUseEnd fields overridable."""
    fields: dict[str, Any] = {"index": index, "id": "a", "name": "f", "arguments": args}
    fields["input"] = {"x": 1}
    fields.update(end)
    return [
        ToolUseStart(index=index, id="a", name="f"),
        ToolInputDelta(index=index, partial_json=args),
        ToolUseEnd(**fields),
    ]


def test_a_violation_reads_position_rule_detail() -> None:
    assert str(Violation(3, "order", "why")) == "event 3: order: why"


def test_a_complete_stream_with_every_block_kind_is_valid() -> None:
    events = [
        START,
        ThinkingDelta(index=0, text="hmm"),
        ThinkingDelta(index=0, text="..."),
        TextDelta(index=1, text="hi"),
        TextDelta(index=1, text="!"),
        *tool(index=2),
        *tool(index=3, args="", input={}),
        *END,
    ]
    assert shown(events) == []
    assert shown(events[:-1], raised=True) == []


@pytest.mark.parametrize(
    ("events", "expected"),
    [
        ([TextDelta(index=0, text="x")], "event 0: order: got TextDelta, expected Connected"),
        ([START, START], "event 1: order: got Connected, expected a content block or MessageDelta"),
        (
            [START, ToolUseStart(index=0, id="a", name="f"), TextDelta(index=1, text="x")],
            "event 2: order: got TextDelta, expected ToolInputDelta or ToolUseEnd",
        ),
        ([START, MESSAGE, DONE], "event 2: order: got Done, expected Usage"),
        ([START, MESSAGE, USAGE, USAGE], "event 3: order: got Usage, expected Done"),
        ([START, *END, DONE], "event 4: order: got Done, expected nothing after Done"),
        ([START, USAGE], "event 1: order: got Usage, expected a content block or MessageDelta"),
        ([START, DONE], "event 1: order: got Done, expected a content block or MessageDelta"),
        (
            [START, ToolInputDelta(index=0, partial_json="{}")],
            "event 1: order: got ToolInputDelta, expected a content block or MessageDelta",
        ),
        (
            [START, ToolUseEnd(index=0, id="a", name="f", arguments="", input={})],
            "event 1: order: got ToolUseEnd, expected a content block or MessageDelta",
        ),
    ],
)
def test_an_event_out_of_order_names_what_was_expected(events: list[Any], expected: str) -> None:
    assert shown(events, raised=True)[0] == expected


@pytest.mark.parametrize(
    ("events", "expected"),
    [
        ([], "event 0: incomplete: stream ended, expected Connected"),
        ([START], "event 1: incomplete: stream ended, expected a content block or MessageDelta"),
        (
            [START, ToolUseStart(index=0, id="a", name="f")],
            "event 2: incomplete: stream ended, expected ToolInputDelta or ToolUseEnd",
        ),
        ([START, MESSAGE], "event 2: incomplete: stream ended, expected Usage"),
        ([START, MESSAGE, USAGE], "event 3: incomplete: stream ended, expected Done"),
    ],
)
def test_a_stream_that_stops_early_says_what_was_still_expected(
    events: list[Any], expected: str
) -> None:
    assert shown(events) == [expected]
    assert shown(events, raised=True) == []


def test_a_stream_that_raised_after_done_is_flagged_at_its_end() -> None:
    assert shown([START, *END], raised=True) == [
        "event 4: error-after-done: the stream raised but had yielded Done"
    ]


@pytest.mark.parametrize("kind", [TextDelta, ThinkingDelta])
def test_an_empty_delta_is_flagged(kind: type[TextDelta | ThinkingDelta]) -> None:
    """The types refuse empty text, but a provider may build events without validation."""
    name = kind.__name__
    assert shown([START, kind.model_construct(index=0, text=""), *END]) == [
        f"event 1: empty-delta: {name} with empty text"
    ]


@pytest.mark.parametrize("kind", [TextDelta, ThinkingDelta])
def test_a_run_that_changes_index_mid_block_is_flagged(
    kind: type[TextDelta | ThinkingDelta],
) -> None:
    events = [START, kind(index=0, text="a"), kind(index=1, text="b"), *END]
    assert shown(events) == [f"event 2: index: {kind.__name__} run changed index mid-block"]


def test_a_signature_closes_its_reasoning_block_and_redacted_data_is_a_block_of_its_own() -> None:
    events = [
        START,
        ThinkingDelta(index=0, text="a"),
        ThinkingDelta(index=0, signature="c2ln"),
        ThinkingDelta(index=1, redacted_data="RW5j"),
        ThinkingDelta(index=2, text="b"),
        ThinkingDelta(index=2, text="c", signature="c2lnMg=="),
        *END,
    ]
    assert shown(events) == []


def test_reasoning_after_a_signature_may_not_reuse_the_closed_block() -> None:
    events = [
        START,
        ThinkingDelta(index=0, text="a", signature="c2ln"),
        ThinkingDelta(index=0, text="b"),
        *END,
    ]
    assert shown(events) == ["event 2: index: block index 0 reused by a new block"]


def test_redacted_data_inside_an_open_reasoning_block_is_a_new_block() -> None:
    events = [
        START,
        ThinkingDelta(index=0, text="a"),
        ThinkingDelta(index=0, redacted_data="RW5j"),
        *END,
    ]
    assert shown(events) == ["event 2: index: block index 0 reused by a new block"]


def test_a_new_content_block_may_not_reuse_an_index() -> None:
    events = [START, TextDelta(index=0, text="a"), ThinkingDelta(index=0, text="b"), *END]
    assert shown(events) == ["event 2: index: block index 0 reused by a new block"]


def test_a_text_block_after_a_tool_block_is_a_new_block() -> None:
    """A tool block ends the text run: text after it needs an index of its own."""
    events = [START, TextDelta(index=0, text="a"), *tool(index=1), TextDelta(index=0, text="b")]
    assert shown([*events, *END]) == ["event 5: index: block index 0 reused by a new block"]


def test_a_tool_block_may_not_reuse_an_index() -> None:
    events = [START, TextDelta(index=0, text="a"), *tool(index=0), *END]
    assert shown(events) == ["event 2: index: block index 0 reused by a new block"]


def test_a_delta_for_another_tool_is_interleaving() -> None:
    events = [
        START,
        ToolUseStart(index=0, id="a", name="f"),
        ToolInputDelta(index=1, partial_json="{}"),
    ]
    assert shown(events, raised=True) == [
        "event 2: tool-interleave: ToolInputDelta for index 1 inside block 0"
    ]


def test_an_end_for_another_tool_is_interleaving() -> None:
    events = [START, *tool(index=0)[:2], *tool(index=1)[2:], *END]
    assert shown(events) == ["event 3: tool-interleave: ToolUseEnd for index 1 inside block 0"]


@pytest.mark.parametrize("change", [{"id": "b"}, {"name": "g"}])
def test_an_end_naming_another_call_breaks_identity(change: dict[str, str]) -> None:
    assert shown([START, *tool(**change), *END]) == [
        "event 3: tool-identity: ToolUseEnd id/name differ from ToolUseStart"
    ]


def test_end_arguments_must_be_the_joined_deltas() -> None:
    events = [
        START,
        ToolUseStart(index=0, id="a", name="f"),
        ToolInputDelta(index=0, partial_json='{"x"'),
        ToolInputDelta(index=0, partial_json=":1}"),
        ToolUseEnd(index=0, id="a", name="f", arguments='{"x": 1}', input={"x": 1}),
        *END,
    ]
    assert shown(events) == [
        "event 4: tool-arguments: ToolUseEnd.arguments is not the concatenated ToolInputDeltas"
    ]


@pytest.mark.parametrize(
    ("args", "parsed"),
    [
        ('{"x":1}', {"x": 2}),
        ("not json", {}),
        ("", {"x": 1}),
        ("   ", {"x": 1}),
    ],
)
def test_end_input_must_be_the_parsed_arguments(args: str, parsed: dict[str, int]) -> None:
    assert shown([START, *tool(args=args, input=parsed), *END]) == [
        "event 3: tool-input: ToolUseEnd.input is not the parsed arguments"
    ]


@pytest.mark.parametrize("args", ["", "  "])
def test_blank_arguments_mean_an_empty_input(args: str) -> None:
    assert shown([START, *tool(args=args, input={}), *END]) == []


def test_every_broken_rule_is_reported_not_only_the_first() -> None:
    events = [
        TextDelta(index=0, text="x"),
        START,
        TextDelta.model_construct(index=0, text=""),
        ThinkingDelta(index=0, text="t"),
    ]
    assert shown(events) == [
        "event 0: order: got TextDelta, expected Connected",
        "event 2: empty-delta: TextDelta with empty text",
        "event 3: index: block index 0 reused by a new block",
        "event 4: incomplete: stream ended, expected a content block or MessageDelta",
    ]
