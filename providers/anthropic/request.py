"""CompletionRequest -> an Anthropic Messages request body.

The checks made before anything is sent (temperature range, max_tokens bounds, tool schemas)
are the shared ones; only the body's shape is this protocol's: `system` at the top level,
content blocks, tool results as `tool_result` blocks in a user turn, `max_tokens` always
present, `stop_sequences`, and `thinking` when the config asks for it.
"""

from __future__ import annotations

from typing import Any

from providers.anthropic.features import messages_features
from providers.request_checks import RequestBuilder
from providers.types import (
    AssistantMessage,
    CompletionRequest,
    ImagePart,
    ProviderCapabilities,
    TextPart,
    ThinkingBlock,
    ThinkingConfig,
    ToolResultMessage,
    UserMessage,
)
from providers.vendors import RequestQuirks


class MessagesRequestBuilder(RequestBuilder):
    """The Messages body. `thinking_budget_tokens` (deprecated: use the request's `thinking`)
    asks for extended thinking on every request that does not ask itself."""

    def __init__(
        self,
        provider: str,
        model: str,
        quirks: RequestQuirks,
        capabilities: ProviderCapabilities,
        *,
        thinking_budget_tokens: int | None = None,
    ) -> None:
        super().__init__(provider, model, quirks, capabilities)
        self._thinking_budget = thinking_budget_tokens

    def body(self, request: CompletionRequest, *, stream: bool) -> dict[str, Any]:
        if request.thinking is None and self._thinking_budget is not None:
            thinking = ThinkingConfig(budget_tokens=self._thinking_budget)
            request = request.model_copy(update={"thinking": thinking})
        max_tokens = request.max_tokens or self._capabilities.max_output_tokens
        quirks = self._validate(request, stream=stream, max_tokens=max_tokens)
        body: dict[str, Any] = {
            "model": self.model_for(request),
            # The protocol requires it; without one asked for, allow the model's full output.
            "max_tokens": max_tokens,
            "messages": _turns(request),
        }
        if request.system:
            body["system"] = request.system
        if request.temperature is not None:
            body["temperature"] = request.temperature
        if request.stop:
            body["stop_sequences"] = list(request.stop)
        if request.tools:
            body["tools"] = [
                {
                    "name": tool.name,
                    "description": tool.description,
                    "input_schema": tool.parameters,
                }
                for tool in request.tools
            ]
        body.update(messages_features(request, quirks, provider=self._provider))
        if stream:
            body["stream"] = True
        return self._sendable(body)


def _turns(request: CompletionRequest) -> list[dict[str, Any]]:
    """Messages as alternating turns: consecutive tool results share one user turn."""
    turns: list[dict[str, Any]] = []
    for message in request.messages:
        role, blocks = _blocks(message)
        if turns and turns[-1]["role"] == role == "user" and isinstance(message, ToolResultMessage):
            turns[-1]["content"].extend(blocks)
        else:
            turns.append({"role": role, "content": blocks})
    return turns


def _blocks(message: UserMessage | AssistantMessage | ToolResultMessage) -> tuple[str, list[Any]]:
    if isinstance(message, UserMessage):
        if isinstance(message.content, str):
            return "user", [{"type": "text", "text": message.content}]
        return "user", [_part(part) for part in message.content]
    if isinstance(message, ToolResultMessage):
        return "user", [
            {"type": "tool_result", "tool_use_id": message.tool_call_id, "content": message.content}
        ]
    # Thinking goes first and unchanged: a tool turn whose signed thinking was altered or
    # dropped is refused. Unsigned reasoning (another vendor's) cannot be verified: left out.
    blocks: list[Any] = [_thinking_block(block) for block in message.thinking if _signed(block)]
    if message.content:
        blocks.append({"type": "text", "text": message.content})
    blocks.extend(
        {"type": "tool_use", "id": call.id, "name": call.name, "input": call.input}
        for call in message.tool_calls
    )
    return "assistant", blocks


def _part(part: TextPart | ImagePart) -> dict[str, Any]:
    if isinstance(part, TextPart):
        return {"type": "text", "text": part.text}
    if part.url is not None:
        return {"type": "image", "source": {"type": "url", "url": part.url}}
    return {
        "type": "image",
        "source": {"type": "base64", "media_type": part.media_type, "data": part.data},
    }


def _signed(block: ThinkingBlock) -> bool:
    return block.signature is not None or block.redacted_data is not None


def _thinking_block(block: ThinkingBlock) -> dict[str, Any]:
    if block.redacted_data is not None:
        return {"type": "redacted_thinking", "data": block.redacted_data}
    return {"type": "thinking", "thinking": block.text, "signature": block.signature}
