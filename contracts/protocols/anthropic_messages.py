"""Anthropic Messages: typed SSE events (`message_start`, `content_block_*`, `message_delta`,
`message_stop`, `ping`, `error`), whole `message` bodies and `{"type": "error"}` error bodies.

Scenarios speak OpenAI's finish words; this protocol says them its own way (`stop` is
`end_turn`, ...). Anthropic always reports usage, so an answer scripted without usage is
served with zero counts, as the vendor's own stream would carry some.
"""

from __future__ import annotations

import json
from typing import Any

from contracts.observed import (
    Exchange,
    Reading,
    body_payloads,
    key_paths,
    sse_payloads,
    token_count,
)
from contracts.protocols import WireFacts, WireProtocol, WireShape, fault_headers
from contracts.replica.server import ScriptedResponse
from contracts.spec import Answer, Fault, RequestSpec
from contracts.wire import sse_event, wire_json

#: A scenario's finish word -> this protocol's stop_reason; other values pass as they are.
_STOP_WORDS = {
    "stop": "end_turn",
    "length": "max_tokens",
    "tool_calls": "tool_use",
    "content_filter": "refusal",
}
#: HTTP status -> the error type Anthropic names it with.
_ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    529: "overloaded_error",
}


class MessagesFacts(WireFacts):
    message_id: str = "msg_replica0000000000000001"
    #: Sent in every thinking block's signature_delta (opaque to clients).
    signature: str = "replica-signature"
    #: A `ping` event right after `message_start`, as the vendor sends.
    ping: bool = True


def _output_tokens(answer: Answer) -> int:
    return 0 if answer.usage == "none" else answer.usage.completion


def _input_usage(answer: Answer) -> dict[str, int]:
    """The input side of a usage report: the protocol counts cached tokens apart from
    `input_tokens`, so those are the prompt's uncached rest; the cache fields are served
    when the answer has cache traffic (the vendor sends them as 0 otherwise)."""
    if answer.usage == "none":
        return {"input_tokens": 0}
    usage = answer.usage
    cached = usage.cache_read + usage.cache_write
    report = {"input_tokens": max(usage.prompt - cached, 0)}
    if cached:
        report["cache_creation_input_tokens"] = usage.cache_write
        report["cache_read_input_tokens"] = usage.cache_read
    return report


