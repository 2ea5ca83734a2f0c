"""OpenAI Chat Completions: `chat.completion.chunk` SSE events, `[DONE]`, `choices[].delta`.

Every vendor-shaped detail comes from the vendor's `[wire]` facts: role chunk, where usage
goes, whole or fragmented tool calls, which field carries reasoning, `[DONE]`, the error-body
shape and the fields each chunk carries besides its content.
"""

from __future__ import annotations

import json
from typing import Any, Literal

from pydantic import Field

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
from contracts.vendors import load_suite_profile
from contracts.wire import DONE, chunk, sse_event, tool_delta, wire_json
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
#: Where a request may carry its output cap.
_CAP_FIELDS = ("max_tokens", "max_completion_tokens")


#: How a vendor lays out an error body: openai `{"error": {...}}`, google_list `[{"error":
#: ...}]`, mistral / object_error a top-level `{"object": "error", ...}` (code null / an int),
#: error_string `{"error": "Unauthorized"}`, plain_text anything not JSON.
ErrorShape = Literal[
    "openai", "google_list", "mistral", "object_error", "error_string", "plain_text"
]


class ChatFacts(WireFacts):
    role_chunk: bool = True
    usage_placement: Literal["separate_chunk", "finish_chunk", "every_chunk", "none"] = (
        "separate_chunk"
    )
    #: Besides `usage_placement`, the finish chunk carries the report at this dotted path,
    #: asked for or not (Groq: `x_groq.usage`).
    finish_usage_path: str | None = None
    #: False: completion_tokens leaves the reasoning tokens out and
    #: completion_tokens_details.reasoning_tokens carries them (xAI); one per thinking piece.
    reasoning_in_completion: bool = True
    #: Whether usage reports prompt-cache reads as `prompt_tokens_details.cached_tokens`
    #: (counted inside `prompt_tokens`); the protocol has no field for cache writes.
    cached_tokens: bool = False
    tool_call_style: Literal["fragmented", "whole", "whole_without_index"] = "fragmented"
    #: vendor: `error.code` is the vendor's own code word; status: the HTTP status as an
    #: integer, with no `type` (OpenRouter).
    error_code: Literal["vendor", "status"] = "vendor"
    #: error_only: a failure after the 200 is a lone error object; with_finish: a chunk whose
    #: top-level `error` sits beside a choice finishing `error` (OpenRouter).
    midstream_error: Literal["error_only", "with_finish"] = "error_only"
    #: Whether a reasoning answer's `delta.content` switches between a string and a list of
    #: typed parts (Mistral's Magistral): all thinking and every other text piece as parts.
    content_parts: bool = False
    #: Answer text sent ahead of the reasoning, when there is reasoning (GLM: "\n").
    leading_content: str | None = None
    #: The SSE event name a failure after the 200 comes under, with no [DONE] after it
    #: (Groq: `error`); None: a plain data event.
    midstream_error_event: str | None = None
    #: The finish value sent after tool calls instead of `tool_calls` (older Ollama: `stop`).
    tool_calls_finish: str | None = None
    done_sentinel: bool = True
    leading_comment: str | None = None
    error_shape: ErrorShape = "openai"
    #: The shape of a 401 body when it differs from `error_shape` (vLLM's API-key check
    #: answers `{"error": "Unauthorized"}`: error_string).
    auth_error_shape: ErrorShape | None = None
    #: Top-level fields every chunk and every whole body carries (`id`, `created`, ...);
    #: `model` is always there, echoing the model asked for.
    chunk_fields: dict[str, Any] = Field(default_factory=dict)
    #: Model names the vendor answers under another name (xAI: grok-4-fast answers as
    #: grok-4-fast-reasoning); any other model is echoed as asked.
    model_aliases: dict[str, str] = Field(default_factory=dict)
    #: Fields every choice carries as null besides its finish_reason (`logprobs`).
    choice_nulls: tuple[str, ...] = ()
    #: Chunks sent verbatim before the first one that belongs to the answer (Azure: one with
    #: empty `choices` and `prompt_filter_results`): neither content nor usage.
    lead_chunks: tuple[dict[str, Any], ...] = ()


