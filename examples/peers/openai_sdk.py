"""The raw `openai` SDK as an `LlmProvider`: its typed `AsyncOpenAI` stream, not our parser.

Requests are what the SDK's documentation recommends for Chat Completions:
`max_completion_tokens` and `stream_options={"include_usage": True}`. Reasoning is read from
the `reasoning_content` / `reasoning` fields the SDK keeps on its typed delta as extras.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx2
import openai

from examples.peers.common import (
    Blocks,
    HttpFailure,
    PeerProvider,
    Reported,
    connected,
    from_http,
    mid_stream,
    openai_features,
    openai_messages,
    openai_tools,
    retry_after,
    tool_call,
)
from providers import errors
from providers.types import (
    CompletionRequest,
    CompletionResponse,
    StreamEvent,
    TextDelta,
    ThinkingDelta,
)


def sdk_error(exc: openai.APIError, provider: str) -> errors.LlmError:
    """What the SDK raised before a 2xx answer, by the status and code it exposes (litellm
    raises some statuses, such as 403, as its generic `APIError`, which keeps `status_code`)."""
    status = getattr(exc, "status_code", None)
    if isinstance(status, int):
        response = getattr(exc, "response", None)
        return from_http(
            HttpFailure(
                status=status,
                message=exc.message,
                code=getattr(exc, "code", None),
                retry_after=retry_after(getattr(response, "headers", None)),
                request_id=getattr(exc, "request_id", None),
            ),
            provider,
        )
    return errors.ProviderUnavailableError(
        f"{type(exc).__name__}: {exc.message}", provider=provider
    )


def usage_of(usage: Any) -> tuple[int, int, int]:
    """Input, output and cache-read tokens from the SDK's `CompletionUsage`."""
    details = getattr(usage, "prompt_tokens_details", None)
    cached = getattr(details, "cached_tokens", None) or 0
    return (usage.prompt_tokens, usage.completion_tokens, cached)


def reasoning(message: Any) -> str | None:
    """Reasoning text a vendor put beside the content (an extra field on the SDK's model)."""
    return getattr(message, "reasoning_content", None) or getattr(message, "reasoning", None)


class OpenAiSdkProvider(PeerProvider):
    library = "openai"

    def __init__(self, base_url: str, api_key: Any, model: str = "contract-model") -> None:
        super().__init__(base_url, api_key, model)
        # No retries: one request per case, so fault scenarios see the first answer.
        self._client = openai.AsyncOpenAI(
            base_url=base_url, api_key=api_key.get_secret_value(), max_retries=0
        )

    def _body(self, request: CompletionRequest) -> dict[str, Any]:
        body: dict[str, Any] = {
            "model": request.model or self.model,
            "messages": openai_messages(request),
        }
        if request.tools:
            body["tools"] = openai_tools(request)
        if request.max_tokens is not None:
            body["max_completion_tokens"] = request.max_tokens
        if request.temperature is not None:
            body["temperature"] = request.temperature
        if request.stop:
            body["stop"] = list(request.stop)
        return body | openai_features(request)

    async def _create(self, body: dict[str, Any]) -> Any:
        return await self._client.chat.completions.create(**body)

    def _error(self, exc: openai.APIError) -> errors.LlmError:
        return sdk_error(exc, self.name)

    def _mid_stream_error(self, exc: Exception) -> errors.LlmError:
        """A failure after Connected: a broken connection is a cut stream."""
        return mid_stream(exc, self.name, broken=(openai.APIConnectionError, httpx2.TransportError))

    async def complete(self, request: CompletionRequest) -> CompletionResponse:
        try:
            answer = await self._create(self._body(request))
        except openai.APIError as exc:
            raise self._error(exc) from None
        reported = Reported(model=answer.model, request_id=getattr(answer, "_request_id", None))
        if answer.usage is not None:
            reported.usage = usage_of(answer.usage)
        for choice in answer.choices:
            reported.text += choice.message.content or ""
            reported.thinking += reasoning(choice.message) or ""
            reported.finish = choice.finish_reason
            for call in choice.message.tool_calls or []:
                function = getattr(call, "function", None)
                if function is not None:
                    reported.tool_calls.append(
                        tool_call(call.id, function.name, function.arguments, self.name)
                    )
        return reported.response(request)

    async def stream(self, request: CompletionRequest) -> AsyncIterator[StreamEvent]:
        body = {**self._body(request), "stream": True, "stream_options": {"include_usage": True}}
        try:
            chunks = await self._create(body)
        except openai.APIError as exc:
            raise self._error(exc) from None
        yield connected(self.name, self.model)
        blocks, reported = Blocks(), Reported(model=self.model)
        calls: dict[int, list[str]] = {}
        try:
            async for chunk in chunks:
                for event in self._read(chunk, blocks, reported, calls):
                    yield event
            reported.tool_calls = [
                tool_call(call_id, name, arguments, self.name)
                for call_id, name, arguments in (calls[i] for i in sorted(calls))
            ]
        except Exception as exc:
            raise self._mid_stream_error(exc) from exc
        finally:
            await chunks.aclose()
        for event in blocks.finish(reported, request):
            yield event

    @staticmethod
    def _read(
        chunk: Any,
        blocks: Blocks,
        reported: Reported,
        calls: dict[int, list[str]],
    ) -> list[StreamEvent]:
        events: list[StreamEvent] = []
        usage = getattr(chunk, "usage", None)  # litellm's chunks carry it only when sent
        if usage is not None:
            reported.usage = usage_of(usage)
        for choice in chunk.choices:
            delta = choice.delta
            thinking, text = reasoning(delta), delta.content
            reported.thinking += thinking or ""
            reported.text += text or ""
            events += blocks.delta(ThinkingDelta, thinking)
            events += blocks.delta(TextDelta, text)
            for fragment in delta.tool_calls or []:
                call = calls.setdefault(fragment.index, ["", "", ""])
                call[0] = call[0] or fragment.id or ""
                if fragment.function is not None:
                    call[1] = call[1] or fragment.function.name or ""
                    call[2] += fragment.function.arguments or ""
            reported.finish = choice.finish_reason or reported.finish
        return events