class AnthropicMessages(WireProtocol):
    name = "anthropic_messages"
    endpoint = "messages"
    title = "Anthropic Messages"
    facts_model = MessagesFacts
    facts: MessagesFacts

    def finish_on_wire(self, finish: str) -> str:
        return _STOP_WORDS.get(finish, finish)

    # -- serve --------------------------------------------------------------------------------

    def answer_response(self, answer: Answer, request: dict[str, Any]) -> ScriptedResponse:
        model = str(request.get("model", ""))
        if not request.get("stream"):
            return ScriptedResponse.json(self.message(answer, model))
        return ScriptedResponse.sse(
            self.stream_events(answer, model), disconnect_after=answer.disconnect_after
        )

    reports_cache = (True, True)

    def as_sent(self, answer: Answer, *, streamed: bool) -> Answer:
        """A whole message carries each call's input as a parsed object, so the vendor's own
        argument text (its spacing, key order, escapes) exists only in a stream."""
        answer = super().as_sent(answer, streamed=streamed)
        if streamed or not answer.tool_calls:
            return answer
        calls = tuple(
            call.model_copy(update={"arguments": (json.dumps(json.loads(call.joined or "{}")),)})
            for call in answer.tool_calls
        )
        return answer.model_copy(update={"tool_calls": calls})

    def _blocks(self, answer: Answer) -> list[tuple[dict[str, Any], list[dict[str, Any]]]]:
        """Each content block's start and its deltas, in order."""
        blocks: list[tuple[dict[str, Any], list[dict[str, Any]]]] = []
        if answer.thinking:
            deltas = [{"type": "thinking_delta", "thinking": piece} for piece in answer.thinking]
            deltas.append({"type": "signature_delta", "signature": self.facts.signature})
            blocks.append(({"type": "thinking", "thinking": "", "signature": ""}, deltas))
        if answer.text:
            deltas = [{"type": "text_delta", "text": piece} for piece in answer.text]
            blocks.append(({"type": "text", "text": ""}, deltas))
        for call in answer.tool_calls:
            start = {"type": "tool_use", "id": call.id, "name": call.name, "input": {}}
            deltas = [{"type": "input_json_delta", "partial_json": p} for p in call.arguments]
            blocks.append((start, deltas))
        return blocks

    def stream_events(self, answer: Answer, model: str) -> list[bytes]:
        completion = _output_tokens(answer)
        start = {
            **self._envelope(model, content=[], stop_reason=None),
            "usage": {**_input_usage(answer), "output_tokens": 1},
        }
        events: list[dict[str, Any]] = [{"type": "message_start", "message": start}]
        if self.facts.ping:
            events.append({"type": "ping"})
        for index, (block, deltas) in enumerate(self._blocks(answer)):
            events.append({"type": "content_block_start", "index": index, "content_block": block})
            events.extend(
                {"type": "content_block_delta", "index": index, "delta": delta} for delta in deltas
            )
            events.append({"type": "content_block_stop", "index": index})
        if answer.error is not None:
            error = {"type": "overloaded_error", "message": answer.error}
            events.append({"type": "error", "error": error})
        elif answer.finish is not None and not answer.truncate:
            delta = {"stop_reason": self.finish_on_wire(answer.finish), "stop_sequence": None}
            usage = {"output_tokens": completion}
            events.append({"type": "message_delta", "delta": delta, "usage": usage})
            events.append({"type": "message_stop"})
        return [sse_event(wire_json(event), event=event["type"]) for event in events]

    def _envelope(self, model: str, **fields: Any) -> dict[str, Any]:
        return {
            "id": self.facts.message_id,
            "type": "message",
            "role": "assistant",
            "model": model,
            **fields,
            "stop_sequence": None,
        }

    def message(self, answer: Answer, model: str) -> dict[str, Any]:
        content = []
        if answer.thinking:
            thinking = "".join(answer.thinking)
            signature = self.facts.signature
            content.append({"type": "thinking", "thinking": thinking, "signature": signature})
        if answer.text:
            content.append({"type": "text", "text": "".join(answer.text)})
        content.extend(
            {"type": "tool_use", "id": c.id, "name": c.name, "input": json.loads(c.joined or "{}")}
            for c in answer.tool_calls
        )
        stop = self.finish_on_wire(answer.finish) if answer.finish else None
        return {
            **self._envelope(model, content=content, stop_reason=stop),
            "usage": {**_input_usage(answer), "output_tokens": _output_tokens(answer)},
        }

    def error_response(self, fault: Fault) -> ScriptedResponse:
        kind = _ERROR_TYPES.get(fault.status, "api_error")
        body = {"type": "error", "error": {"type": kind, "message": fault.message}}
        return ScriptedResponse.json(body, fault.status, headers=fault_headers(fault))

    # -- read ---------------------------------------------------------------------------------

    def is_answer(self, payload: dict[str, Any], *, streamed: bool) -> bool:
        return payload.get("type") in (("message_start",) if streamed else ("message", "error"))

    def read(self, exchange: Exchange) -> Answer | None:
        if exchange.status >= 400:
            return None
        reading = _Reading()
        take = reading.event if exchange.streamed else reading.message
        for payload in body_payloads(exchange):
            if isinstance(payload, dict):
                take(payload)
        return reading.answer()

    # -- drift --------------------------------------------------------------------------------

    def wire_shape(self, exchange: Exchange) -> WireShape:
        streamed = "event-stream" in exchange.content_type
        if exchange.status >= 400:
            return WireShape(streamed, exchange.status, frozenset(), (), _error_traits(exchange))
        if streamed:
            payloads = sse_payloads(exchange.body)[0]
        else:
            payloads = [{"type": "message", "message": json.loads(exchange.body or "{}")}]
        events = [p for p in payloads if isinstance(p, dict)]
        fields = {
            f"{event.get('type')}:{path}" for event in events for path in key_paths(event, "")
        }
        if any(payload is None for payload in payloads):
            fields.add("<unparsable>")
        kinds = tuple(dict.fromkeys(str(event.get("type")) for event in events))
        stops = {stop for event in events if (stop := _stop_reason(event))}
        traits = (("event_types", kinds),)
        return WireShape(streamed, exchange.status, frozenset(fields), tuple(sorted(stops)), traits)

    def mismatches(self, shape: WireShape) -> list[str]:
        traits = dict(shape.traits)
        if shape.status >= 400 and traits["error_shape"] != "anthropic":
            return [
                f"error_shape: protocol says 'anthropic', vendor sent {traits['error_shape']!r}"
            ]
        unknown = set(shape.finish_values) - set(self.suite.finish_values)
        if unknown:
            return [f"finish_values: vendor sent {sorted(unknown)}, not in the profile"]
        return []

    # -- what a request asked for -------------------------------------------------------------

    echoes_thinking = True

    def breaks(self, rule: str, body: dict[str, Any]) -> bool:
        """thinking_not_first: thinking is on, and the last assistant turn (the one whose tool
        calls the request answers) does not open with its thinking block."""
        if rule != "thinking_not_first" or (body.get("thinking") or {}).get("type") != "enabled":
            return False
        assistant = [
            message
            for message in body.get("messages") or []
            if isinstance(message, dict) and message.get("role") == "assistant"
        ]
        content = assistant[-1].get("content") if assistant else None
        if not isinstance(content, list) or not content:
            return False
        calls = any(isinstance(b, dict) and b.get("type") == "tool_use" for b in content)
        first = content[0].get("type") if isinstance(content[0], dict) else None
        return calls and first not in ("thinking", "redacted_thinking")

    def sent_tool_choice(self, body: dict[str, Any]) -> str | None:
        choice = body.get("tool_choice")
        if not isinstance(choice, dict):
            return None
        kind = choice.get("type")
        if kind == "tool":
            name = choice.get("name")
            return name if isinstance(name, str) else None
        return {"auto": "auto", "any": "required", "none": "none"}.get(str(kind))

    def sent_tool_names(self, body: dict[str, Any]) -> list[str]:
        tools = [tool for tool in body.get("tools") or [] if isinstance(tool, dict)]
        return [str(tool.get("name")) for tool in tools if tool.get("name")]

    def sent_format(self, body: dict[str, Any]) -> dict[str, Any] | None:
        wanted = (body.get("output_config") or {}).get("format")
        if isinstance(wanted, dict) and wanted.get("type") == "json_schema":
            schema = wanted.get("schema")
            return {"type": "json_schema", "schema": schema} if isinstance(schema, dict) else None
        return None

    def sent_images(self, body: dict[str, Any]) -> list[dict[str, str]]:
        images = []
        for block in _content_blocks(body, "user"):
            source = block.get("source") if block.get("type") == "image" else None
            if isinstance(source, dict) and source.get("type") == "url":
                images.append({"url": str(source.get("url", ""))})
            elif isinstance(source, dict) and source.get("type") == "base64":
                images.append(
                    {
                        "data": str(source.get("data", "")),
                        "media_type": str(source.get("media_type", "")),
                    }
                )
        return images

    def sent_thinking_blocks(self, body: dict[str, Any]) -> list[dict[str, str]]:
        blocks = []
        for block in _content_blocks(body, "assistant"):
            if block.get("type") == "thinking":
                blocks.append(
                    {
                        "text": str(block.get("thinking", "")),
                        "signature": str(block.get("signature", "")),
                    }
                )
            elif block.get("type") == "redacted_thinking":
                blocks.append({"redacted_data": str(block.get("data", ""))})
        return blocks

    # -- judge --------------------------------------------------------------------------------

    def judge_protocol(self, body: dict[str, Any], spec: RequestSpec) -> list[str]:
        problems = []
        if spec.max_tokens is not None and body.get("max_tokens") != spec.max_tokens:
            problems.append(f"max_tokens={spec.max_tokens} not sent as max_tokens")
        messages = body.get("messages") or []
        if any(message.get("role") == "system" for message in messages):
            problems.append("a system message inside messages: the system prompt is top-level")
        if spec.system and _system_text(body.get("system")) != spec.system:
            problems.append("system prompt not sent as the top-level system")
        tools = body.get("tools") or []
        names = [tool.get("name") for tool in tools]
        if names != [tool.name for tool in spec.tools]:
            problems.append(f"tools sent {names}, expected {[t.name for t in spec.tools]}")
        if any("input_schema" not in tool for tool in tools):
            problems.append("a tool without input_schema")
        return problems


