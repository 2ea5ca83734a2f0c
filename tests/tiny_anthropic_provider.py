"""A small, independent LlmProvider for the Anthropic Messages API on raw httpx2: no SDK,
none of this project's provider code.

It exists to prove the contract certifies a provider of another wire protocol through
`ProviderContract`, as `tiny_provider.py` does for OpenAI Chat Completions. It handles text
and tool-use conversations only (tool results are sent back as plain user text).
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
    MessageDelta,
    ProviderCapabilities,
    StopReason,
    StreamEvent,
    TextDelta,
    ThinkingDelta,
    TokenCount,
    ToolCall,
    ToolInputDelta,
    ToolUseEnd,
    ToolUseStart,
    Usage,
)

STOPS = {
    "end_turn": StopReason.END_TURN,
    "max_tokens": StopReason.MAX_TOKENS,
    "model_context_window_exceeded": StopReason.MAX_TOKENS,
    "stop_sequence": StopReason.STOP_SEQUENCE,
    "tool_use": StopReason.TOOL_USE,
    "refusal": StopReason.CONTENT_FILTER,
}
DEFAULT_MAX_TOKENS = 1024


class TinyAnthropicProvider:
    def __init__(self, base_url: str, api_key: SecretStr, model: str = "claude-tiny") -> None:
        self._base_url = base_url.rstrip("/")
        self._key = api_key
        self._model = model

    @property
    def name(self) -> str:
        return "tiny-anthropic"

    @property
    def capabilities(self) -> ProviderCapabilities:
        return ProviderCapabilities(tool_calling=True, extended_thinking=True)

    def count_tokens(self, request: CompletionRequest) -> TokenCount:
        chars = len(request.system or "") + sum(len(m.content) for m in request.messages)
        return TokenCount(input_tokens=math.ceil(chars / 4))

    def _body(self, request: CompletionRequest) -> dict[str, Any]:
        body: dict[str, Any] = {
            "model": self._model,
            "max_tokens": request.max_tokens or DEFAULT_MAX_TOKENS,
            "messages": [
                {"role": "assistant" if m.role == "assistant" else "user", "content": m.content}
                for m in request.messages
            ],
            "stream": True,
        }
        if request.system:
            body["system"] = request.system
        if request.temperature is not None:
            body["temperature"] = request.temperature
        if request.tools:
            body["tools"] = [
                {"name": t.name, "description": t.description, "input_schema": t.parameters}
                for t in request.tools
            ]
        return body

    @staticmethod
    def _error(response: httpx2.Response) -> errors.LlmError:
        try:
            error = response.json().get("error") or {}
            kind, message = str(error.get("type", "")), str(error.get("message", ""))
        except (ValueError, AttributeError):
            kind, message = "", response.text
        status = response.status_code
        common: dict[str, Any] = {"provider": "tiny-anthropic", "status_code": status}
        if kind in ("authentication_error", "permission_error") or status in (401, 403):
            return errors.AuthenticationError(message, **common)
        if kind == "not_found_error":
            return errors.ModelNotFoundError(message, **common)
        if kind == "rate_limit_error":
            after = response.headers.get("retry-after")
            return errors.RateLimitError(
                message, retry_after=float(after) if after else None, **common
            )
        if status >= 500:  # api_error, overloaded_error (529)
            return errors.ProviderUnavailableError(message, **common)
        if "too long" in message.lower() or "context" in message.lower():
            return errors.ContextLengthError(message, **common)
        return errors.InvalidRequestError(message, **common)

    async def complete(self, request: CompletionRequest) -> CompletionResponse:
        events = [event async for event in self.stream(request)]
        delta = next(e for e in events if isinstance(e, MessageDelta))
        usage = next(e for e in events if isinstance(e, Usage))
        return CompletionResponse(
            text="".join(e.text for e in events if isinstance(e, TextDelta)),
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
        headers = {"x-api-key": self._key.get_secret_value(), "anthropic-version": "2023-06-01"}
        async with (
            httpx2.AsyncClient(base_url=self._base_url, headers=headers, timeout=10) as client,
            client.stream("POST", "/v1/messages", json=self._body(request)) as response,
        ):
            if response.status_code >= 400:
                await response.aread()
                raise self._error(response)
            yield Connected(provider="tiny-anthropic", model=self._model)
            async for event in self._events(response):
                yield event

    async def _events(self, response: httpx2.Response) -> AsyncIterator[StreamEvent]:
        tools: dict[int, dict[str, str]] = {}
        usage: dict[str, int] = {}
        stop: str | None = None
        try:
            async for line in response.aiter_lines():
                if not line.startswith("data:"):
                    continue
                event = json.loads(line[5:])
                kind, index = event.get("type"), event.get("index", 0)
                if kind == "error":
                    message = str((event.get("error") or {}).get("message"))
                    raise errors.StreamError(message, provider="tiny-anthropic")
                if kind == "message_start":
                    usage.update(event["message"].get("usage") or {})
                elif kind == "content_block_start" and event["content_block"]["type"] == "tool_use":
                    block = event["content_block"]
                    tools[index] = {"id": block["id"], "name": block["name"], "json": ""}
                    yield ToolUseStart(index=index, id=block["id"], name=block["name"])
                elif kind == "content_block_delta":
                    delta = event["delta"]
                    if delta["type"] == "text_delta" and delta["text"]:
                        yield TextDelta(index=index, text=delta["text"])
                    elif delta["type"] == "thinking_delta" and delta["thinking"]:
                        yield ThinkingDelta(index=index, text=delta["thinking"])
                    elif delta["type"] == "input_json_delta":
                        tools[index]["json"] += delta["partial_json"]
                        yield ToolInputDelta(index=index, partial_json=delta["partial_json"])
                elif kind == "content_block_stop" and index in tools:
                    call = tools[index]
                    yield ToolUseEnd(
                        index=index,
                        id=call["id"],
                        name=call["name"],
                        arguments=call["json"],
                        input=json.loads(call["json"] or "{}"),
                    )
                elif kind == "message_delta":
                    stop = event["delta"].get("stop_reason")
                    usage.update(event.get("usage") or {})
        except httpx2.TransportError:
            pass
        if stop is None:
            raise errors.StreamTruncatedError("no stop_reason", provider="tiny-anthropic")
        reason = STOPS.get(stop, StopReason.OTHER)
        if reason is StopReason.END_TURN and tools:
            reason = StopReason.TOOL_USE
        yield MessageDelta(stop_reason=reason, raw_stop_reason=stop)
        read = usage.get("cache_read_input_tokens", 0)
        written = usage.get("cache_creation_input_tokens", 0)
        yield Usage(
            # Anthropic counts cached input apart from input_tokens.
            input_tokens=usage["input_tokens"] + read + written,
            output_tokens=usage["output_tokens"],
            cache_read_tokens=read,
            cache_write_tokens=written,
        )
        yield Done()
