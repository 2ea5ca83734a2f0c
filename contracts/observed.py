"""Recorded exchanges, and the protocol-neutral part of reading them: SSE framing, key paths.

The oracle checks judge against reads the vendor's bytes itself (each protocol's `read`), never
through the adapter it judges; this module holds what every protocol's reading shares.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from contracts.imports import without_collection
from contracts.spec import Answer, ToolCallSpec, UsageSpec


@dataclass(frozen=True)
class Exchange:
    """One request and the response to it, as recorded."""

    request: dict[str, Any] | None
    status: int
    content_type: str
    body: str
    #: How the body reached the provider, when the replica cut it into reads.
    delivery: str = ""
    #: When the request arrived (seconds, the replica's clock); None when not recorded.
    at: float | None = None

    @property
    def streamed(self) -> bool:
        return "event-stream" in self.content_type


def sse_payloads(body: str) -> tuple[list[Any], bool]:
    """The JSON payloads of a recorded SSE body (None for an unparsable one), and whether it
    carried `[DONE]`.

    The payloads are shared by every reader of the same body (an import reads one body five
    times, a check run every case's): read them, never change them.
    """
    payloads, done = _sse_payloads(body)
    return list(payloads), done


#: Bodies whose payloads are kept: the few one import or one case's checks read in turn.
_PARSED_BODIES = 16


#: The decoder's value scanner, which `json.loads` calls through two layers (set per instance,
#: so the stubs do not name it).
_scan_value: Callable[[str, int], tuple[Any, int]] = json.JSONDecoder().scan_once  # type: ignore[attr-defined]
_JSON_SPACE = " \t\n\r"


def _json_value(text: str) -> Any:
    """What `json.loads(text)` gives, or ValueError, without its two wrapper calls: a long
    recording has tens of thousands of payloads."""
    text = text.strip(_JSON_SPACE)
    try:
        value, end = _scan_value(text, 0)
    except StopIteration:  # no value starts at the first character
        raise ValueError(text[:1]) from None
    if end != len(text):
        raise ValueError(text[end : end + 1])
    return value


@functools.lru_cache(maxsize=_PARSED_BODIES)
def _sse_payloads(body: str) -> tuple[tuple[Any, ...], bool]:
    # A long body's payloads are tens of thousands of new dicts and lists and no cycles: the
    # collector's passes over them would cost as much as parsing them.
    with without_collection():
        return _parsed_sse(body)


def _parsed_sse(body: str) -> tuple[tuple[Any, ...], bool]:
    payloads: list[Any] = []
    done = False
    for event in body.replace("\r\n", "\n").replace("\r", "\n").split("\n\n"):
        if event.startswith("data:") and "\n" not in event:  # most events: one data line
            data = [event[5:].removeprefix(" ")]
        else:
            data = [
                line[5:].removeprefix(" ") for line in event.split("\n") if line.startswith("data:")
            ]
        if data == ["[DONE]"]:
            done = True
        elif data:
            try:
                payloads.append(_json_value("\n".join(data)))
            except ValueError:
                payloads.append(None)  # the provider must raise; readers move on
    return tuple(payloads), done


def body_payloads(exchange: Exchange) -> list[Any]:
    """A response's JSON payloads: each SSE event's, or the whole body's (none when the body
    does not parse: then nothing was answered)."""
    if exchange.streamed:
        return sse_payloads(exchange.body)[0]
    try:
        return [json.loads(exchange.body)]
    except ValueError:
        return []


def key_paths(value: Any, prefix: str) -> set[str]:
    """Key paths of a JSON value, lists written as `[]`; values themselves are ignored."""
    found: set[str] = set()
    if isinstance(value, dict):
        for key, inner in value.items():
            path = f"{prefix}.{key}" if prefix else key
            found.add(path)
            found |= key_paths(inner, path)
    elif isinstance(value, list):
        for inner in value:
            found |= key_paths(inner, f"{prefix}[]")
    return found


def token_count(holder: Any, key: str) -> int:
    """A token count a usage report holds under `key`; 0 when absent or not a count."""
    value = holder.get(key) if isinstance(holder, dict) else None
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0


class Reading:
    """What a protocol's reader gathers from the bytes, made into an answer the same way for
    every protocol. `counts` is (prompt, completion) once the vendor reported usage, the
    prompt counting cached tokens too; `cached` is (cache read, cache write) tokens."""

    def __init__(self) -> None:
        self.text: list[str] = []
        self.thinking: list[str] = []
        #: Block position -> id, name and the arguments' JSON text.
        self.calls: dict[int, dict[str, str]] = {}
        self.finish: str | None = None
        self.counts: tuple[int, int] | None = None
        self.cached: tuple[int, int] = (0, 0)

    def answer(self) -> Answer:
        return Answer(
            text=("".join(self.text),),
            thinking=("".join(self.thinking),),
            tool_calls=tuple(
                ToolCallSpec(id=c["id"], name=c["name"], arguments=(c["arguments"],))
                for _, c in sorted(self.calls.items())
            ),
            finish=self.finish,
            usage="none"
            if self.counts is None
            else UsageSpec(
                prompt=self.counts[0],
                completion=self.counts[1],
                cache_read=self.cached[0],
                cache_write=self.cached[1],
            ),
            truncate=self.finish is None,
        )
