"""Hypothesis strategies for the vendor's world: chunk sequences it could send, and their bytes.

`vendor_streams(profile)` draws a whole answer (text split anywhere, reasoning, tool calls
whole or fragmented and interleaved, a finish value, usage in any placement) and the chunk
sequence carrying it, together with what a correct provider must make of it.
`sse_pieces(chunks)` draws the SSE bytes for those chunks, with either line ending, comments
and keep-alives, multi-line data, cut at arbitrary byte boundaries.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from typing import Any

from hypothesis import strategies as st

from contracts.protocols.openai_chat import chat_facts
from contracts.vendors import load_suite_profile
from contracts.wire import DONE, chunk, split_at, tool_delta, usage_report
from providers.vendors import STANDARD_STOP_REASONS, VendorProfile

# Text that stresses splitting: multi-byte UTF-8, emoji with joiners, combining marks,
# whitespace, quotes and backslashes that must survive JSON escaping.
_TRICKY = 'é漢字👩‍💻e\u0301 \n\t"\\{}[]:,'
TEXT = st.text(
    alphabet=st.one_of(st.sampled_from(_TRICKY), st.characters(codec="utf-8")), max_size=40
)
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-(10**6), 10**6) | TEXT,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TEXT, inner, max_size=3),
    max_leaves=6,
)
TOOL_ARGUMENTS = st.dictionaries(st.text(min_size=1, max_size=8), JSON_VALUES, max_size=4)
UNKNOWN_FINISH = st.from_regex(r"[a-z][a-z_]{2,14}", fullmatch=True).filter(
    lambda value: value not in STANDARD_STOP_REASONS
)
#: Deltas that carry nothing to emit, Gemini's metadata-only tool delta among them.
EMPTY_DELTAS: tuple[dict[str, Any], ...] = (
    {},
    {"content": ""},
    {"content": None},
    {"tool_calls": [{"extra_content": {"google": {"thought_signature": "c2ln"}}}]},
)
USAGE_PLACEMENTS = (
    "none",
    "separate_after",
    "separate_before",
    "finish_chunk",
    "every_chunk",
    "repeated",
)


@dataclass(frozen=True)
class DrawnToolCall:
    id: str
    name: str
    arguments: str


@dataclass
class VendorStream:
    """A drawn vendor answer: the chunks on the wire and what they mean."""

    chunks: list[dict[str, Any]]
    text: str
    thinking: str
    tool_calls: list[DrawnToolCall]
    finish: str
    last_usage: dict[str, Any] | None
    done: bool

    @property
    def finish_position(self) -> int:
        """Index of the chunk that carries the finish reason."""
        return next(
            i
            for i, item in enumerate(self.chunks)
            if item["choices"] and item["choices"][0]["finish_reason"]
        )


def _split(draw: st.DrawFn, text: str) -> list[str]:
    """`text` cut at any character positions (possibly none), pieces in order."""
    return split_at(text, draw(st.lists(st.integers(1, max(len(text) - 1, 1)), max_size=6)))


def _usage(draw: st.DrawFn) -> dict[str, Any]:
    return usage_report(draw(st.integers(0, 10**6)), draw(st.integers(0, 10**6)))


def finish_values(profile: VendorProfile) -> st.SearchStrategy[str]:
    """Standard values, the profile's own, and values nobody has seen yet."""
    known = sorted(
        {
            *STANDARD_STOP_REASONS,
            *load_suite_profile(profile.name).finish_values,
            *profile.stop_reasons,
        }
    )
    return st.sampled_from(known) | UNKNOWN_FINISH


def _tool_fragments(
    draw: st.DrawFn, calls: list[DrawnToolCall], profile: VendorProfile
) -> list[list[dict[str, Any]]]:
    """Per delta, its `tool_calls` list: whole calls or fragments interleaved by index."""
    own_style = chat_facts(profile).tool_call_style
    style = draw(st.sampled_from([own_style, "fragmented", "whole", "whole_without_index"]))
    if style != "fragmented":
        without_index = style == "whole_without_index"
        whole = [
            tool_delta(
                None if without_index else i, call_id=c.id, name=c.name, arguments=c.arguments
            )
            for i, c in enumerate(calls)
        ]
        together = draw(st.booleans())  # Mistral and Gemini send all calls in one delta
        return [whole] if together and whole else [[call] for call in whole]
    identity_on_every_fragment = draw(st.booleans())
    queues = []
    for index, call in enumerate(calls):
        pieces = _split(draw, call.arguments) or [""]
        fragments = [
            tool_delta(
                index,
                call_id=call.id if n == 0 or identity_on_every_fragment else None,
                name=call.name if n == 0 or identity_on_every_fragment else None,
                arguments=piece,
            )
            for n, piece in enumerate(pieces)
        ]
        queues.append(fragments)
    # Calls start in index order (no vendor is known to open call 1 before call 0); once
    # started, their fragments interleave freely.
    deltas = []
    started = 0
    while any(queues):
        live = [i for i, queue in enumerate(queues[: started + 1]) if queue]
        chosen = draw(st.sampled_from(live))
        started = max(started, chosen + 1)
        deltas.append([queues[chosen].pop(0)])
    return deltas


