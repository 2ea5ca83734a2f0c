"""Wire drift: how a vendor's bytes changed between two recordings of the same scenario.

A recording is summarised into its wire shape (which fields its chunks carry, finish values,
where usage sits, how tool calls are cut, `[DONE]`, role chunk, error-body shape); two
shapes are compared, and a shape is compared with the profile's `[wire]` facts, so that
`record` says both what moved and which profile field no longer tells the truth.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from contracts.observed import Exchange, sse_payloads
from providers.vendors import WireFacts


@dataclass(frozen=True)
class WireShape:
    streamed: bool
    status: int
    fields: frozenset[str]
    finish_values: tuple[str, ...]
    usage_placement: str
    tool_call_style: str
    done_sentinel: bool
    role_chunk: bool
    error_shape: str | None


def _paths(value: Any, prefix: str) -> set[str]:
    """Key paths of a JSON value, lists written as `[]`; values themselves are ignored."""
    found: set[str] = set()
    if isinstance(value, dict):
        for key, inner in value.items():
            path = f"{prefix}.{key}" if prefix else key
            found.add(path)
            found |= _paths(inner, path)
    elif isinstance(value, list):
        for inner in value:
            found |= _paths(inner, f"{prefix}[]")
    return found


def _error_shape(body: str) -> str:
    try:
        parsed = json.loads(body)
    except ValueError:
        return "plain_text"
    if isinstance(parsed, list):
        return "google_list"
    if isinstance(parsed, dict) and isinstance(parsed.get("error"), dict):
        return "openai"
    return "mistral" if isinstance(parsed, dict) else "plain_text"


def _usage_placement(chunks: list[dict[str, Any]]) -> str:
    with_usage = [c for c in chunks if c.get("usage")]
    if not with_usage:
        return "none"
    if len(with_usage) > 1 and any(c.get("choices") for c in with_usage[:-1]):
        return "every_chunk"
    last = with_usage[-1]
    choices = last.get("choices") or []
    if choices and any(choice.get("finish_reason") for choice in choices):
        return "finish_chunk"
    return "separate_chunk"


def _tool_call_style(chunks: list[dict[str, Any]]) -> str:
    fragments = [
        fragment
        for c in chunks
        for choice in c.get("choices") or []
        for fragment in (choice.get("delta") or choice.get("message") or {}).get("tool_calls") or []
    ]
    if not fragments:
        return "none"
    if any("index" not in fragment for fragment in fragments):
        return "whole_without_index"
    per_call: dict[Any, int] = {}
    for fragment in fragments:
        per_call[fragment["index"]] = per_call.get(fragment["index"], 0) + 1
    return "fragmented" if max(per_call.values()) > 1 else "whole"


def wire_shape(exchange: Exchange) -> WireShape:
    streamed = "event-stream" in exchange.content_type
    if exchange.status >= 400:
        return WireShape(
            streamed,
            exchange.status,
            frozenset(),
            (),
            "none",
            "none",
            False,
            False,
            _error_shape(exchange.body),
        )
    if streamed:
        payloads, done = sse_payloads(exchange.body)
    else:
        payloads, done = [json.loads(exchange.body or "{}")], False
    chunks = [p for p in payloads if isinstance(p, dict)]
    fields: set[str] = set()
    for item in chunks:
        fields |= _paths(item, "")
    if any(payload is None for payload in payloads):
        fields.add("<unparsable>")
    first_delta = (
        next((choice.get("delta") for c in chunks for choice in c.get("choices") or []), None) or {}
    )
    return WireShape(
        streamed=streamed,
        status=exchange.status,
        fields=frozenset(fields),
        finish_values=tuple(
            sorted(
                {
                    choice["finish_reason"]
                    for c in chunks
                    for choice in c.get("choices") or []
                    if choice.get("finish_reason")
                }
            )
        ),
        usage_placement=_usage_placement(chunks),
        tool_call_style=_tool_call_style(chunks),
        done_sentinel=done,
        role_chunk=bool(first_delta.get("role")) and not first_delta.get("content"),
        error_shape=None,
    )


def _label(exchange: Exchange) -> str:
    return "stream" if exchange.request and exchange.request.get("stream") else "complete"


def drift(old: list[Exchange], new: list[Exchange]) -> list[str]:
    """What changed, one line each; empty when the wire looks the same."""
    if len(old) != len(new):
        return [f"{len(old)} interaction(s) before, {len(new)} now"]
    lines = []
    for before, after in zip(old, new, strict=True):
        was, now = wire_shape(before), wire_shape(after)
        where = _label(after)
        if was.fields - now.fields:
            lines.append(f"{where}: fields gone: {', '.join(sorted(was.fields - now.fields))}")
        if now.fields - was.fields:
            lines.append(f"{where}: fields added: {', '.join(sorted(now.fields - was.fields))}")
        for name in (
            "status",
            "finish_values",
            "usage_placement",
            "tool_call_style",
            "done_sentinel",
            "role_chunk",
            "error_shape",
        ):
            if getattr(was, name) != getattr(now, name):
                lines.append(
                    f"{where}: {name.replace('_', ' ')}: {getattr(was, name)!r} -> "
                    f"{getattr(now, name)!r}"
                )
    return lines


def profile_mismatches(shapes: list[WireShape], wire: WireFacts) -> list[str]:
    """Where recorded streams contradict the profile's [wire] facts."""
    lines = set()
    for shape in shapes:
        if shape.status >= 400:
            if shape.error_shape != wire.error_shape:
                lines.add(
                    f"error_shape: profile says {wire.error_shape!r}, vendor sent "
                    f"{shape.error_shape!r}"
                )
            continue
        if not shape.streamed:
            continue
        if shape.usage_placement not in ("none", wire.usage_placement):
            lines.add(
                f"usage_placement: profile says {wire.usage_placement!r}, vendor sent "
                f"{shape.usage_placement!r}"
            )
        if shape.tool_call_style not in ("none", wire.tool_call_style):
            lines.add(
                f"tool_call_style: profile says {wire.tool_call_style!r}, vendor sent "
                f"{shape.tool_call_style!r}"
            )
        unknown = set(shape.finish_values) - set(wire.finish_values)
        if unknown:
            lines.add(f"finish_values: vendor sent {sorted(unknown)}, not in the profile")
    return sorted(lines)
