"""The provider's public vocabulary: requests, responses, stream events and the protocol.

Every vendor's stream is normalised into the events defined here, so callers and the contract
suite never see a vendor's own chunk shapes.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from enum import StrEnum
from typing import Annotated, Any, Literal, Protocol, runtime_checkable

from pydantic import Field, model_validator

from providers.frozen import Frozen as _Frozen


class StopReason(StrEnum):
    """Why the model stopped, unified across vendors; the vendor's own value is kept beside it."""

    END_TURN = "end_turn"
    MAX_TOKENS = "max_tokens"
    TOOL_USE = "tool_use"
    STOP_SEQUENCE = "stop_sequence"
    CONTENT_FILTER = "content_filter"
    OTHER = "other"


# ---------------------------------------------------------------------------------------------
# Requests


class ToolCall(_Frozen):
    """A tool call the assistant made: `arguments` is the JSON text, `input` its parsed object."""

    id: str
    name: str
    arguments: str
    input: dict[str, Any]
    #: Vendor fields the call came with that must go back with it in the next request
    #: (Gemini 3's `extra_content.google.thought_signature`); None when there were none.
    provider_data: dict[str, Any] | None = None


class ToolDefinition(_Frozen):
    """A function the model may call; `parameters` is a JSON Schema of type object."""

    name: str = Field(min_length=1)
    description: str = ""
    parameters: dict[str, Any] = Field(default_factory=lambda: {"type": "object", "properties": {}})


class UserMessage(_Frozen):
    role: Literal["user"] = "user"
    content: str


class AssistantMessage(_Frozen):
    role: Literal["assistant"] = "assistant"
    content: str = ""
    tool_calls: tuple[ToolCall, ...] = ()


class ToolResultMessage(_Frozen):
    role: Literal["tool"] = "tool"
    tool_call_id: str
    content: str


Message = Annotated[UserMessage | AssistantMessage | ToolResultMessage, Field(discriminator="role")]


class CompletionRequest(_Frozen):
    """What to ask for. Range checks that depend on the vendor happen in the provider."""

    messages: tuple[Message, ...]
    system: str | None = None
    tools: tuple[ToolDefinition, ...] = ()
    max_tokens: int | None = None
    temperature: float | None = None
    stop: tuple[str, ...] = ()
    model: str | None = Field(default=None, description="Overrides the provider's model.")


# ---------------------------------------------------------------------------------------------
# Stream events


class Connected(_Frozen):
    type: Literal["connected"] = "connected"
    provider: str
    model: str
    request_id: str | None = None


class TextDelta(_Frozen):
    type: Literal["text_delta"] = "text_delta"
    index: int
    text: str = Field(min_length=1)


class ThinkingDelta(_Frozen):
    type: Literal["thinking_delta"] = "thinking_delta"
    index: int
    text: str = Field(min_length=1)


class ToolUseStart(_Frozen):
    type: Literal["tool_use_start"] = "tool_use_start"
    index: int
    id: str
    name: str


class ToolInputDelta(_Frozen):
    type: Literal["tool_input_delta"] = "tool_input_delta"
    index: int
    partial_json: str


class ToolUseEnd(_Frozen):
    type: Literal["tool_use_end"] = "tool_use_end"
    index: int
    id: str
    name: str
    arguments: str
    input: dict[str, Any]
    #: As on `ToolCall`: vendor fields to echo with this call in the next request.
    provider_data: dict[str, Any] | None = None


class MessageDelta(_Frozen):
    type: Literal["message_delta"] = "message_delta"
    stop_reason: StopReason
    raw_stop_reason: str


class Usage(_Frozen):
    type: Literal["usage"] = "usage"
    input_tokens: int = Field(ge=0)
    output_tokens: int = Field(ge=0)
    cache_read_tokens: int = Field(default=0, ge=0)
    #: Input tokens written to the vendor's prompt cache (billed above the input rate).
    cache_write_tokens: int = Field(default=0, ge=0)
    reasoning_tokens: int = Field(default=0, ge=0)
    estimated: bool = False


class Done(_Frozen):
    type: Literal["done"] = "done"


StreamEvent = Annotated[
    Connected
    | TextDelta
    | ThinkingDelta
    | ToolUseStart
    | ToolInputDelta
    | ToolUseEnd
    | MessageDelta
    | Usage
    | Done,
    Field(discriminator="type"),
]


# ---------------------------------------------------------------------------------------------
# Responses and metadata


class CompletionResponse(_Frozen):
    text: str
    thinking: str = ""
    tool_calls: tuple[ToolCall, ...] = ()
    stop_reason: StopReason
    raw_stop_reason: str
    usage: Usage
    model: str
    request_id: str | None = None


class TokenCount(_Frozen):
    input_tokens: int = Field(ge=0)
    estimated: bool = True


class ProviderCapabilities(_Frozen):
    streaming: bool = True
    tool_calling: bool = True
    vision: bool = False
    extended_thinking: bool = False
    max_context_tokens: int = Field(default=128_000, ge=1)
    max_output_tokens: int = Field(default=16_384, ge=1)

    @model_validator(mode="after")
    def _output_fits_context(self) -> ProviderCapabilities:
        if self.max_output_tokens > self.max_context_tokens:
            raise ValueError("max_output_tokens cannot exceed max_context_tokens")
        return self


@runtime_checkable
class LlmProvider(Protocol):
    """What the contract suite certifies: ours or anyone else's provider."""

    @property
    def name(self) -> str: ...

    @property
    def capabilities(self) -> ProviderCapabilities: ...

    async def complete(self, request: CompletionRequest) -> CompletionResponse: ...

    def stream(self, request: CompletionRequest) -> AsyncIterator[StreamEvent]: ...

    def count_tokens(self, request: CompletionRequest) -> TokenCount: ...


def tool_input_from_arguments(arguments: str) -> dict[str, Any]:
    """Parse a tool call's JSON arguments; an empty string means "no arguments"."""
    if not arguments.strip():
        return {}
    parsed = json.loads(arguments)
    if not isinstance(parsed, dict):
        raise ValueError(f"tool arguments must be a JSON object, got {type(parsed).__name__}")
    return parsed