def _content_blocks(body: dict[str, Any], role: str) -> list[dict[str, Any]]:
    """Every content block of the request's turns in that role, in order."""
    blocks: list[dict[str, Any]] = []
    for message in body.get("messages") or []:
        if isinstance(message, dict) and message.get("role") == role:
            content = message.get("content")
            if isinstance(content, list):
                blocks.extend(block for block in content if isinstance(block, dict))
    return blocks


def _system_text(system: Any) -> str | None:
    """The top-level system prompt: a string, or a list of text blocks."""
    if isinstance(system, list):
        return "".join(block.get("text", "") for block in system if isinstance(block, dict))
    return system if isinstance(system, str) else None


def _stop_reason(event: dict[str, Any]) -> str | None:
    holder = event.get("delta") if event.get("type") == "message_delta" else event.get("message")
    stop = holder.get("stop_reason") if isinstance(holder, dict) else None
    return stop if isinstance(stop, str) else None


def _error_traits(exchange: Exchange) -> tuple[tuple[str, Any], ...]:
    try:
        body = json.loads(exchange.body)
    except ValueError:
        return (("error_shape", "plain_text"), ("error_type", None))
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(body, dict) and body.get("type") == "error" and isinstance(error, dict):
        return (("error_shape", "anthropic"), ("error_type", error.get("type")))
    return (("error_shape", "other"), ("error_type", None))


