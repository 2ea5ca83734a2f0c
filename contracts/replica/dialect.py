"""Speak one vendor's dialect: turn a scenario's answer or fault into that vendor's bytes.

Everything vendor-shaped comes from the profile's `[wire]` facts: role chunk, where usage goes,
whole or fragmented tool calls, which field carries reasoning, `[DONE]`, the error-body shape.
"""

from __future__ import annotations

import json
from typing import Any

from contracts.replica.server import RecordedRequest, ScriptedResponse
from contracts.spec import Answer, Case, Fault
from contracts.wire import DONE, chunk, sse_event, tool_delta
from providers.vendors import VendorProfile

_GOOGLE_STATUS = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    503: "UNAVAILABLE",
}
MODEL_ECHO = "replica-model"


def _usage(answer: Answer, completion: int | None = None) -> dict[str, int] | None:
    if answer.usage == "none":
        return None
    done = answer.usage.completion if completion is None else completion
    return {
        "prompt_tokens": answer.usage.prompt,
        "completion_tokens": done,
        "total_tokens": answer.usage.prompt + done,
    }


class VendorDialect:
    def __init__(self, profile: VendorProfile) -> None:
        self.profile = profile
        self.wire = profile.wire

    def responder(self, case: Case) -> Any:
        """A ReplicaServer responder that answers every request with this case."""

        def respond(request: RecordedRequest) -> ScriptedResponse:
            return self.respond(case, request)

        return respond

    def respond(self, case: Case, request: RecordedRequest) -> ScriptedResponse:
        fault = case.scenario.fault
        if fault is not None:
            return self.error_response(fault)
        answer = case.answer
        assert answer is not None, "a scenario has an answer or a fault"
        body = request.json() or {}
        if not body.get("stream"):
            return ScriptedResponse.json(self.completion(answer))
        asked = bool((body.get("stream_options") or {}).get("include_usage"))
        return ScriptedResponse.sse(
            self.stream_events(answer, usage_asked=asked),
            disconnect_after=answer.disconnect_after,
        )

    # -- success ------------------------------------------------------------------------------

    def stream_events(self, answer: Answer, *, usage_asked: bool) -> list[bytes]:
        """One SSE event per piece, as the vendor would order them."""
        deltas: list[dict[str, Any]] = []
        if self.wire.role_chunk:
            deltas.append({"role": "assistant", "content": ""})
        reasoning_field = self.wire.reasoning_fields[0] if self.wire.reasoning_fields else None
        if reasoning_field:
            deltas.extend({reasoning_field: piece} for piece in answer.thinking)
        deltas.extend({"content": piece} for piece in answer.text)
        deltas.extend(self._tool_deltas(answer))

        chunks = [chunk(delta) for delta in deltas]
        placement = self.wire.usage_placement
        if placement == "every_chunk":
            for number, item in enumerate(chunks, start=1):
                report = _usage(answer, completion=min(number, self._completion(answer)))
                if report:
                    item["usage"] = report
        if answer.error is not None:
            chunks.append({"error": {"message": answer.error, "type": "server_error"}})
        elif answer.finish is not None and not answer.truncate:
            chunks.extend(self._finish_chunks(answer, usage_asked=usage_asked))

        pieces = []
        if self.wire.leading_comment is not None:
            pieces.append(f":{self.wire.leading_comment}\n\n".encode())
        pieces.extend(sse_event(json.dumps(item)) for item in chunks)
        if self.wire.done_sentinel and not answer.truncate:
            pieces.append(sse_event(DONE))
        return pieces

    @staticmethod
    def _completion(answer: Answer) -> int:
        return answer.usage.completion if answer.usage != "none" else 0

    def _finish_chunks(self, answer: Answer, *, usage_asked: bool) -> list[dict[str, Any]]:
        report = _usage(answer)
        placement = self.wire.usage_placement
        if placement in ("finish_chunk", "every_chunk"):
            return [chunk(finish=answer.finish, usage=report)]
        finish = chunk(finish=answer.finish)
        if placement == "separate_chunk" and report and usage_asked:
            return [finish, chunk(usage=report, choices=False)]
        return [finish]

    def _tool_deltas(self, answer: Answer) -> list[dict[str, Any]]:
        style = self.wire.tool_call_style
        if not answer.tool_calls:
            return []
        if style == "fragmented":
            deltas = []
            for index, call in enumerate(answer.tool_calls):
                deltas.append(
                    {
                        "tool_calls": [
                            tool_delta(index, call_id=call.id, name=call.name, arguments="")
                        ]
                    }
                )
                deltas.extend(
                    {"tool_calls": [tool_delta(index, arguments=piece)]} for piece in call.arguments
                )
            return deltas
        whole = [
            tool_delta(
                None if style == "whole_without_index" else index,
                call_id=call.id,
                name=call.name,
                arguments=call.joined,
            )
            for index, call in enumerate(answer.tool_calls)
        ]
        return [{"tool_calls": whole}]

    def completion(self, answer: Answer) -> dict[str, Any]:
        message: dict[str, Any] = {"role": "assistant", "content": "".join(answer.text) or None}
        if answer.thinking and self.wire.reasoning_fields:
            message[self.wire.reasoning_fields[0]] = "".join(answer.thinking)
        if answer.tool_calls:
            message["tool_calls"] = [
                {
                    "id": call.id,
                    "type": "function",
                    "function": {"name": call.name, "arguments": call.joined},
                }
                for call in answer.tool_calls
            ]
        body: dict[str, Any] = {
            "id": "chatcmpl-replica",
            "object": "chat.completion",
            "model": MODEL_ECHO,
            "choices": [{"index": 0, "message": message, "finish_reason": answer.finish}],
        }
        report = _usage(answer)
        if report:
            body["usage"] = report
        return body

    # -- failure ------------------------------------------------------------------------------

    def error_response(self, fault: Fault) -> ScriptedResponse:
        headers = {"retry-after": str(fault.retry_after)} if fault.retry_after is not None else {}
        shape = self.wire.error_shape
        if shape == "plain_text":
            return ScriptedResponse.text(fault.message, fault.status, headers=headers)
        return ScriptedResponse.json(self.error_body(fault), fault.status, headers=headers)

    def error_body(self, fault: Fault) -> Any:
        shape = self.wire.error_shape
        if shape == "google_list":
            status = _GOOGLE_STATUS.get(fault.status, "UNKNOWN")
            return [{"error": {"code": fault.status, "message": fault.message, "status": status}}]
        if shape == "mistral":
            if fault.status == 401:
                return {"detail": "Unauthorized"}
            return {
                "object": "error",
                "message": fault.message,
                "type": fault.code,
                "param": None,
                "code": None,
            }
        return {
            "error": {
                "message": fault.message,
                "type": fault.code,
                "param": None,
                "code": fault.code,
            }
        }
