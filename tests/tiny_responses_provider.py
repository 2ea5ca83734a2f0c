"""A small, independent LlmProvider for OpenAI's Responses API on raw httpx2: no SDK, none of
this project's provider code.

It exists to prove the contract certifies a provider of a third wire protocol through
`ProviderContract`, as `tiny_provider.py` and `tiny_anthropic_provider.py` do for the other
two. It handles text, reasoning summaries and tool calls; earlier tool turns are sent back as
plain text.
"""

from __future__ import annotations

import json
import math
from collections.abc import AsyncIterator
from typing import Any

import httpx2
from pydantic import SecretStr

from providers import errors
from providers.types import (
    CompletionRequest,
    CompletionResponse,
    Connected,
    Done,
    JsonSchemaFormat,
    Message,
    MessageDelta,
    ProviderCapabilities,
    StopReason,
    StreamEvent,
    TextDelta,
    TextPart,
    ThinkingDelta,
    TokenCount,
    ToolCall,
    ToolInputDelta,
    ToolUseEnd,
    ToolUseStart,
    Usage,
)

ENDS = {
    "completed": StopReason.END_TURN,
    "max_output_tokens": StopReason.MAX_TOKENS,
    "content_filter": StopReason.CONTENT_FILTER,
}
NAME = "tiny-responses"


class TinyResponsesProvider:
    def __init__(self, base_url: str, api_key: SecretStr, model: str = "gpt-tiny") -> None:
        self._base_url = base_url.rstrip("/")
        self._key = api_key
        self._model = model

    @property
    def name(self) -> str:
        return NAME

    @property
    def capabilities(self) -> ProviderCapabilities:
        return ProviderCapabilities(tool_calling=True, extended_thinking=True)

    def count_tokens(self, request: CompletionRequest) -> TokenCount:
        chars = len(request.system or "") + sum(len(str(m.content)) for m in request.messages)
        return TokenCount(input_tokens=math.ceil(chars / 4))

    def _body(self, request: CompletionRequest) -> dict[str, Any]:
        if request.thinking is not None:
            raise errors.InvalidRequestError("tiny-responses asks for no reasoning", provider=NAME)
        body: dict[str, Any] = {
            "model": self._model,
            "input": [{"role": m.role if m.role != "tool" else "user", "content": _content(m)}
                      for m in request.messages],
            "stream": True,
        }  # fmt: skip
        if request.tool_choice is not None:
            forced = request.forced_tool
            body["tool_choice"] = (
                {"type": "function", "name": forced} if forced else request.tool_choice
            )
        if request.parallel_tool_calls is not None:
            body["parallel_tool_calls"] = request.parallel_tool_calls
        wanted = request.response_format
        if isinstance(wanted, JsonSchemaFormat):
            body["text"] = {
                "format": {
                    "type": "json_schema",
                    "name": wanted.name,
                    "schema": wanted.json_schema,
                    "strict": wanted.strict,
                }
            }
        elif wanted is not None:
            body["text"] = {"format": {"type": "json_object"}}
        if request.system:
            body["instructions"] = request.system
        if request.max_tokens is not None:
            body["max_output_tokens"] = request.max_tokens
        if request.temperature is not None:
            body["temperature"] = request.temperature
        if request.tools:
            body["tools"] = [
                {"type": "function", "name": t.name, "description": t.description,
                 "parameters": t.parameters, "strict": False}
                for t in request.tools
            ]  # fmt: skip
        return body

    @staticmethod
    def _error(response: httpx2.Response) -> errors.LlmError:
        try:
            error = response.json().get("error") or {}
            code, message = str(error.get("code", "")), str(error.get("message", ""))
        except (ValueError, AttributeError):
            code, message = "", response.text
        status = response.status_code
        common: dict[str, Any] = {"provider": NAME, "status_code": status}
        if status in (401, 403):
            return errors.AuthenticationError(message, **common)
        if status == 404:
            return errors.ModelNotFoundError(message, **common)
        if status == 429:
            after = response.headers.get("retry-after")
            return errors.RateLimitError(
                message, retry_after=float(after) if after else None, **common
            )
        if status >= 500:
            return errors.ProviderUnavailableError(message, **common)
        if code == "context_length_exceeded":
            return errors.ContextLengthError(message, **common)
        return errors.InvalidRequestError(message, **common)

    async def complete(self, request: CompletionRequest) -> CompletionResponse:
        events = [event async for event in self.stream(request)]
        delta = next(e for e in events if isinstance(e, MessageDelta))
        usage = next(e for e in events if isinstance(e, Usage))
        return CompletionResponse(
            text="".join(e.text for e in events if isinstance(e, TextDelta)),
            thinking="".join(e.text for e in events if isinstance(e, ThinkingDelta)),
            tool_calls=tuple(
                ToolCall(id=e.id, name=e.name, arguments=e.arguments, input=e.input)
                for e in events
                if isinstance(e, ToolUseEnd)
            ),
            stop_reason=delta.stop_reason,
            raw_stop_reason=delta.raw_stop_reason,
            usage=usage,
            model=self._model,
        )

    async def stream(self, request: CompletionRequest) -> AsyncIterator[StreamEvent]:
        headers = {"authorization": f"Bearer {self._key.get_secret_value()}"}
        async with (
            httpx2.AsyncClient(base_url=self._base_url, headers=headers, timeout=10) as client,
            client.stream("POST", "/responses", json=self._body(request)) as response,
        ):
            if response.status_code >= 400:
                await response.aread()
                raise self._error(response)
            yield Connected(provider=NAME, model=self._model)
            async for event in self._events(response, self.count_tokens(request).input_tokens):
                yield event

    async def _events(
        self, response: httpx2.Response, estimated_input: int
    ) -> AsyncIterator[StreamEvent]:
        calls: dict[int, dict[str, str]] = {}
        blocks: dict[tuple[int, str], int] = {}
        ended: dict[str, Any] | None = None
        written = 0

        def block(item: int, kind: str) -> int:
            return blocks.setdefault((item, kind), len(blocks))

        try:
            async for line in response.aiter_lines():
                if not line.startswith("data:"):
                    continue
                event = json.loads(line[5:])
                kind, item = event.get("type"), event.get("output_index", 0)
                if kind == "error":
                    raise errors.StreamError(str(event.get("message")), provider=NAME)
                if kind == "response.failed":
                    failure = (event.get("response") or {}).get("error") or {}
                    raise errors.StreamError(str(failure.get("message")), provider=NAME)
                if kind == "response.output_text.delta" and event["delta"]:
                    written += len(event["delta"])
                    yield TextDelta(index=block(item, "text"), text=event["delta"])
                elif kind == "response.reasoning_summary_text.delta" and event["delta"]:
                    written += len(event["delta"])
                    yield ThinkingDelta(index=block(item, "thinking"), text=event["delta"])
                elif kind == "response.output_item.added":
                    added = event["item"]
                    if added.get("type") == "function_call":
                        index = block(item, "call")
                        calls[item] = {"id": added["call_id"], "name": added["name"], "json": ""}
                        yield ToolUseStart(index=index, id=added["call_id"], name=added["name"])
                elif kind == "response.function_call_arguments.delta" and item in calls:
                    calls[item]["json"] += event["delta"]
                    yield ToolInputDelta(index=block(item, "call"), partial_json=event["delta"])
                elif kind == "response.output_item.done" and item in calls:
                    call = calls[item]
                    yield ToolUseEnd(
                        index=block(item, "call"),
                        id=call["id"],
                        name=call["name"],
                        arguments=call["json"],
                        input=json.loads(call["json"] or "{}"),
                    )
                elif kind in ("response.completed", "response.incomplete"):
                    ended = event.get("response") or {}
        except httpx2.TransportError:
            pass
        for closing in _closing(ended, bool(calls), written, estimated_input):
            yield closing