def chat_facts(profile: VendorProfile) -> ChatFacts:
    """The vendor's OpenAI Chat wire facts (for strategies that draw vendor-shaped chunks)."""
    facts = OpenAiChat(profile, load_suite_profile(profile.name)).facts
    assert isinstance(facts, ChatFacts)
    return facts


def _usage(
    answer: Answer,
    completion: int | None = None,
    *,
    reasoning_in_completion: bool = True,
    cached_tokens: bool = False,
) -> dict[str, Any] | None:
    if answer.usage == "none":
        return None
    done = answer.usage.completion if completion is None else completion
    report: dict[str, Any] = {
        "prompt_tokens": answer.usage.prompt,
        "completion_tokens": done,
        "total_tokens": answer.usage.prompt + done,
    }
    reasoning = min(len([piece for piece in answer.thinking if piece]), done)
    if not reasoning_in_completion and reasoning:
        report["completion_tokens"] = done - reasoning
        report["completion_tokens_details"] = {"reasoning_tokens": reasoning}
    if cached_tokens and answer.usage.cache_read:
        report["prompt_tokens_details"] = {"cached_tokens": answer.usage.cache_read}
    return report


class OpenAiChat(WireProtocol):
    name = "openai_chat"
    endpoint = "chat/completions"
    title = "Chat Completions"
    facts_model = ChatFacts
    facts: ChatFacts

    # -- serve --------------------------------------------------------------------------------

    def answer_response(self, answer: Answer, request: dict[str, Any]) -> ScriptedResponse:
        model = str(request.get("model", ""))
        if answer.finish == "tool_calls":
            answer = answer.model_copy(update={"finish": self._tool_finish(answer)})
        if not request.get("stream"):
            return ScriptedResponse.json(self.completion(answer, model))
        asked = bool((request.get("stream_options") or {}).get("include_usage"))
        return ScriptedResponse.sse(
            self.stream_events(answer, model, usage_asked=asked),
            disconnect_after=answer.disconnect_after,
        )

    def _dressed(self, body: dict[str, Any], model: str) -> dict[str, Any]:
        """A chunk or body with the fields the vendor puts around the content."""
        for choice in body.get("choices") or []:
            choice.update({**dict.fromkeys(self.facts.choice_nulls), **choice})
        model = self.facts.model_aliases.get(model, model)
        return {**self.facts.chunk_fields, "model": model, **body}

    def stream_events(self, answer: Answer, model: str, *, usage_asked: bool) -> list[bytes]:
        """One SSE event per piece, as the vendor would order them."""
        facts = self.facts
        deltas: list[dict[str, Any]] = []
        if facts.role_chunk:
            deltas.append({"role": "assistant", "content": ""})
        deltas.extend(self._content_deltas(answer))
        carried = deltas.pop() if answer.text_on_finish and answer.text else None
        deltas.extend(self._tool_deltas(answer))

        chunks = [chunk(delta) for delta in deltas]
        if facts.usage_placement == "every_chunk":
            for number, item in enumerate(chunks, start=1):
                report = self._report(answer, completion=min(number, self._completion(answer)))
                if report:
                    item["usage"] = report
        failure = None if answer.error is None else self._midstream_failure(answer.error, model)
        if failure is None and answer.finish is not None and not answer.truncate:
            ending = self._finish_chunks(answer, usage_asked=usage_asked)
            if carried is not None:
                ending[0]["choices"][0]["delta"] = carried
            chunks.extend(ending)

        pieces = []
        if facts.leading_comment is not None:
            pieces.append(f":{facts.leading_comment}\n\n".encode())
        pieces.extend(sse_event(wire_json(lead)) for lead in facts.lead_chunks)
        pieces.extend(sse_event(wire_json(self._dressed(item, model))) for item in chunks)
        if failure is not None:
            pieces.append(sse_event(wire_json(failure), event=facts.midstream_error_event))
        if facts.midstream_error_event and failure is not None:
            return pieces  # the error event is the last thing on the wire
        if facts.done_sentinel and not answer.truncate:
            pieces.append(sse_event(DONE))
        return pieces

    def cache_reported(self) -> tuple[bool, bool]:
        return (self.facts.cached_tokens, False)

    def as_sent(self, answer: Answer, *, streamed: bool) -> Answer:
        answer = super().as_sent(answer, streamed=streamed)
        if answer.finish == "tool_calls":
            answer = answer.model_copy(update={"finish": self._tool_finish(answer)})
        lead = self._leading_content(answer) if streamed else None
        return answer.model_copy(update={"text": (lead, *answer.text)}) if lead else answer

    def _tool_finish(self, answer: Answer) -> str:
        """`tool_calls`, or the vendor's own word for it after tool calls (older Ollama)."""
        return (answer.tool_calls and self.facts.tool_calls_finish) or "tool_calls"

    def _leading_content(self, answer: Answer) -> str | None:
        """The text the vendor streams ahead of the reasoning, when there is reasoning (GLM)."""
        return self.facts.leading_content if "".join(answer.thinking) else None

    def _content_deltas(self, answer: Answer) -> list[dict[str, Any]]:
        """Thinking then text, each piece in its own delta, shaped as the vendor sends them."""
        if self.facts.content_parts and answer.thinking:
            thinking: list[dict[str, Any]] = [
                {"content": [{"type": "thinking", "thinking": [{"type": "text", "text": piece}]}]}
                for piece in answer.thinking
            ]
            text: list[dict[str, Any]] = [
                {"content": [{"type": "text", "text": piece}] if number % 2 else piece}
                for number, piece in enumerate(answer.text)
            ]
            return thinking + text
        reasoning = self.profile.wire.reasoning_fields
        deltas = [{reasoning[0]: piece} for piece in answer.thinking] if reasoning else []
        lead = self._leading_content(answer)
        if lead and reasoning:
            deltas.insert(0, {"content": lead})
        return deltas + [{"content": piece} for piece in answer.text]

    def _midstream_failure(self, message: str, model: str) -> dict[str, Any]:
        """The chunk that ends a stream with an error, in the vendor's error shape."""
        failure: dict[str, Any] = {"message": message, "type": "server_error"}
        if self.facts.error_shape == "object_error":
            return {"object": "error", **failure, "param": None, "code": 500}
        if self.facts.error_code == "status":
            failure = {"code": 502, "message": message}
        if self.facts.midstream_error == "with_finish":
            return {**self._dressed(chunk(finish="error"), model), "error": failure}
        return {"error": failure}

    def _report(self, answer: Answer, completion: int | None = None) -> dict[str, Any] | None:
        facts = self.facts
        return _usage(
            answer,
            completion,
            reasoning_in_completion=facts.reasoning_in_completion,
            cached_tokens=facts.cached_tokens,
        )

    @staticmethod
    def _completion(answer: Answer) -> int:
        return answer.usage.completion if answer.usage != "none" else 0

    def _finish_chunks(self, answer: Answer, *, usage_asked: bool) -> list[dict[str, Any]]:
        report = self._report(answer)
        placement = self.facts.usage_placement
        if placement in ("finish_chunk", "every_chunk"):
            return [chunk(finish=answer.finish, usage=report)]
        finish = chunk(finish=answer.finish)
        path = self.facts.finish_usage_path
        if path and report:
            *parents, leaf = path.split(".")
            holder = finish
            for key in parents:
                holder = holder.setdefault(key, {})
            holder[leaf] = report
        if placement == "separate_chunk" and report and usage_asked:
            return [finish, chunk(usage=report, choices=False)]
        return [finish]

    def _tool_deltas(self, answer: Answer) -> list[dict[str, Any]]:
        style = self.facts.tool_call_style
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

    def completion(self, answer: Answer, model: str) -> dict[str, Any]:
        message: dict[str, Any] = {"role": "assistant", "content": "".join(answer.text) or None}
        reasoning = self.profile.wire.reasoning_fields
        if answer.thinking and reasoning:
            message[reasoning[0]] = "".join(answer.thinking)
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
            "object": "chat.completion",
            "choices": [{"index": 0, "message": message, "finish_reason": answer.finish}],
        }
        report = self._report(answer)
        if report:
            body["usage"] = report
        return self._dressed(body, model)

    def error_response(self, fault: Fault) -> ScriptedResponse:
        headers = fault_headers(fault)
        if self._error_shape_for(fault.status) == "plain_text":
            return ScriptedResponse.text(fault.message, fault.status, headers=headers)
        return ScriptedResponse.json(self.error_body(fault), fault.status, headers=headers)

    def _error_shape_for(self, status: int) -> ErrorShape:
        if status == 401 and self.facts.auth_error_shape:
            return self.facts.auth_error_shape
        return self.facts.error_shape

    def error_body(self, fault: Fault) -> Any:
        shape = self._error_shape_for(fault.status)
        if shape == "error_string":
            return {"error": fault.message}
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
        if shape == "object_error":
            return {
                "object": "error",
                "message": fault.message,
                "type": fault.code,
                "param": None,
                "code": fault.status,
            }
        if self.facts.error_code == "status":
            return {"error": {"code": fault.status, "message": fault.message, "metadata": {}}}
        return {
            "error": {
                "message": fault.message,
                "type": fault.code,
                "param": None,
                "code": fault.code,
            }
        }

    # -- read ---------------------------------------------------------------------------------

    def is_answer(self, payload: dict[str, Any], *, streamed: bool) -> bool:
        return "choices" in payload or (not streamed and "error" in payload)

    def read(self, exchange: Exchange) -> Answer | None:
        if exchange.status >= 400:
            return None
        reading = _Reading(self.profile.wire.reasoning_fields, self.facts)
        for payload in body_payloads(exchange):
            reading.chunk(payload)
        return reading.answer()

    # -- drift --------------------------------------------------------------------------------

    def wire_shape(self, exchange: Exchange) -> WireShape:
        streamed = "event-stream" in exchange.content_type
        if exchange.status >= 400:
            error_traits = (("error_shape", _error_shape(exchange.body)),)
            return WireShape(streamed, exchange.status, frozenset(), (), error_traits)
        if streamed:
            payloads, done = sse_payloads(exchange.body)
        else:
            payloads, done = [json.loads(exchange.body or "{}")], False
        chunks = [p for p in payloads if isinstance(p, dict)]
        fields = set().union(*(key_paths(item, "") for item in chunks))
        if any(payload is None for payload in payloads):
            fields.add("<unparsable>")
        choices = [choice for c in chunks for choice in c.get("choices") or []]
        first_delta = next((choice.get("delta") for choice in choices), None) or {}
        traits = (
            ("usage_placement", _usage_placement(chunks)),
            ("tool_call_style", _tool_call_style(choices)),
            ("done_sentinel", done),
            ("role_chunk", bool(first_delta.get("role")) and not first_delta.get("content")),
        )
        finishes = {choice["finish_reason"] for choice in choices if choice.get("finish_reason")}
        finish_values = tuple(sorted(finishes))
        return WireShape(streamed, exchange.status, frozenset(fields), finish_values, traits)

    def mismatches(self, shape: WireShape) -> list[str]:
        traits = dict(shape.traits)
        facts = self.facts
        if shape.status >= 400:
            sent, expected = traits["error_shape"], self._error_shape_for(shape.status)
            if sent == expected:
                return []
            return [f"error_shape: profile says {expected!r}, vendor sent {sent!r}"]
        if not shape.streamed:
            return []
        lines = [
            f"{name}: profile says {getattr(facts, name)!r}, vendor sent {traits[name]!r}"
            for name in ("usage_placement", "tool_call_style")
            if traits[name] not in ("none", getattr(facts, name))
        ]
        unknown = set(shape.finish_values) - set(self.suite.finish_values)
        if unknown:
            lines.append(f"finish_values: vendor sent {sorted(unknown)}, not in the profile")
        return lines

    # -- what a request asked for -------------------------------------------------------------

    def sent_tool_choice(self, body: dict[str, Any]) -> str | None:
        choice = body.get("tool_choice")
        if isinstance(choice, dict):
            name = (choice.get("function") or {}).get("name")
            return name if isinstance(name, str) else None
        return choice if isinstance(choice, str) else None

    def sent_tool_names(self, body: dict[str, Any]) -> list[str]:
        tools = [t.get("function") for t in body.get("tools") or [] if isinstance(t, dict)]
        return [str(f.get("name")) for f in tools if isinstance(f, dict) and f.get("name")]

    def sent_format(self, body: dict[str, Any]) -> dict[str, Any] | None:
        wanted = body.get("response_format")
        if not isinstance(wanted, dict) or wanted.get("type") not in ("json_object", "json_schema"):
            return None
        if wanted["type"] == "json_object":
            return {"type": "json_object"}
        schema = (wanted.get("json_schema") or {}).get("schema")
        return {"type": "json_schema", "schema": schema} if isinstance(schema, dict) else None

    def sent_images(self, body: dict[str, Any]) -> list[dict[str, str]]:
        images = []
        for message in body.get("messages") or []:
            content = message.get("content") if isinstance(message, dict) else None
            for part in content if isinstance(content, list) else []:
                if isinstance(part, dict) and part.get("type") == "image_url":
                    url = str((part.get("image_url") or {}).get("url", ""))
                    images.append(image_from_url(url))
        return images

    # -- judge --------------------------------------------------------------------------------

    def judge_protocol(self, body: dict[str, Any], spec: RequestSpec) -> list[str]:
        problems = []
        if spec.max_tokens is not None:
            honoured = [f for f in _CAP_FIELDS if f not in self.suite.ignored_fields]
            if not any(body.get(name) == spec.max_tokens for name in honoured):
                problems.append(
                    f"max_tokens={spec.max_tokens} not sent in a field {self.profile.name} "
                    f"honours ({' or '.join(honoured)})"
                )
        usage_only_when_asked = self.profile.request.stream_usage == "include_usage"
        asked = bool((body.get("stream_options") or {}).get("include_usage"))
        if body.get("stream") and usage_only_when_asked and not asked:
            problems.append(
                f"{self.profile.name} streams usage only when asked: "
                "stream_options.include_usage missing"
            )
        messages = body.get("messages") or []
        if spec.system and (
            not messages or messages[0] != {"role": "system", "content": spec.system}
        ):
            problems.append("system prompt is not the first message")
        names = [t.get("function", {}).get("name") for t in body.get("tools") or []]
        if names != [t.name for t in spec.tools]:
            problems.append(f"tools sent {names}, expected {[t.name for t in spec.tools]}")
        return problems


