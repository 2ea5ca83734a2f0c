"""Properties of the Responses provider over drawn Responses event sequences.

Each example draws an answer (reasoning summary, text, function calls with their JSON
arguments split at any character, arguments sometimes only in the item's `done`), lifecycle
events sprinkled in, how the response ends (completed, or incomplete for a known or unknown
reason), and the SSE bytes for it cut at arbitrary offsets; the bytes go through the real
provider on an in-memory transport. The grammar holds, text in equals text out, tool input
equals the parsed arguments, the stop follows the protocol's map, a stream cut before its end
raises StreamTruncatedError and a mid-stream `error` raises StreamError, neither yielding Done.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from typing import Any

import httpx2
from hypothesis import given
from hypothesis import strategies as st
from support import FAKE_KEY, ask

from contracts.grammar import violations
from contracts.strategies import TEXT, TOOL_ARGUMENTS
from contracts.transport import PieceStream, replay_transport
from contracts.wire import split_at
from providers import (
    Done,
    LlmError,
    MessageDelta,
    StopReason,
    StreamError,
    StreamTruncatedError,
    TextDelta,
    ThinkingDelta,
    ToolUseEnd,
    from_vendor,
)
from providers.protocols import OPENAI_RESPONSES_STOP_REASONS

ENDS = [*sorted(OPENAI_RESPONSES_STOP_REASONS), "novel_reason"]


@dataclass
class DrawnAnswer:
    events: list[dict[str, Any]]
    text: str
    thinking: str
    tools: list[tuple[str, str, dict[str, Any]]]
    end: str


def _pieces(draw: st.DrawFn, text: str) -> list[str]:
    cuts = draw(st.lists(st.integers(1, max(len(text) - 1, 1)), max_size=5))
    return split_at(text, cuts) or [""]


def _item(index: int, item: dict[str, Any], deltas: list[dict[str, Any]]) -> list[dict[str, Any]]:
    added = {"type": "response.output_item.added", "output_index": index, "item": item}
    done = {"type": "response.output_item.done", "output_index": index, "item": item}
    return [added, *({**d, "output_index": index} for d in deltas), done]


@st.composite
def answers(draw: st.DrawFn) -> DrawnAnswer:
    thinking, text = draw(TEXT), draw(TEXT)
    tools = [
        (
            f"call_{n}",
            draw(st.from_regex(r"[a-z][a-z_]{0,9}", fullmatch=True)),
            draw(TOOL_ARGUMENTS),
        )
        for n in range(draw(st.integers(0, 3)))
    ]
    items: list[list[dict[str, Any]]] = []
    if thinking:
        deltas = [
            {"type": "response.reasoning_summary_text.delta", "delta": piece}
            for piece in _pieces(draw, thinking)
        ]
        items.append(_item(len(items), {"type": "reasoning", "id": "rs_1", "summary": []}, deltas))
    if text or draw(st.booleans()):
        deltas = [
            {"type": "response.output_text.delta", "delta": piece} for piece in _pieces(draw, text)
        ]
        items.append(_item(len(items), {"type": "message", "role": "assistant"}, deltas))
    for call_id, name, arguments in tools:
        encoded = json.dumps(arguments, ensure_ascii=draw(st.booleans()))
        call = {"type": "function_call", "call_id": call_id, "name": name, "arguments": ""}
        if draw(st.booleans()):
            deltas = [
                {"type": "response.function_call_arguments.delta", "delta": piece}
                for piece in _pieces(draw, encoded)
            ]
            items.append(_item(len(items), call, deltas))
        else:  # the arguments arrive whole with the item's `done`
            added, done = _item(len(items), call, [])
            items.append([added, {**done, "item": {**call, "arguments": encoded}}])
    end = draw(st.sampled_from(ENDS))
    response: dict[str, Any] = {"status": "completed", "usage": {"input_tokens": 3}}
    if end != "completed":
        response = {**response, "status": "incomplete", "incomplete_details": {"reason": end}}
    events = [
        {"type": "response.created", "response": {"status": "in_progress"}},
        *(event for item in items for event in item),
        {"type": f"response.{response['status']}", "response": response},
    ]
    for _ in range(draw(st.integers(0, 3))):
        noise = {"type": draw(st.sampled_from(["response.in_progress", "keepalive"]))}
        events.insert(draw(st.integers(1, len(events) - 1)), noise)
    return DrawnAnswer(events, text, thinking, tools, end)


def run(events: list[dict[str, Any]], draw: st.DrawFn) -> tuple[list[Any], Exception | None]:
    raw = b"".join(
        f"event: {event['type']}\ndata: {json.dumps(event)}\n\n".encode() for event in events
    )
    pieces = split_at(raw, draw(st.lists(st.integers(1, max(len(raw) - 1, 1)), max_size=12)))
    response = httpx2.Response(
        200, headers={"content-type": "text/event-stream"}, stream=PieceStream(pieces)
    )
    client = httpx2.AsyncClient(transport=replay_transport(response))
    provider = from_vendor("openai_responses", api_key=FAKE_KEY, http_client=client, max_retries=0)

    async def consume() -> tuple[list[Any], Exception | None]:
        got: list[Any] = []
        try:
            async for item in provider.stream(ask()):
                got.append(item)
        except LlmError as exc:
            return got, exc
        return got, None

    return asyncio.run(consume())


@given(st.data())
def test_finished_answers_keep_grammar_text_tool_input_and_stop(data: st.DataObject) -> None:
    drawn = data.draw(answers())
    got, error = run(drawn.events, data.draw)
    assert error is None, repr(error)
    assert not violations(got, raised=False)
    assert "".join(e.text for e in got if isinstance(e, TextDelta)) == drawn.text
    assert "".join(e.text for e in got if isinstance(e, ThinkingDelta)) == drawn.thinking
    assert [(e.id, e.name, e.input) for e in got if isinstance(e, ToolUseEnd)] == drawn.tools
    [finish] = [e for e in got if isinstance(e, MessageDelta)]
    expected = OPENAI_RESPONSES_STOP_REASONS.get(drawn.end, StopReason.OTHER)
    if expected is StopReason.END_TURN and drawn.tools:
        expected = StopReason.TOOL_USE
    assert (finish.stop_reason, finish.raw_stop_reason) == (expected, drawn.end)


@given(st.data())
def test_cut_before_the_end_raises_truncated_and_never_done(data: st.DataObject) -> None:
    drawn = data.draw(answers())
    kept = drawn.events[: data.draw(st.integers(0, len(drawn.events) - 1))]
    got, error = run(kept, data.draw)
    assert isinstance(error, StreamTruncatedError), repr(error)
    assert not any(isinstance(e, Done) for e in got)
    assert not violations(got, raised=True)


@given(st.data())
def test_an_error_event_anywhere_raises_and_never_done(data: st.DataObject) -> None:
    drawn = data.draw(answers())
    at = data.draw(st.integers(0, len(drawn.events) - 1))
    failure = {"type": "error", "code": "server_error", "message": "overloaded"}
    got, error = run([*drawn.events[:at], failure], data.draw)
    assert isinstance(error, StreamError), repr(error)
    assert "overloaded" in str(error)
    assert not any(isinstance(e, Done) for e in got)
    assert not violations(got, raised=True)