@st.composite
def vendor_streams(draw: st.DrawFn, profile: VendorProfile) -> VendorStream:
    capabilities = profile.capabilities
    text = draw(TEXT)
    reasoning = capabilities.extended_thinking and profile.wire.reasoning_fields
    thinking = draw(TEXT) if reasoning else ""
    names = st.from_regex(r"[a-z][a-z0-9_]{0,15}", fullmatch=True)
    call_count = draw(st.integers(0, 3)) if capabilities.tool_calling else 0
    calls = [
        DrawnToolCall(
            id=f"call{number}x{draw(st.integers(0, 999))}",
            name=draw(names),
            arguments=json.dumps(draw(TOOL_ARGUMENTS), ensure_ascii=draw(st.booleans())),
        )
        for number in range(call_count)
    ]
    deltas: list[dict[str, Any]] = []
    if draw(st.booleans()):
        deltas.append({"role": "assistant", "content": ""})
    if thinking:
        field_name = draw(st.sampled_from(profile.wire.reasoning_fields))
        deltas.extend({field_name: piece} for piece in _split(draw, thinking))
    deltas.extend({"content": piece} for piece in _split(draw, text))
    deltas.extend({"tool_calls": fragments} for fragments in _tool_fragments(draw, calls, profile))
    empties = draw(st.lists(st.integers(0, len(deltas)), max_size=3))
    for position in sorted(empties, reverse=True):
        deltas.insert(position, draw(st.sampled_from(EMPTY_DELTAS)))
    chunks = [chunk(delta) for delta in deltas]

    finish = draw(finish_values(profile))
    placement = draw(st.sampled_from(USAGE_PLACEMENTS))
    reports = [_usage(draw) for _ in range(3 if placement == "repeated" else 1)]
    if placement == "every_chunk":
        for item in chunks:
            item["usage"] = _usage(draw)
    elif placement == "separate_before":
        chunks.append(chunk(usage=reports[-1], choices=False))
    elif placement == "repeated":
        chunks.extend(chunk(usage=report, choices=False) for report in reports)
    finish_chunk = chunk(finish=finish)
    if placement in ("finish_chunk", "every_chunk"):
        finish_chunk["usage"] = reports[-1]
    chunks.append(finish_chunk)
    if placement == "separate_after":
        chunks.append(chunk(usage=reports[-1], choices=False))
    return VendorStream(
        chunks=chunks,
        text=text,
        thinking=thinking,
        tool_calls=calls,
        finish=finish,
        last_usage=None if placement == "none" else reports[-1],
        done=draw(st.booleans()),
    )


def _event_lines(payload: str, line_end: str, multiline: bool) -> str:
    if multiline and payload.startswith("{"):
        # Indented JSON puts newlines only between tokens: as several `data:` lines,
        # rejoined with "\n", it is the same JSON again.
        payload = json.dumps(json.loads(payload), indent=1)
    return "".join(f"data: {line}{line_end}" for line in payload.split("\n")) + line_end


@st.composite
def sse_pieces(draw: st.DrawFn, chunks: list[dict[str, Any]], *, done: bool) -> list[bytes]:
    """The SSE body for `chunks`, cut into transport reads at arbitrary byte offsets."""
    line_end = draw(st.sampled_from(["\n", "\r\n"]))
    parts = []
    for item in chunks:
        if draw(st.integers(0, 4)) == 0:
            parts.append(
                draw(st.sampled_from([":", ": keep-alive", ": OPENROUTER PROCESSING", ":ok"]))
                + line_end
                + line_end
            )
        parts.append(_event_lines(json.dumps(item), line_end, multiline=draw(st.booleans())))
    if done:
        parts.append(f"data: {DONE}{line_end}{line_end}")
    body = "".join(parts).encode()
    return split_at(body, draw(st.lists(st.integers(1, max(len(body) - 1, 1)), max_size=12)))


# -- hostile JSON: valid chunks broken at random places ------------------------------------------

JsonPath = tuple[str | int, ...]
#: What a field may turn into: every JSON type, empty containers, and numbers no count fits.
#: Each container drawn is a copy: a later mutation inside it must not reach the next draw
#: (Hypothesis calls a strategy whose data depends on earlier draws flaky, and fails the test).
HOSTILE_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.sampled_from([0, -1, 10**30, -(10**30), 1.5, float("inf"), float("nan")]),
    st.integers(),
    TEXT,
    st.sampled_from([[], {}, [1, 2], ["x"], {"error": 1}]).map(copy.deepcopy),
    JSON_VALUES,
)


def json_paths(document: Any, prefix: JsonPath = ()) -> list[JsonPath]:
    """Every path in a decoded JSON document, the root excluded, parents before children."""
    if isinstance(document, dict):
        items: list[tuple[str | int, Any]] = list(document.items())
    elif isinstance(document, list):
        items = list(enumerate(document))
    else:
        return []
    paths: list[JsonPath] = []
    for key, value in items:
        paths.append((*prefix, key))
        paths.extend(json_paths(value, (*prefix, key)))
    return paths


def _mutate_at(document: Any, path: JsonPath, replacement: Any, *, delete: bool) -> None:
    parent = document
    for key in path[:-1]:
        parent = parent[key]
    if delete:
        del parent[path[-1]]
    else:
        parent[path[-1]] = replacement


@st.composite
def mutated_documents(draw: st.DrawFn, documents: list[Any]) -> list[Any]:
    """Deep copies of `documents` with one to three fields replaced by hostile values or
    deleted; a whole document may become a hostile value too."""
    copies: list[Any] = json.loads(json.dumps(documents))
    for _ in range(draw(st.integers(1, 3))):
        if not copies:
            break
        position = draw(st.integers(0, len(copies) - 1))
        paths = json_paths(copies[position])
        if not paths or draw(st.integers(0, 9)) == 0:
            copies[position] = draw(HOSTILE_VALUES)
            continue
        path = draw(st.sampled_from(paths))
        _mutate_at(copies[position], path, draw(HOSTILE_VALUES), delete=draw(st.booleans()))
    return copies
