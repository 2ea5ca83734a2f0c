"""Anthropic Messages bytes for the project's own tests: events as the API documents them."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

import httpx2

from contracts.transport import PieceStream, replay_transport
from providers import AnthropicProvider

KEY = "sk-ant-api03-FAKEtestKEY0123456789abcdefghij"


def event(data: Any) -> bytes:
    """One SSE event named by its data's type, as the API sends it (`message` if it has none)."""
    name = data.get("type", "message") if isinstance(data, dict) else "message"
    return f"event: {name}\ndata: {json.dumps(data)}\n\n".encode()


def body(events: Iterable[dict[str, Any]]) -> bytes:
    return b"".join(event(item) for item in events)


def message_start(
    input_tokens: int = 10, cache_read: int = 0, cache_write: int = 0
) -> dict[str, Any]:
    return {
        "type": "message_start",
        "message": {
            "id": "msg_01",
            "type": "message",
            "role": "assistant",
            "model": "claude-sonnet-4-6",
            "content": [],
            "stop_reason": None,
            "stop_sequence": None,
            "usage": {
                "input_tokens": input_tokens,
                "cache_read_input_tokens": cache_read,
                "cache_creation_input_tokens": cache_write,
                "output_tokens": 1,
            },
        },
    }


def block_start(index: int, block: dict[str, Any]) -> dict[str, Any]:
    return {"type": "content_block_start", "index": index, "content_block": block}


def delta(index: int, payload: dict[str, Any]) -> dict[str, Any]:
    return {"type": "content_block_delta", "index": index, "delta": payload}


def block_stop(index: int) -> dict[str, Any]:
    return {"type": "content_block_stop", "index": index}


def text_block(index: int, *pieces: str) -> list[dict[str, Any]]:
    return [
        block_start(index, {"type": "text", "text": ""}),
        *(delta(index, {"type": "text_delta", "text": piece}) for piece in pieces),
        block_stop(index),
    ]


def thinking_block(
    index: int, *pieces: str, signature: str = "c2lnbmF0dXJl"
) -> list[dict[str, Any]]:
    return [
        block_start(index, {"type": "thinking", "thinking": ""}),
        *(delta(index, {"type": "thinking_delta", "thinking": piece}) for piece in pieces),
        delta(index, {"type": "signature_delta", "signature": signature}),
        block_stop(index),
    ]


def tool_block(index: int, call_id: str, name: str, *pieces: str) -> list[dict[str, Any]]:
    return [
        block_start(index, {"type": "tool_use", "id": call_id, "name": name, "input": {}}),
        *(delta(index, {"type": "input_json_delta", "partial_json": piece}) for piece in pieces),
        block_stop(index),
    ]


def message_end(stop_reason: str = "end_turn", output_tokens: int = 7) -> list[dict[str, Any]]:
    return [
        {
            "type": "message_delta",
            "delta": {"stop_reason": stop_reason, "stop_sequence": None},
            "usage": {"output_tokens": output_tokens},
        },
        {"type": "message_stop"},
    ]


def answer(*blocks: list[dict[str, Any]], stop_reason: str = "end_turn") -> list[dict[str, Any]]:
    return [
        message_start(),
        *(item for block in blocks for item in block),
        *message_end(stop_reason),
    ]


def sse(pieces: list[bytes], *, fail_after: int | None = None) -> httpx2.Response:
    return httpx2.Response(
        200,
        headers={"content-type": "text/event-stream", "request-id": "req_011"},
        stream=PieceStream(pieces, fail_after=fail_after),
    )


def provider(*responses: httpx2.Response, **overrides: Any) -> AnthropicProvider:
    overrides.setdefault("max_retries", 0)
    overrides.setdefault("api_key", KEY)
    client = httpx2.AsyncClient(transport=replay_transport(*responses))
    return AnthropicProvider.from_vendor("anthropic", http_client=client, **overrides)
