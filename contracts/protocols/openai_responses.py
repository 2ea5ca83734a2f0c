"""OpenAI's Responses API: typed SSE events (`response.created`, `response.output_item.*`,
`response.output_text.delta`, `response.reasoning_summary_text.delta`,
`response.function_call_arguments.delta`, `response.completed` / `response.incomplete` /
`response.failed`, `error`), whole `response` bodies and OpenAI's `{"error": {...}}` bodies.

The protocol has no finish reason. Scenarios speak OpenAI Chat's finish words; here `stop`
and `tool_calls` are a `completed` response, and any other word is an incomplete one with that
word as `incomplete_details.reason` (`length` is `max_output_tokens`). An answer scripted
without usage is served with `usage: null`.
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
from contracts.protocols.openai_chat import image_from_url
from contracts.replica.server import ScriptedResponse
from contracts.spec import Answer, Fault, RequestSpec
from contracts.wire import sse_event, wire_json

#: A scenario's finish word -> this protocol's end: `completed`, or the incomplete reason.
_FINISH_WORDS = {
    "stop": "completed",
    "tool_calls": "completed",
    "length": "max_output_tokens",
    "content_filter": "content_filter",
}
COMPLETED = "completed"


class ResponsesFacts(WireFacts):
    response_id: str = "resp_replica00000000000000000001"
    created_at: int = 1767225600
    #: Served as a reasoning item's encrypted content when the request includes it.
    encrypted_content: str = "replica-encrypted-reasoning"


class OpenAiResponses(WireProtocol):
    name = "openai_responses"
    endpoint = "responses"
    title = "Responses API"
    facts_model = ResponsesFacts
    facts: ResponsesFacts
    reports_cache = (True, False)

    def finish_on_wire(self, finish: str) -> str:
        return _FINISH_WORDS.get(finish, finish)

    # -- serve --------------------------------------------------------------------------------

    def answer_response(self, answer: Answer, request: dict[str, Any]) -> ScriptedResponse:
        model = str(request.get("model", ""))
        encrypted = "reasoning.encrypted_content" in (request.get("include") or [])
        if not request.get("stream"):
            return ScriptedResponse.json(self.response(answer, model, encrypted=encrypted))
        return ScriptedResponse.sse(
            self.stream_events(answer, model, encrypted=encrypted),
            disconnect_after=answer.disconnect_after,
        )

    def _items(self, answer: Answer, *, encrypted: bool) -> list[tuple[dict[str, Any], list[Any]]]:
        """Each output item whole, and the events that stream its content, in order."""
        items: list[tuple[dict[str, Any], list[Any]]] = []
        if answer.thinking:
            item: dict[str, Any] = {
                "id": "rs_replica0001",
                "type": "reasoning",
                "summary": [{"type": "summary_text", "text": "".join(answer.thinking)}],
            }
            if encrypted:
                item["encrypted_content"] = self.facts.encrypted_content
            deltas = [
                {"type": "response.reasoning_summary_text.delta", "summary_index": 0, "delta": p}
                for p in answer.thinking
            ]
            items.append((item, deltas))
        if answer.text:
            text = "".join(answer.text)
            part = {"type": "output_text", "text": text, "annotations": []}
            item = {
                "id": "msg_replica0001",
                "type": "message",
                "status": "completed",
                "role": "assistant",
                "content": [part],
            }
            deltas = [
                {
                    "type": "response.content_part.added",
                    "content_index": 0,
                    "part": {**part, "text": ""},
                },
                *(
                    {"type": "response.output_text.delta", "content_index": 0, "delta": piece}
                    for piece in answer.text
                ),
                {"type": "response.output_text.done", "content_index": 0, "text": text},
                {"type": "response.content_part.done", "content_index": 0, "part": part},
            ]
            items.append((item, deltas))
        for number, call in enumerate(answer.tool_calls):
            item = {
                "id": f"fc_replica{number:04d}",
                "type": "function_call",
                "status": "completed",
                "call_id": call.id,
                "name": call.name,
                "arguments": call.joined,
            }
            deltas = [
                {"type": "response.function_call_arguments.delta", "delta": piece}
                for piece in call.arguments
            ]
            deltas.append(
                {"type": "response.function_call_arguments.done", "arguments": call.joined}
            )
            items.append((item, deltas))
        return items

    def stream_events(self, answer: Answer, model: str, *, encrypted: bool) -> list[bytes]:
        started = self._envelope(model, status="in_progress", output=[], usage=None)
        events: list[dict[str, Any]] = [
            {"type": "response.created", "response": started},
            {"type": "response.in_progress", "response": started},
        ]
        output = []
        for index, (item, deltas) in enumerate(self._items(answer, encrypted=encrypted)):
            opened = _opened(item)
            events.append(
                {"type": "response.output_item.added", "output_index": index, "item": opened}
            )
            events.extend(
                {**delta, "item_id": item["id"], "output_index": index} for delta in deltas
            )
            events.append(
                {"type": "response.output_item.done", "output_index": index, "item": item}
            )
            output.append(item)
        if answer.error is not None:
            events.append(
                {"type": "error", "code": "server_error", "message": answer.error, "param": None}
            )
        elif answer.finish is not None and not answer.truncate:
            final = self._final(answer, model, output)
            events.append({"type": f"response.{final['status']}", "response": final})
        return [
            sse_event(wire_json({**event, "sequence_number": number}), event=event["type"])
            for number, event in enumerate(events)
        ]

    def response(self, answer: Answer, model: str, *, encrypted: bool) -> dict[str, Any]:
        output = [item for item, _ in self._items(answer, encrypted=encrypted)]
        return self._final(answer, model, output)

    def _final(self, answer: Answer, model: str, output: list[dict[str, Any]]) -> dict[str, Any]:
        end = self.finish_on_wire(answer.finish or "stop")
        incomplete = None if end == COMPLETED else {"reason": end}
        return self._envelope(
            model,
            status=COMPLETED if incomplete is None else "incomplete",
            incomplete_details=incomplete,
            output=output,
            usage=_usage(answer),
        )

    def _envelope(self, model: str, **fields: Any) -> dict[str, Any]:
        return {
            "id": self.facts.response_id,
            "object": "response",
            "created_at": self.facts.created_at,
            "model": model,
            "error": None,
            "incomplete_details": None,
            **fields,
        }

    def error_response(self, fault: Fault) -> ScriptedResponse:
        body = {
            "error": {
                "message": fault.message,
                "type": fault.code,
                "param": None,
                "code": fault.code,
            }
        }
        return ScriptedResponse.json(body, fault.status, headers=fault_headers(fault))

    # -- read ---------------------------------------------------------------------------------

    def is_answer(self, payload: dict[str, Any], *, streamed: bool) -> bool:
        if streamed:
            return str(payload.get("type", "")).startswith("response.")
        return payload.get("object") == "response" or "error" in payload

    def carries_error(self, payload: dict[str, Any]) -> bool:
        return payload.get("type") in ("error", "response.failed")

    def read(self, exchange: Exchange) -> Answer | None:
        if exchange.status >= 400:
            return None
        reading = _Reading()
        take = reading.event if exchange.streamed else reading.whole
        for payload in body_payloads(exchange):
            if isinstance(payload, dict):
                take(payload)
        return reading.answer()

    # -- drift --------------------------------------------------------------------------------

    def wire_shape(self, exchange: Exchange) -> WireShape:
        streamed = exchange.streamed
        if exchange.status >= 400:
            return WireShape(streamed, exchange.status, frozenset(), (), _error_traits(exchange))
        if streamed:
            payloads, done = sse_payloads(exchange.body)
        else:
            whole = json.loads(exchange.body or "{}")
            payloads, done = [{"type": "response", "response": whole}], False
        events = [p for p in payloads if isinstance(p, dict)]
        fields = {
            f"{event.get('type')}:{path}" for event in events for path in key_paths(event, "")
        }
        if any(payload is None for payload in payloads):
            fields.add("<unparsable>")
        kinds = tuple(dict.fromkeys(str(event.get("type")) for event in events))
        ends = {end for event in events if (end := _end_of(event.get("response")))}
        traits = (("event_types", kinds), ("done_sentinel", done))
        return WireShape(streamed, exchange.status, frozenset(fields), tuple(sorted(ends)), traits)

    def mismatches(self, shape: WireShape) -> list[str]:
        traits = dict(shape.traits)
        if shape.status >= 400 and traits["error_shape"] != "openai":
            return [f"error_shape: protocol says 'openai', vendor sent {traits['error_shape']!r}"]
        unknown = set(shape.finish_values) - set(self.suite.finish_values)
        if unknown:
            return [f"finish_values: vendor sent {sorted(unknown)}, not in the profile"]
        return []

    # -- what a request asked for -------------------------------------------------------------

    def sent_tool_choice(self, body: dict[str, Any]) -> str | None:
        choice = body.get("tool_choice")
        if isinstance(choice, dict):
            name = choice.get("name") if choice.get("type") == "function" else None
            return name if isinstance(name, str) else None
        return choice if isinstance(choice, str) else None

    def sent_tool_names(self, body: dict[str, Any]) -> list[str]:
        tools = [tool for tool in body.get("tools") or [] if isinstance(tool, dict)]
        return [str(tool.get("name")) for tool in tools if tool.get("name")]

    def sent_format(self, body: dict[str, Any]) -> dict[str, Any] | None:
        wanted = (body.get("text") or {}).get("format")
        if not isinstance(wanted, dict):
            return None
        if wanted.get("type") == "json_object":
            return {"type": "json_object"}
        schema = wanted.get("schema")
        if wanted.get("type") == "json_schema" and isinstance(schema, dict):
            return {"type": "json_schema", "schema": schema}
        return None

    def sent_images(self, body: dict[str, Any]) -> list[dict[str, str]]:
        images = []
        for item in body.get("input") or []:
            content = item.get("content") if isinstance(item, dict) else None
            for part in content if isinstance(content, list) else []:
                if isinstance(part, dict) and part.get("type") == "input_image":
                    images.append(image_from_url(str(part.get("image_url", ""))))
        return images

    # -- judge --------------------------------------------------------------------------------

    def judge_protocol(self, body: dict[str, Any], spec: RequestSpec) -> list[str]:
        problems = []
        if spec.max_tokens is not None and body.get("max_output_tokens") != spec.max_tokens:
            problems.append(f"max_tokens={spec.max_tokens} not sent as max_output_tokens")
        if "messages" in body:
            problems.append("messages sent: the Responses API takes `input`")
        items = body.get("input") or []
        if any(isinstance(item, dict) and item.get("role") == "system" for item in items):
            problems.append("a system message inside input: the system prompt is `instructions`")
        if spec.system and body.get("instructions") != spec.system:
            problems.append("system prompt not sent as instructions")
        tools = body.get("tools") or []
        names = [tool.get("name") for tool in tools]
        if names != [tool.name for tool in spec.tools]:
            problems.append(f"tools sent {names}, expected {[t.name for t in spec.tools]}")
        if any("function" in tool or "parameters" not in tool for tool in tools):
            problems.append("a tool in Chat's shape: Responses tools are flat, with parameters")
        if body.get("stream") and "stream_options" in body:
            problems.append("stream_options sent: the Responses API always streams its usage")
        return problems


def _opened(item: dict[str, Any]) -> dict[str, Any]:
    """An output item as `response.output_item.added` announces it: no content yet."""
    if item["type"] == "message":
        return {**item, "status": "in_progress", "content": []}
    if item["type"] == "function_call":
        return {**item, "status": "in_progress", "arguments": ""}
    return {key: value for key, value in item.items() if key != "encrypted_content"} | {
        "summary": []
    }


def _usage(answer: Answer) -> dict[str, Any] | None:
    if answer.usage == "none":
        return None
    done = answer.usage.completion
    return {
        "input_tokens": answer.usage.prompt,
        "input_tokens_details": {"cached_tokens": answer.usage.cache_read},
        "output_tokens": done,
        "output_tokens_details": {
            "reasoning_tokens": min(len([piece for piece in answer.thinking if piece]), done)
        },
        "total_tokens": answer.usage.prompt + done,
    }


def _end_of(response: Any) -> str | None:
    """How a response object ends: `completed`, or why it is incomplete."""
    if not isinstance(response, dict):
        return None
    status = response.get("status")
    if status == "incomplete":
        reason = (response.get("incomplete_details") or {}).get("reason")
        return reason if isinstance(reason, str) else "incomplete"
    return status if status in (COMPLETED, "failed") else None


def _error_traits(exchange: Exchange) -> tuple[tuple[str, Any], ...]:
    try:
        body = json.loads(exchange.body)
    except ValueError:
        return (("error_shape", "plain_text"),)
    error = body.get("error") if isinstance(body, dict) else None
    return (("error_shape", "openai" if isinstance(error, dict) else "other"),)


class _Reading(Reading):
    """A plain reading of events into an answer, independent of any provider's adapter."""

    def __init__(self) -> None:
        super().__init__()
        self.usage: dict[str, Any] | None = None

    def event(self, event: dict[str, Any]) -> None:
        kind = event.get("type")
        index = event.get("output_index")
        if kind in ("response.output_text.delta", "response.refusal.delta"):
            self.text.append(event.get("delta") or "")
        elif kind in ("response.reasoning_summary_text.delta", "response.reasoning_text.delta"):
            self.thinking.append(event.get("delta") or "")
        elif kind == "response.output_item.added" and isinstance(index, int):
            item = event.get("item") or {}
            if item.get("type") == "function_call":
                self.calls[index] = {
                    "id": item.get("call_id") or "",
                    "name": item.get("name") or "",
                    "arguments": "",
                }
        elif kind == "response.function_call_arguments.delta" and index in self.calls:
            self.calls[index]["arguments"] += event.get("delta") or ""
        elif kind == "response.output_item.done" and index in self.calls:
            item = event.get("item") or {}
            self.calls[index]["arguments"] = (
                self.calls[index]["arguments"] or item.get("arguments") or ""
            )
        elif kind in ("response.completed", "response.incomplete"):
            self.ended(event.get("response") or {})

    def whole(self, response: dict[str, Any]) -> None:
        for index, item in enumerate(response.get("output") or []):
            if not isinstance(item, dict):
                continue
            if item.get("type") == "message":
                for part in item.get("content") or []:
                    self.text.append(part.get("text") or part.get("refusal") or "")
            elif item.get("type") == "reasoning":
                for part in [*(item.get("summary") or []), *(item.get("content") or [])]:
                    self.thinking.append(part.get("text") or "")
            elif item.get("type") == "function_call":
                self.calls[index] = {
                    "id": item.get("call_id") or "",
                    "name": item.get("name") or "",
                    "arguments": item.get("arguments") or "",
                }
        if response.get("status") in (COMPLETED, "incomplete"):
            self.ended(response)

    def ended(self, response: dict[str, Any]) -> None:
        self.finish = _end_of(response)
        usage = response.get("usage")
        if isinstance(usage, dict):
            self.usage = usage

    def answer(self) -> Answer:
        if self.usage:
            self.counts = (
                self.usage.get("input_tokens") or 0,
                self.usage.get("output_tokens") or 0,
            )
            self.cached = (token_count(self.usage.get("input_tokens_details"), "cached_tokens"), 0)
        return super().answer()
