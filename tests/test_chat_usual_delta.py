"""The Chat reader makes the usual delta (more text, or more arguments for the call the last
fragment fed) at once; every other delta goes the whole way. The shortcut must give exactly
what the whole way gives, events and errors alike, on the deltas at its edges."""

from __future__ import annotations

from typing import Any

import pytest

from providers import from_vendor
from providers.errors import LlmError
from providers.openai_compat.chunks import ChatChunkReader
from providers.types import CompletionRequest, UserMessage

REQUEST = CompletionRequest(messages=(UserMessage(content="hi"),))


def _chunk(finish: str | None = None, **delta: Any) -> dict[str, Any]:
    return {
        "object": "chat.completion.chunk",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }


def _fragment(index: Any, arguments: Any = None, **fields: Any) -> dict[str, Any]:
    function = {} if arguments is None else {"arguments": arguments}
    function.update(fields.pop("function", {}))
    return {"index": index, "function": function, **fields}


def _call(index: int, call_id: str, name: str) -> dict[str, Any]:
    return _fragment(index, "", id=call_id, type="function", function={"name": name})


STREAMS: dict[str, list[dict[str, Any]]] = {
    "text after text": [_chunk(content="a"), _chunk(content="b"), _chunk("stop")],
    "leading space then text": [_chunk(content="\n"), _chunk(content="x"), _chunk("stop")],
    "empty content": [_chunk(content="a"), _chunk(content=""), _chunk("stop")],
    "text with role in every delta": [
        _chunk(role="assistant", content="a"),
        _chunk(role="assistant", content="b"),
        _chunk("stop"),
    ],
    "reasoning beside text": [
        _chunk(reasoning_content="think", content=None),
        _chunk(reasoning_content=None, content="a"),
        _chunk(reasoning_content="more", content="b"),
        _chunk("stop"),
    ],
    "text and a call in one delta": [
        _chunk(content="a"),
        _chunk(content="b", tool_calls=[_call(0, "c0", "f")]),
        _chunk(tool_calls=[_fragment(0, "{}")]),
        _chunk("tool_calls"),
    ],
    "arguments for the last call": [
        _chunk(tool_calls=[_call(0, "c0", "f")]),
        _chunk(tool_calls=[_fragment(0, '{"a"')]),
        _chunk(tool_calls=[_fragment(0, ": 1}")]),
        _chunk("tool_calls"),
    ],
    "arguments alternating between two calls": [
        _chunk(tool_calls=[_call(0, "c0", "f")]),
        _chunk(tool_calls=[_call(1, "c1", "g")]),
        _chunk(tool_calls=[_fragment(0, '{"a": 1')]),
        _chunk(tool_calls=[_fragment(1, '{"b": 2')]),
        _chunk(tool_calls=[_fragment(0, "}")]),
        _chunk(tool_calls=[_fragment(1, "}")]),
        _chunk("tool_calls"),
    ],
    "a reused index with a new id": [
        _chunk(tool_calls=[_call(0, "c0", "f")]),
        _chunk(tool_calls=[_fragment(0, "{}")]),
        _chunk(tool_calls=[_call(0, "c1", "g")]),
        _chunk(tool_calls=[_fragment(0, "{}")]),
        _chunk("tool_calls"),
    ],
    "arguments for an earlier call, then a fragment without index": [
        _chunk(tool_calls=[_call(0, "c0", "f")]),
        _chunk(tool_calls=[_call(1, "c1", "g")]),
        _chunk(tool_calls=[_fragment(0, '{"a": ')]),
        _chunk(tool_calls=[{"function": {"arguments": "1}"}}]),
        _chunk(tool_calls=[_fragment(1, "{}")]),
        _chunk("tool_calls"),
    ],
    "two fragments in one delta": [
        _chunk(tool_calls=[_call(0, "c0", "f"), _call(1, "c1", "g")]),
        _chunk(tool_calls=[_fragment(1, "{}"), _fragment(0, '{"a": 1}')]),
        _chunk("tool_calls"),
    ],
    "a new id on an arguments fragment": [
        _chunk(tool_calls=[_call(0, "c0", "f")]),
        _chunk(tool_calls=[_fragment(0, "{}", id="c1")]),
        _chunk("tool_calls"),
    ],
    "the name arriving late": [
        _chunk(tool_calls=[_fragment(0, "", id="c0")]),
        _chunk(tool_calls=[_fragment(0, "{}")]),
        _chunk(tool_calls=[_fragment(0, "", function={"name": "f"})]),
        _chunk("tool_calls"),
    ],
    "an empty id on later fragments": [
        _chunk(tool_calls=[_call(0, "c0", "f")]),
        _chunk(tool_calls=[_fragment(0, "{}", id="")]),
        _chunk("tool_calls"),
    ],
    "vendor data on a fragment": [
        _chunk(tool_calls=[_call(0, "c0", "f")]),
        _chunk(
            tool_calls=[_fragment(0, "{}", extra_content={"google": {"thought_signature": "s"}})]
        ),
        _chunk("tool_calls"),
    ],
    "a boolean index": [
        _chunk(tool_calls=[_call(1, "c0", "f")]),
        _chunk(tool_calls=[_fragment(True, "{}")]),
        _chunk("tool_calls"),
    ],
    "arguments of the wrong type": [
        _chunk(tool_calls=[_call(0, "c0", "f")]),
        _chunk(tool_calls=[_fragment(0, 5)]),
        _chunk("tool_calls"),
    ],
    "a fragment that is not an object": [
        _chunk(tool_calls=[_call(0, "c0", "f")]),
        _chunk(tool_calls=["{}"]),
        _chunk("tool_calls"),
    ],
    "content parts": [
        _chunk(content="a"),
        _chunk(content=[{"type": "text", "text": "b"}]),
        _chunk("stop"),
    ],
    "two choices": [
        {
            "choices": [
                {"index": 0, "delta": {"content": "a"}},
                {"index": 1, "delta": {"content": "x"}},
            ]
        },
        _chunk("stop"),
    ],
}


def _events(vendor: str, chunks: list[dict[str, Any]]) -> list[object]:
    """The events the reader makes of `chunks`, ending with the error it raised, if any."""
    reader = from_vendor(vendor, api_key="k")._reader(REQUEST)
    events: list[object] = []
    try:
        for chunk in chunks:
            events.extend(reader.feed(chunk))
        events.extend(reader.finish())
    except LlmError as exc:
        events.append((type(exc), str(exc)))
    return events


@pytest.mark.parametrize("vendor", ["openai", "deepseek", "gemini"])
@pytest.mark.parametrize("name", list(STREAMS))
def test_the_shortcut_gives_what_the_whole_way_gives(
    vendor: str, name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    chunks = STREAMS[name]
    shortcut = _events(vendor, chunks)
    monkeypatch.setattr(ChatChunkReader, "_usual_delta", lambda _self, _delta: None)
    assert shortcut == _events(vendor, chunks)


def test_the_shortcut_is_taken_for_the_usual_deltas(monkeypatch: pytest.MonkeyPatch) -> None:
    """Its reason to be: text (the assembler's own shortcut judges the first piece) and more
    arguments for the last call never go the whole way; a call's first fragment does."""
    taken: list[object] = []
    usual = ChatChunkReader._usual_delta

    def counting(self: ChatChunkReader, delta: dict[str, Any]) -> Any:
        made = usual(self, delta)
        taken.append(made is not None)
        return made

    monkeypatch.setattr(ChatChunkReader, "_usual_delta", counting)
    _events("openai", STREAMS["text after text"][:2] + STREAMS["arguments for the last call"][:3])
    assert taken == [True, True, False, True, True]
