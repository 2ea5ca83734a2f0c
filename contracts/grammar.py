"""The contract's state machine: checks any event sequence against the stream grammar.

    stream := Connected block* MessageDelta Usage Done
    block  := TextDelta | ThinkingDelta | ToolUseStart ToolInputDelta* ToolUseEnd

`violations()` returns every rule broken, with the position of the offending event, so a
failing test or a certificate can say exactly where a provider went wrong.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum, auto

from providers.types import (
    Connected,
    Done,
    MessageDelta,
    StreamEvent,
    TextDelta,
    ThinkingDelta,
    ToolInputDelta,
    ToolUseEnd,
    ToolUseStart,
    Usage,
)


@dataclass(frozen=True)
class Violation:
    position: int
    rule: str
    detail: str

    def __str__(self) -> str:
        return f"event {self.position}: {self.rule}: {self.detail}"


class _State(Enum):
    START = auto()
    BLOCKS = auto()
    IN_TOOL = auto()
    AFTER_MESSAGE = auto()
    AFTER_USAGE = auto()
    DONE = auto()


_EXPECTED = {
    _State.START: "Connected",
    _State.BLOCKS: "a content block or MessageDelta",
    _State.IN_TOOL: "ToolInputDelta or ToolUseEnd",
    _State.AFTER_MESSAGE: "Usage",
    _State.AFTER_USAGE: "Done",
    _State.DONE: "nothing after Done",
}


class _Checker:
    def __init__(self) -> None:
        self.state = _State.START
        self.found: list[Violation] = []
        self.tool: ToolUseStart | None = None
        self.tool_json: list[str] = []
        self.indexes_used: set[int] = set()
        self.last_content: tuple[str, int] | None = None

    def fail(self, position: int, rule: str, detail: str) -> None:
        self.found.append(Violation(position, rule, detail))

    def step(self, position: int, event: StreamEvent) -> None:
        name = type(event).__name__
        state = self.state
        if state is _State.START and isinstance(event, Connected):
            self.state = _State.BLOCKS
        elif state is _State.BLOCKS and isinstance(event, TextDelta | ThinkingDelta):
            self._content(position, event)
        elif state is _State.BLOCKS and isinstance(event, ToolUseStart):
            self._new_index(position, event.index)
            self.tool, self.tool_json, self.last_content = event, [], None
            self.state = _State.IN_TOOL
        elif state is _State.IN_TOOL and isinstance(event, ToolInputDelta):
            self._same_tool(position, event.index, name)
            self.tool_json.append(event.partial_json)
        elif state is _State.IN_TOOL and isinstance(event, ToolUseEnd):
            self._end_tool(position, event)
            self.state = _State.BLOCKS
        elif state is _State.BLOCKS and isinstance(event, MessageDelta):
            self.state = _State.AFTER_MESSAGE
        elif state is _State.AFTER_MESSAGE and isinstance(event, Usage):
            self.state = _State.AFTER_USAGE
        elif state is _State.AFTER_USAGE and isinstance(event, Done):
            self.state = _State.DONE
        else:
            self.fail(position, "order", f"got {name}, expected {_EXPECTED[state]}")

    def _content(self, position: int, event: TextDelta | ThinkingDelta) -> None:
        closes = isinstance(event, ThinkingDelta) and event.closes_block
        if not event.text and not closes:
            self.fail(position, "empty-delta", f"{type(event).__name__} with empty text")
        kind = type(event).__name__
        own_block = isinstance(event, ThinkingDelta) and event.redacted_data is not None
        if not own_block and self.last_content is not None and self.last_content[0] == kind:
            if event.index != self.last_content[1]:
                self.fail(position, "index", f"{kind} run changed index mid-block")
        else:
            self._new_index(position, event.index)
        # A signed or redacted reasoning block is complete: what follows is a new block.
        self.last_content = None if closes else (kind, event.index)

    def _new_index(self, position: int, index: int) -> None:
        if index in self.indexes_used:
            self.fail(position, "index", f"block index {index} reused by a new block")
        self.indexes_used.add(index)

    def _same_tool(self, position: int, index: int, name: str) -> None:
        assert self.tool is not None
        if index != self.tool.index:
            self.fail(
                position,
                "tool-interleave",
                f"{name} for index {index} inside block {self.tool.index}",
            )

    def _end_tool(self, position: int, end: ToolUseEnd) -> None:
        assert self.tool is not None
        self._same_tool(position, end.index, "ToolUseEnd")
        if (end.id, end.name) != (self.tool.id, self.tool.name):
            self.fail(position, "tool-identity", "ToolUseEnd id/name differ from ToolUseStart")
        if end.arguments != "".join(self.tool_json):
            self.fail(
                position,
                "tool-arguments",
                "ToolUseEnd.arguments is not the concatenated ToolInputDeltas",
            )
        try:
            parsed = json.loads(end.arguments) if end.arguments.strip() else {}
        except ValueError:
            parsed = None
        if parsed != end.input:
            self.fail(position, "tool-input", "ToolUseEnd.input is not the parsed arguments")
        self.tool = None


def violations(events: Sequence[StreamEvent], *, raised: bool = False) -> list[Violation]:
    """Every grammar rule `events` breaks.

    With `raised=True` the stream ended in an exception: the events must be a valid prefix
    and must not include `Done`; otherwise the sequence must be complete.
    """
    checker = _Checker()
    for position, event in enumerate(events):
        checker.step(position, event)
    end = len(events)
    if raised:
        if checker.state is _State.DONE:
            checker.fail(end, "error-after-done", "the stream raised but had yielded Done")
    elif checker.state is not _State.DONE:
        checker.fail(end, "incomplete", f"stream ended, expected {_EXPECTED[checker.state]}")
    return checker.found
