"""Vendor-side wire helpers: chunk dicts -> SSE bytes, as a vendor would put them on the wire.

Shared by the replica, the hypothesis strategies and the tests, so that every path that
plays a vendor encodes SSE the same way.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from itertools import pairwise
from typing import Any, TypeVar

DONE = "[DONE]"
Cuttable = TypeVar("Cuttable", str, bytes)


def wire_json(value: Any) -> str:
    """JSON as vendors write it on the wire: characters as UTF-8, not `\\u` escapes (so a
    character can be split across two reads)."""
    return json.dumps(value, ensure_ascii=False)


def sse_event(data: str, *, line_end: str = "\n", event: str | None = None) -> bytes:
    """One SSE event; multi-line data becomes several `data:` lines."""
    lines = [f"event: {event}"] if event else []
    lines.extend(f"data: {line}" for line in data.split("\n"))
    return (line_end.join(lines) + line_end + line_end).encode()


def sse_body(
    chunks: Iterable[dict[str, Any] | str],
    *,
    done: bool = True,
    line_end: str = "\n",
    leading_comment: str | None = None,
) -> bytes:
    """The whole body: an optional `:comment`, each chunk as JSON, then `data: [DONE]`."""
    parts = [f":{leading_comment}{line_end}{line_end}".encode()] if leading_comment else []
    parts.extend(
        sse_event(chunk if isinstance(chunk, str) else json.dumps(chunk), line_end=line_end)
        for chunk in chunks
    )
    if done:
        parts.append(sse_event(DONE, line_end=line_end))
    return b"".join(parts)


def split_at(body: Cuttable, cuts: Iterable[int]) -> list[Cuttable]:
    """`body` cut at the given offsets (sorted, de-duplicated, in range); bytes or text."""
    points: list[int] = sorted({cut for cut in cuts if 0 < cut < len(body)})
    edges = [0, *points, len(body)]
    return [body[start:end] for start, end in pairwise(edges)]


def chunk(
    delta: dict[str, Any] | None = None,
    *,
    finish: str | None = None,
    usage: dict[str, Any] | None = None,
    choices: bool = True,
) -> dict[str, Any]:
    """A chat.completion.chunk; `choices=False` gives the `choices: []` usage-only shape."""
    body: dict[str, Any] = {"object": "chat.completion.chunk"}
    body["choices"] = (
        [{"index": 0, "delta": delta or {}, "finish_reason": finish}] if choices else []
    )
    if usage is not None:
        body["usage"] = usage
    return body


def tool_delta(
    index: int | None,
    *,
    call_id: str | None = None,
    name: str | None = None,
    arguments: str | None = None,
) -> dict[str, Any]:
    """One entry of `delta.tool_calls`; fields left None are left out, as vendors do."""
    fragment: dict[str, Any] = {} if index is None else {"index": index}
    function: dict[str, Any] = {}
    if call_id is not None:
        fragment["id"] = call_id
        fragment["type"] = "function"
    if name is not None:
        function["name"] = name
    if arguments is not None:
        function["arguments"] = arguments
    if function:
        fragment["function"] = function
    return fragment


def usage_report(
    prompt: int, completion: int, *, cached: int | None = None, reasoning: int | None = None
) -> dict[str, Any]:
    report: dict[str, Any] = {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
    }
    if cached is not None:
        report["prompt_tokens_details"] = {"cached_tokens": cached}
    if reasoning is not None:
        report["completion_tokens_details"] = {"reasoning_tokens": reasoning}
    return report