class _Reading(Reading):
    """A plain reading of chunks into an answer, independent of any provider's adapter."""

    def __init__(self, reasoning_fields: tuple[str, ...], facts: ChatFacts) -> None:
        super().__init__()
        self.reasoning_fields = reasoning_fields
        self.usage_paths = ("usage", *filter(None, [facts.finish_usage_path]))
        self.reasoning_in_completion = facts.reasoning_in_completion
        self.usage: dict[str, Any] | None = None

    def message(self, message: dict[str, Any]) -> None:
        for name in self.reasoning_fields:
            if message.get(name):
                self.thinking.append(message[name])
                break
        content = message.get("content")
        if isinstance(content, str):
            self.text.append(content)
        elif isinstance(content, list):
            for part in content:
                if part.get("type") == "text":
                    self.text.append(part.get("text") or "")
                elif part.get("type") == "thinking":
                    self.thinking.extend(p.get("text") or "" for p in part.get("thinking") or [])
        for fragment in message.get("tool_calls") or []:
            self.tool_fragment(fragment)

    def tool_fragment(self, fragment: dict[str, Any]) -> None:
        """Calls keyed by index; no index: a named fragment starts a call, others continue
        the last; an index reused under another id is another call; empty ones carry none."""
        function = fragment.get("function") or {}
        call_id = fragment.get("id") or ""
        if not (call_id or function.get("name") or function.get("arguments")):
            return
        index = fragment.get("index")
        if isinstance(index, int):
            known = self.calls.get(index)
            if known and known["id"] and call_id and known["id"] != call_id:
                index = max(self.calls) + 1
        else:
            named = call_id or function.get("name")
            index = len(self.calls) if named or not self.calls else max(self.calls)
        call = self.calls.setdefault(index, {"id": "", "name": "", "arguments": ""})
        call["id"] = call["id"] or fragment.get("id") or ""
        call["name"] = call["name"] or function.get("name") or ""
        call["arguments"] += function.get("arguments") or ""

    def chunk(self, payload: Any) -> None:
        if (
            not isinstance(payload, dict)
            or payload.get("error")
            or payload.get("object") == "error"
        ):
            return
        for path in self.usage_paths:
            report: Any = payload
            for key in path.split("."):
                report = report.get(key) if isinstance(report, dict) else None
            if report:
                self.usage = report
                break
        for choice in payload.get("choices") or []:
            self.message(choice.get("delta") or choice.get("message") or {})
            self.finish = choice.get("finish_reason") or self.finish

    def answer(self) -> Answer:
        if self.usage:
            details = self.usage.get("completion_tokens_details") or {}
            reasoning = 0 if self.reasoning_in_completion else details.get("reasoning_tokens") or 0
            self.counts = (
                self.usage.get("prompt_tokens") or 0,
                (self.usage.get("completion_tokens") or 0) + reasoning,
            )
            self.cached = (token_count(self.usage.get("prompt_tokens_details"), "cached_tokens"), 0)
        return super().answer()


