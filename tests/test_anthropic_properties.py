"""Properties of the Anthropic provider over drawn Messages event sequences.

Each example draws an answer (thinking, text, tool calls with their JSON input split at any
character), pings sprinkled anywhere, a stop reason, and the SSE bytes for it cut at arbitrary
offsets; the bytes go through the real provider on an in-memory transport. The grammar holds,
text in equals text out, tool input equals the parsed arguments, and a stream cut before
`message_stop` raises StreamTruncatedError and never yields Done.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from typing import Any

from anthropic_wire import (
    body,
    message_end,
    message_start,
    provider,
    sse,
    text_block,
    thinking_block,
    tool_block,
)
from hypothesis import given
from hypothesis import strategies as st
from support import ask

from contracts.grammar import violations
from contracts.strategies import TEXT, TOOL_ARGUMENTS
from contracts.wire import split_at
from providers import Done, LlmError, StreamTruncatedError, TextDelta, ThinkingDelta, ToolUseEnd
from providers.protocols import ANTHROPIC_MESSAGES_STOP_REASONS


@dataclass
class DrawnAnswer:
    events: list[dict[str, Any]]
    text: str
    thinking: str
    tools: list[tuple[str, str, dict[str, Any]]]


def _pieces(draw: st.DrawFn, text: str) -> list[str]:
    cuts = draw(st.lists(st.integers(1, max(len(text) - 1, 1)), max_size=5))
    return split_at(text, cuts) or [""]


@st.composite
def answers(draw: st.DrawFn) -> DrawnAnswer:
    thinking, text = draw(TEXT), draw(TEXT)
    tools = [
        (
            f"toolu_{n}",
            draw(st.from_regex(r"[a-z][a-z_]{0,9}", fullmatch=True)),
            draw(TOOL_ARGUMENTS),
        )
        for n in range(draw(st.integers(0, 3)))
    ]
    blocks: list[list[dict[str, Any]]] = []
    if thinking:
        blocks.append(thinking_block(len(blocks), *_pieces(draw, thinking)))
    if text or draw(st.booleans()):
        blocks.append(text_block(len(blocks), *_pieces(draw, text)))
    for call_id, name, arguments in tools:
        encoded = json.dumps(arguments, ensure_ascii=draw(st.booleans()))
        blocks.append(tool_block(len(blocks), call_id, name, *_pieces(draw, encoded)))
    stop = draw(st.sampled_from(sorted(ANTHROPIC_MESSAGES_STOP_REASONS)))
    events = [message_start(), *(item for block in blocks for item in block), *message_end(stop)]
    for _ in range(draw(st.integers(0, 3))):
        events.insert(draw(st.integers(1, len(events) - 1)), {"type": "ping"})
    return DrawnAnswer(events, text, thinking, tools)


def run(events: list[dict[str, Any]], draw: st.DrawFn) -> tuple[list[Any], Exception | None]:
    raw = body(events)
    pieces = split_at(raw, draw(st.lists(st.integers(1, max(len(raw) - 1, 1)), max_size=12)))

    async def consume() -> tuple[list[Any], Exception | None]:
        got: list[Any] = []
        try:
            async for item in provider(sse(pieces)).stream(ask()):
                got.append(item)
        except LlmError as exc:
            return got, exc
        return got, None

    return asyncio.run(consume())


@given(st.data())
def test_finished_answers_keep_grammar_text_and_tool_input(data: st.DataObject) -> None:
    drawn = data.draw(answers())
    got, error = run(drawn.events, data.draw)
    assert error is None, repr(error)
    assert not violations(got, raised=False)
    assert "".join(e.text for e in got if isinstance(e, TextDelta)) == drawn.text
    assert "".join(e.text for e in got if isinstance(e, ThinkingDelta)) == drawn.thinking
    assert [(e.id, e.name, e.input) for e in got if isinstance(e, ToolUseEnd)] == drawn.tools


@given(st.data())
def test_cut_before_message_stop_raises_truncated_and_never_done(data: st.DataObject) -> None:
    drawn = data.draw(answers())
    kept = drawn.events[: data.draw(st.integers(0, len(drawn.events) - 1))]
    got, error = run(kept, data.draw)
    assert isinstance(error, StreamTruncatedError), repr(error)
    assert not any(isinstance(e, Done) for e in got)
    assert not violations(got, raised=True)
