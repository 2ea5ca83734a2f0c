"""The same hostile test, once per wire protocol: what differs is only the bytes and headers.

Each `Wire` says how its protocol spells a valid answer (streamed and not), an unfinished
stream, an event whose data is given text, and where it carries the request id.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import anthropic_wire

from contracts.wire import chunk, sse_body, sse_event
from providers import LlmProvider, from_vendor


def _chat_stream(text: str) -> bytes:
    return sse_body([chunk({"content": text}), chunk(finish="stop")])


def _chat_unfinished(text: str) -> bytes:
    return sse_body([chunk({"content": text})], done=False)


def _chat_answer(text: str) -> dict[str, Any]:
    message = {"role": "assistant", "content": text}
    return {
        "choices": [{"index": 0, "message": message, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
    }


def _messages_stream(text: str) -> bytes:
    return anthropic_wire.body(anthropic_wire.answer(anthropic_wire.text_block(0, text)))


def _messages_unfinished(text: str) -> bytes:
    """message_start, the text block's start and its one delta: no stop, no message_stop."""
    return anthropic_wire.body(anthropic_wire.answer(anthropic_wire.text_block(0, text))[:3])


def _messages_answer(text: str) -> dict[str, Any]:
    return {
        "id": "msg_01",
        "type": "message",
        "role": "assistant",
        "model": "claude-sonnet-4-6",
        "content": [{"type": "text", "text": text}],
        "stop_reason": "end_turn",
        "usage": {"input_tokens": 1, "output_tokens": 1},
    }


def _responses_answer(text: str, *, status: str = "completed") -> dict[str, Any]:
    message = {
        "id": "msg_01",
        "type": "message",
        "role": "assistant",
        "content": [{"type": "output_text", "text": text, "annotations": []}],
    }
    return {
        "id": "resp_01",
        "object": "response",
        "model": "gpt-4.1-mini",
        "status": status,
        "output": [message],
        "usage": {"input_tokens": 1, "output_tokens": 1, "total_tokens": 2},
    }


def _responses_events(text: str, *, finished: bool) -> bytes:
    answer = _responses_answer(text)
    started = {**answer, "status": "in_progress", "output": [], "usage": None}
    added = {**answer["output"][0], "content": []}
    events: list[dict[str, Any]] = [
        {"type": "response.created", "response": started},
        {"type": "response.output_item.added", "output_index": 0, "item": added},
        {"type": "response.output_text.delta", "output_index": 0, "delta": text},
    ]
    if finished:
        events.append(
            {"type": "response.output_item.done", "output_index": 0, "item": answer["output"][0]}
        )
        events.append({"type": "response.completed", "response": answer})
    return b"".join(sse_event(json.dumps(event), event=event["type"]) for event in events)


@dataclass(frozen=True)
class Wire:
    name: str
    #: The bundled vendor speaking this protocol.
    vendor: str
    #: A whole streamed answer saying the text; a stream that said it and has not finished.
    stream: Callable[[str], bytes]
    unfinished: Callable[[str], bytes]
    #: A whole non-streamed answer saying the text.
    answer: Callable[[str], dict[str, Any]]
    #: The `event:` name of a content event (Anthropic names every event; Chat none).
    event_name: str | None
    request_id_header: str
    #: Where the SDK logs requests and responses at DEBUG.
    sdk_logger: str

    def provider(self, **settings: Any) -> LlmProvider:
        settings.setdefault("max_retries", 0)
        return from_vendor(self.vendor, **settings)

    def event(self, data: str) -> bytes:
        """One event whose data is `data`, verbatim."""
        return sse_event(data, event=self.event_name)

    def answer_bytes(self, text: str = "hello") -> bytes:
        return json.dumps(self.answer(text)).encode()


OPENAI = Wire(
    name="openai",
    vendor="openai",
    stream=_chat_stream,
    unfinished=_chat_unfinished,
    answer=_chat_answer,
    event_name=None,
    request_id_header="x-request-id",
    sdk_logger="openai._base_client",
)
ANTHROPIC = Wire(
    name="anthropic",
    vendor="anthropic",
    stream=_messages_stream,
    unfinished=_messages_unfinished,
    answer=_messages_answer,
    event_name="content_block_delta",
    request_id_header="request-id",
    sdk_logger="anthropic._base_client",
)
RESPONSES = Wire(
    name="openai_responses",
    vendor="openai_responses",
    stream=lambda text: _responses_events(text, finished=True),
    unfinished=lambda text: _responses_events(text, finished=False),
    answer=_responses_answer,
    event_name="response.output_text.delta",
    request_id_header="x-request-id",
    sdk_logger="openai._base_client",
)
WIRES = {wire.name: wire for wire in (OPENAI, ANTHROPIC, RESPONSES)}
