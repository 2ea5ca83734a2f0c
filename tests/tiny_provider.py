"""A small, independent LlmProvider on raw httpx2: no openai SDK, none of our adapter code.

It exists to prove the contract certifies anyone's provider through `ProviderContract`.
It speaks plain OpenAI Chat Completions and buffers tool calls until the finish reason.
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
    "stop": StopReason.END_TURN,
    "length": StopReason.MAX_TOKENS,
    "tool_calls": StopReason.TOOL_USE,
    "function_call": StopReason.TOOL_USE,
    "content_filter": StopReason.CONTENT_FILTER,
}


class TinyProvider:
    def __init__(self, base_url: str, api_key: SecretStr, model: str = "tiny-model") -> None:
        self._base_url = base_url.rstrip("/")
        self._key = api_key
        self._model = model

    @property
    def name(self) -> str:
        return "tiny"

    @property
    def capabilities(self) -> ProviderCapabilities:
        return ProviderCapabilities(tool_calling=True, extended_thinking=False)

    def count_tokens(self, request: CompletionRequest) -> TokenCount:
        chars = len(request.system or "") + sum(len(m.content) for m in request.messages)
        return TokenCount(input_tokens=math.ceil(chars / 4))

    def _body(self, request: CompletionRequest, stream: bool) -> dict[str, Any]:
        messages = [{"role": "system", "content": request.system}] if request.system else []
        messages += [{"role": m.role, "content": m.content} for m in request.messages]
        body: dict[str, Any] = {"model": self._model, "messages": messages}
        if request.max_tokens is not None:
            body["max_completion_tokens"] = request.max_tokens
        if request.temperature is not None:
            body["temperature"] = request.temperature
        if request.tools:
            body["tools"] = [
                {
                    "type": "function",
                    "function": {
                        "name": t.name,
                        "description": t.description,
                        "parameters": t.parameters,
                    },
                }
                for t in request.tools
            ]
        if stream:
            body["stream"] = True
            body["stream_options"] = {"include_usage": True}
        return body

    def _client(self) -> httpx2.AsyncClient:
        return httpx2.AsyncClient(
            base_url=self._base_url,
            headers={"authorization": f"Bearer {self._key.get_secret_value()}"},
            timeout=10,
        )

    @staticmethod
    def _error(response: httpx2.Response) -> errors.LlmError:
        try:
            detail = response.json()
            message = str((detail.get("error") or detail).get("message", detail))
        except ValueError:
            message = response.text
        status = response.status_code
        common: dict[str, Any] = {"provider": "tiny", "status_code": status}
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
        if "context length" in message.lower():
            return errors.ContextLengthError(message, **common)
        return errors.InvalidRequestError(message, **common)

    async def complete(self, request: CompletionRequest) -> CompletionResponse:
        events = [event async for event in self.stream(request)]
        text = "".join(e.text for e in events if isinstance(e, TextDelta))
        calls = tuple(
            ToolCall(id=e.id, name=e.name, arguments=e.arguments, input=e.input)
            for e in events
            if isinstance(e, ToolUseEnd)
        )
        delta = next(e for e in events if isinstance(e, MessageDelta))
        usage = next(e for e in events if isinstance(e, Usage))
        return CompletionResponse(
            text=text,
            tool_calls=calls,
            stop_reason=delta.stop_reason,
            raw_stop_reason=delta.raw_stop_reason,
            usage=usage,
            model=self._model,
        )

    async def stream(self, request: CompletionRequest) -> AsyncIterator[StreamEvent]:
        async with (
            self._client() as client,
            client.stream(
                "POST", "/chat/completions", json=self._body(request, stream=True)
            ) as response,
        ):
            if response.status_code >= 400:
                await response.aread()
                raise self._error(response)
            yield Connected(provider="tiny", model=self._model)
            async for event in self._events(response, request):
                yield event

    def _lines(self, response: httpx2.Response) -> AsyncIterator[str]:
        """The body's lines, decoded across reads (a character may span two)."""
        return response.aiter_lines()

    async def _events(
        self, response: httpx2.Response, request: CompletionRequest
    ) -> AsyncIterator[StreamEvent]:
        index, finish, usage, out_chars = 0, None, None, 0
        calls: dict[int, dict[str, Any]] = {}
        kind = None
        try:
            async for line in self._lines(response):
                if not line.startswith("data:"):
                    continue
                data = line[5:].strip()
                if data == "[DONE]":
                    break
                chunk = json.loads(data)
                if chunk.get("error"):
                    raise errors.StreamError(str(chunk["error"].get("message")), provider="tiny")
                usage = chunk.get("usage") or usage
                for choice in chunk.get("choices") or []:
                    delta = choice.get("delta") or {}
                    for field, model in (
                        ("reasoning_content", ThinkingDelta),
                        ("content", TextDelta),
                    ):
                        if delta.get(field):
                            if kind != field:
                                index, kind = index + 1, field
                            out_chars += len(delta[field])
                            yield model(index=index, text=delta[field])
                    for fragment in delta.get("tool_calls") or []:
                        call = calls.setdefault(
                            fragment.get("index", len(calls)), {"id": "", "name": "", "args": ""}
                        )
                        call["id"] = call["id"] or fragment.get("id", "")
                        function = fragment.get("function") or {}
                        call["name"] = call["name"] or function.get("name", "")
                        call["args"] += function.get("arguments") or ""
                    finish = choice.get("finish_reason") or finish
        except httpx2.TransportError:
            pass
        if finish is None:
            raise errors.StreamTruncatedError("no finish reason", provider="tiny")
        for position in sorted(calls):
            call = calls[position]
            index += 1
            yield ToolUseStart(index=index, id=call["id"], name=call["name"])
            yield ToolInputDelta(index=index, partial_json=call["args"])
            yield ToolUseEnd(
                index=index,
                id=call["id"],
                name=call["name"],
                arguments=call["args"],
                input=json.loads(call["args"] or "{}"),
            )
        stop = STOPS.get(finish, StopReason.OTHER)
        yield MessageDelta(
            stop_reason=StopReason.TOOL_USE if calls else stop, raw_stop_reason=finish
        )
        if usage:
            cached = (usage.get("prompt_tokens_details") or {}).get("cached_tokens") or 0
            yield Usage(
                input_tokens=usage["prompt_tokens"],
                output_tokens=usage["completion_tokens"],
                cache_read_tokens=cached,
            )
        else:
            yield Usage(
                input_tokens=self.count_tokens(request).input_tokens,
                output_tokens=math.ceil(out_chars / 4),
                estimated=True,
            )
        yield Done()