def _content(message: Message) -> Any:
    """Text as it is; a user message of parts as input_text and input_image parts."""
    if isinstance(message.content, str):
        return message.content
    return [
        {"type": "input_text", "text": part.text}
        if isinstance(part, TextPart)
        else {"type": "input_image",
              "image_url": part.url or f"data:{part.media_type};base64,{part.data}"}
        for part in message.content
    ]  # fmt: skip


def _closing(
    ended: dict[str, Any] | None, called: bool, written: int, estimated_input: int
) -> list[StreamEvent]:
    """MessageDelta, Usage and Done from the response that ended the stream."""
    if ended is None:
        raise errors.StreamTruncatedError("no response.completed", provider=NAME)
    raw = str(ended.get("status"))
    if raw == "incomplete":
        raw = str((ended.get("incomplete_details") or {}).get("reason"))
    reason = ENDS.get(raw, StopReason.OTHER)
    if reason is StopReason.END_TURN and called:
        reason = StopReason.TOOL_USE
    usage = ended.get("usage")
    reported = (
        Usage(
            input_tokens=usage["input_tokens"],
            output_tokens=usage["output_tokens"],
            cache_read_tokens=(usage.get("input_tokens_details") or {}).get("cached_tokens", 0),
        )
        if usage
        else Usage(
            input_tokens=estimated_input, output_tokens=math.ceil(written / 4), estimated=True
        )
    )
    return [MessageDelta(stop_reason=reason, raw_stop_reason=raw), reported, Done()]