class _Reading(Reading):
    """A plain reading of events into an answer, independent of any provider's adapter."""

    def __init__(self) -> None:
        super().__init__()
        self.usage: dict[str, int] = {}

    def _usage(self, usage: Any) -> None:
        if isinstance(usage, dict):
            self.usage.update({k: v for k, v in usage.items() if isinstance(v, int)})

    def event(self, event: dict[str, Any]) -> None:
        kind = event.get("type")
        index = event.get("index")
        if kind == "message_start":
            self._usage((event.get("message") or {}).get("usage"))
        elif kind == "content_block_start" and isinstance(index, int):
            self.block(index, event.get("content_block") or {}, whole=False)
        elif kind == "content_block_delta" and isinstance(index, int):
            delta = event.get("delta") or {}
            if delta.get("type") == "text_delta":
                self.text.append(delta.get("text") or "")
            elif delta.get("type") == "thinking_delta":
                self.thinking.append(delta.get("thinking") or "")
            elif delta.get("type") == "input_json_delta" and index in self.calls:
                self.calls[index]["arguments"] += delta.get("partial_json") or ""
        elif kind == "message_delta":
            self.finish = (event.get("delta") or {}).get("stop_reason") or self.finish
            self._usage(event.get("usage"))

    def block(self, index: int, block: dict[str, Any], *, whole: bool) -> None:
        kind = block.get("type")
        if kind == "text":
            self.text.append(block.get("text") or "")
        elif kind == "thinking":
            self.thinking.append(block.get("thinking") or "")
        elif kind == "tool_use":
            given = block.get("input")
            arguments = json.dumps(given) if whole or given else ""
            self.calls[index] = {
                "id": block.get("id") or "",
                "name": block.get("name") or "",
                "arguments": arguments,
            }

    def message(self, message: dict[str, Any]) -> None:
        for index, block in enumerate(message.get("content") or []):
            if isinstance(block, dict):
                self.block(index, block, whole=True)
        self.finish = message.get("stop_reason")
        self._usage(message.get("usage"))

    def answer(self) -> Answer:
        if "input_tokens" in self.usage or "output_tokens" in self.usage:
            read = token_count(self.usage, "cache_read_input_tokens")
            written = token_count(self.usage, "cache_creation_input_tokens")
            uncached = self.usage.get("input_tokens", 0)
            self.counts = (uncached + read + written, self.usage.get("output_tokens", 0))
            self.cached = (read, written)
        return super().answer()