def _error_shape(body: str) -> str:
    try:
        parsed = json.loads(body)
    except ValueError:
        return "plain_text"
    if isinstance(parsed, list):
        return "google_list"
    if isinstance(parsed, dict) and isinstance(parsed.get("error"), dict):
        return "openai"
    if not isinstance(parsed, dict):
        return "plain_text"
    if isinstance(parsed.get("error"), str):
        return "error_string"
    return "object_error" if type(parsed.get("code")) is int else "mistral"


def _usage_placement(chunks: list[dict[str, Any]]) -> str:
    with_usage = [c for c in chunks if c.get("usage")]
    if not with_usage:
        return "none"
    if len(with_usage) > 1 and any(c.get("choices") for c in with_usage[:-1]):
        return "every_chunk"
    choices = with_usage[-1].get("choices") or []
    if choices and any(choice.get("finish_reason") for choice in choices):
        return "finish_chunk"
    return "separate_chunk"


def _tool_call_style(choices: list[dict[str, Any]]) -> str:
    fragments = [
        fragment
        for choice in choices
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


def image_from_url(url: str) -> dict[str, str]:
    """An image_url's URL as a neutral image: a data URL is inline bytes with a media type."""
    if url.startswith("data:") and ";base64," in url:
        media_type, _, data = url.removeprefix("data:").partition(";base64,")
        return {"data": data, "media_type": media_type}
    return {"url": url}
