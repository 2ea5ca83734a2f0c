"""langchain-openai's `ChatOpenAI` as an `LlmProvider`, through `astream` / `ainvoke`.

Chunks are summed with langchain's own `+`, so tool calls, finish reason and usage are what
langchain aggregates. `ChatOpenAI` documents that it ignores non-OpenAI fields such as
`reasoning_content`; the adapter reads only what langchain hands over.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx2
import openai
from langchain_core.messages import (
    AIMessage,
    AIMessageChunk,
    BaseMessage,
    HumanMessage,
    SystemMessage,
    ToolMessage,
)
from langchain_openai import ChatOpenAI
from pydantic import SecretStr

from examples.peers.common import (
    Blocks,
    PeerProvider,
    Reported,
    connected,
    mid_stream,
    openai_content,
    openai_features,
    openai_tools,
)
from examples.peers.openai_sdk import sdk_error
from providers import errors
from providers.types import (
    AssistantMessage,
    CompletionRequest,
    CompletionResponse,
    StreamEvent,
    TextDelta,
    ThinkingDelta,
    ToolCall,
    UserMessage,
)


def langchain_messages(request: CompletionRequest) -> list[BaseMessage]:
    messages: list[BaseMessage] = [SystemMessage(request.system)] if request.system else []
    for message in request.messages:
        if isinstance(message, UserMessage):
            messages.append(HumanMessage(openai_content(message.content)))
        elif isinstance(message, AssistantMessage):
            calls = [{"id": c.id, "name": c.name, "args": c.input} for c in message.tool_calls]
            messages.append(AIMessage(message.content, tool_calls=calls))
        else:
            messages.append(ToolMessage(message.content, tool_call_id=message.tool_call_id))
    return messages


def raw_arguments(message: AIMessage) -> dict[str, str]:
    """The arguments' text as the vendor sent it, by call id: langchain parses it into
    `tool_calls[].args` but keeps the text, summed, in a streamed message's
    `tool_call_chunks` and, for a whole answer, in `additional_kwargs["tool_calls"]`."""
    if isinstance(message, AIMessageChunk):
        return {c["id"]: c["args"] or "" for c in message.tool_call_chunks if c.get("id")}
    return {
        c["id"]: c["function"]["arguments"]
        for c in message.additional_kwargs.get("tool_calls", [])
        if c.get("id")
    }


def reported_from(message: AIMessage, provider: str) -> Reported:
    """What langchain made of the answer: its parsed tool calls, metadata and usage."""
    if message.invalid_tool_calls:
        bad = message.invalid_tool_calls[0]
        raise errors.MalformedResponseError(
            f"langchain could not parse tool call {bad.get('name')!r}: {bad.get('error')}",
            provider=provider,
        )
    raw = raw_arguments(message)
    metadata = message.response_metadata
    usage = message.usage_metadata
    text = message.content if isinstance(message.content, str) else message.text
    return Reported(
        text=text,
        thinking=str(message.additional_kwargs.get("reasoning_content") or ""),
        tool_calls=[
            ToolCall(
                id=call.get("id") or "",
                name=call["name"],
                arguments=raw.get(call.get("id") or "", json.dumps(call["args"])),
                input=call["args"],
            )
            for call in message.tool_calls
        ],
        finish=metadata.get("finish_reason"),
        usage=(
            (
                usage["input_tokens"],
                usage["output_tokens"],
                usage.get("input_token_details", {}).get("cache_read", 0),
            )
            if usage
            else None
        ),
        model=str(metadata.get("model_name") or ""),
        request_id=message.id,
    )


class LangchainProvider(PeerProvider):
    library = "langchain-openai"

    def __init__(self, base_url: str, api_key: SecretStr, model: str = "contract-model") -> None:
        super().__init__(base_url, api_key, model)

    def _chat(self, request: CompletionRequest) -> Any:
        options: dict[str, Any] = {}
        if request.max_tokens is not None:
            options["max_tokens"] = request.max_tokens
        if request.temperature is not None:
            options["temperature"] = request.temperature
        if request.stop:
            options["stop"] = list(request.stop)
        if request.thinking is not None and request.thinking.effort is not None:
            options["reasoning_effort"] = request.thinking.effort
        chat = ChatOpenAI(
            model=request.model or self.model,
            api_key=self.api_key,
            base_url=self.base_url,
            max_retries=0,
            stream_usage=True,
            **options,
        )
        # bind() passes these to the SDK's create call as they are, as bind_tools does
        # with its own tool_choice and parallel_tool_calls.
        features = openai_features(request)
        features.pop("reasoning_effort", None)
        if request.tools:
            return chat.bind_tools(openai_tools(request), **features)
        return chat.bind(**features) if features else chat

    async def complete(self, request: CompletionRequest) -> CompletionResponse:
        try:
            message = await self._chat(request).ainvoke(langchain_messages(request))
        except openai.APIError as exc:
            raise sdk_error(exc, self.name) from None
        return reported_from(message, self.name).response(request)

    async def stream(self, request: CompletionRequest) -> AsyncIterator[StreamEvent]:
        chunks = self._chat(request).astream(langchain_messages(request))
        blocks = Blocks()
        total: AIMessageChunk | None = None
        try:
            async for chunk in chunks:
                if total is None:
                    yield connected(self.name, self.model)
                total = chunk if total is None else total + chunk
                thinking = chunk.additional_kwargs.get("reasoning_content")
                for event in blocks.delta(ThinkingDelta, thinking):
                    yield event
                for event in blocks.delta(TextDelta, chunk.text):
                    yield event
        except openai.APIStatusError as exc:
            if total is None:
                raise sdk_error(exc, self.name) from None
            raise mid_stream(exc, self.name, broken=()) from exc
        except openai.APIConnectionError as exc:
            if total is None:
                raise sdk_error(exc, self.name) from None
            raise mid_stream(exc, self.name, broken=(openai.APIConnectionError,)) from exc
        except Exception as exc:
            raise mid_stream(exc, self.name, broken=(httpx2.TransportError,)) from exc
        if total is None:
            yield connected(self.name, self.model)
            total = AIMessageChunk("")
        for event in blocks.finish(reported_from(total, self.name), request):
            yield event
