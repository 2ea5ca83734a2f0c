"""CompletionRequest -> a Responses API request body.

The checks made before anything is sent are the shared ones, plus this protocol's own: it has
no stop sequences, and its `max_output_tokens` must be at least 16. The body's shape: the
system prompt as `instructions`, messages as input items (tool calls and their results as
`function_call` / `function_call_output` items, reasoning items sent back unchanged before the
answer they led to), function tools with `strict` said explicitly (the protocol's default is
strict), and `store: false`, so the vendor keeps no copy of the conversation: everything the
next turn needs travels in it, encrypted reasoning included where the model reasons.
"""

from __future__ import annotations

from typing import Any

from providers.openai_responses.features import responses_features
from providers.request_checks import RequestBuilder
from providers.types import (
    AssistantMessage,
    CompletionRequest,
    ImagePart,
    Message,
    TextPart,
    ToolResultMessage,
    UserMessage,
)

#: The smallest max_output_tokens the Responses API accepts (it answers 400
#: integer_below_min_value below it).
MIN_OUTPUT_TOKENS = 16


class ResponsesRequestBuilder(RequestBuilder):
    """The Responses body for `complete()` and `stream()` alike."""

    def body(self, request: CompletionRequest, *, stream: bool) -> dict[str, Any]:
        quirks = self._validate(request, stream=stream)
        if request.stop:
            raise self._invalid(
                "the Responses API has no stop sequences: remove stop=, or use a vendor "
                "profile that speaks Chat Completions"
            )
        if request.max_tokens is not None and request.max_tokens < MIN_OUTPUT_TOKENS:
            raise self._invalid(
                f"max_tokens must be >= {MIN_OUTPUT_TOKENS} for the Responses API "
                f"(max_output_tokens), got {request.max_tokens}"
            )
        body: dict[str, Any] = {
            "model": self.model_for(request),
            "input": [item for message in request.messages for item in _items(message)],
            "store": False,
        }
        if request.system:
            body["instructions"] = request.system
        if request.max_tokens is not None:
            body["max_output_tokens"] = request.max_tokens
        if request.temperature is not None:
            body["temperature"] = request.temperature
        if request.tools:
            body["tools"] = [
                {
                    "type": "function",
                    "name": tool.name,
                    "description": tool.description,
                    "parameters": tool.parameters,
                    "strict": False,
                }
                for tool in request.tools
            ]
        body.update(responses_features(request, quirks, provider=self._provider))
        if self._capabilities.extended_thinking:
            # Without a stored copy, reasoning can only be sent back in its encrypted form.
            body["include"] = ["reasoning.encrypted_content"]
        if stream:
            body["stream"] = True
        return self._sendable(body)


def _items(message: Message) -> list[dict[str, Any]]:
    if isinstance(message, UserMessage):
        if isinstance(message.content, str):
            return [{"role": "user", "content": message.content}]
        return [{"role": "user", "content": [_part(part) for part in message.content]}]
    if isinstance(message, ToolResultMessage):
        return [
            {
                "type": "function_call_output",
                "call_id": message.tool_call_id,
                "output": message.content,
            }
        ]
    return _assistant_items(message)


def _assistant_items(message: AssistantMessage) -> list[dict[str, Any]]:
    # Only this protocol's own reasoning items can go back: another vendor's thinking carries
    # no item the server could verify.
    items = [
        dict(block.provider_data)
        for block in message.thinking
        if block.provider_data and block.provider_data.get("type") == "reasoning"
    ]
    if message.content:
        items.append({"role": "assistant", "content": message.content})
    items.extend(
        {
            "type": "function_call",
            "call_id": call.id,
            "name": call.name,
            "arguments": call.arguments,
        }
        for call in message.tool_calls
    )
    return items


def _part(part: TextPart | ImagePart) -> dict[str, Any]:
    if isinstance(part, TextPart):
        return {"type": "input_text", "text": part.text}
    url = part.url or f"data:{part.media_type};base64,{part.data}"
    return {"type": "input_image", "image_url": url}
