"""The provider's public vocabulary: requests, responses, stream events and the protocol.

Every vendor's stream is normalised into the events defined here, so callers and the contract
suite never see a vendor's own chunk shapes.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import AsyncIterator
from enum import StrEnum
from typing import Annotated, Any, Literal, Protocol, runtime_checkable

import jiter
import jsonschema
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


class TextPart(_Frozen):
    """Text inside a user message made of parts."""

    type: Literal["text"] = "text"
    text: str


ImageMediaType = Literal["image/jpeg", "image/png", "image/gif", "image/webp"]


class ImagePart(_Frozen):
    """An image inside a user message: by `url` (http or https), or inline as base64 `data`
    with its `media_type`. Refused before sending by a vendor without vision."""

    type: Literal["image"] = "image"
    url: str | None = None
    data: str | None = None
    media_type: ImageMediaType | None = None

    @model_validator(mode="after")
    def _one_source(self) -> ImagePart:
        if (self.url is None) == (self.data is None):
            raise ValueError("an ImagePart needs exactly one of url= or data= (base64)")
        if self.url is not None:
            if not self.url.startswith(("https://", "http://")):
                raise ValueError(
                    "ImagePart.url must be an http(s) URL; for inline bytes pass data= (base64) "
                    "and media_type="
                )
            if self.media_type is not None:
                raise ValueError("ImagePart.media_type goes with data=, not with url=")
            return self
        if self.media_type is None:
            raise ValueError(
                "ImagePart with data= needs media_type= (image/jpeg, image/png, image/gif or "
                "image/webp)"
            )
        try:
            base64.b64decode(self.data or "", validate=True)
        except (binascii.Error, ValueError):
            raise ValueError(
                "ImagePart.data must be standard base64 (no data: prefix, no line breaks): "
                "base64.b64encode(raw_bytes).decode()"
            ) from None
        return self


ContentPart = Annotated[TextPart | ImagePart, Field(discriminator="type")]


class UserMessage(_Frozen):
    """What the user says: plain text, or a sequence of text and image parts."""

    role: Literal["user"] = "user"
    content: str | tuple[ContentPart, ...]

    @model_validator(mode="after")
    def _parts_not_empty(self) -> UserMessage:
        if isinstance(self.content, tuple) and not self.content:
            raise ValueError("UserMessage.content is an empty sequence: give text or parts")
        return self

    @property
    def text(self) -> str:
        """The message's text, parts joined; images contribute nothing."""
        if isinstance(self.content, str):
            return self.content
        return "".join(part.text for part in self.content if isinstance(part, TextPart))

    @property
    def images(self) -> tuple[ImagePart, ...]:
        if isinstance(self.content, str):
            return ()
        return tuple(part for part in self.content if isinstance(part, ImagePart))


class ThinkingBlock(_Frozen):
    """One block of the model's reasoning, kept so it can be sent back unchanged: Anthropic
    refuses a tool turn whose thinking lost its `signature`. `redacted_data` is a block the
    vendor encrypted (Anthropic's redacted_thinking); `provider_data` holds other fields a
    protocol must echo (a reasoning item's id or encrypted content)."""

    text: str = ""
    signature: str | None = None
    redacted_data: str | None = None
    provider_data: dict[str, Any] | None = None

    @model_validator(mode="after")
    def _redacted_has_no_text(self) -> ThinkingBlock:
        if self.redacted_data is not None and (self.text or self.signature is not None):
            raise ValueError("a redacted ThinkingBlock carries only redacted_data")
        return self


class AssistantMessage(_Frozen):
    """An earlier answer sent back as context. `thinking` holds its reasoning blocks, which
    some vendors require unchanged in the next request of a tool turn; `CompletionResponse.
    as_message()` builds one with everything needed."""

    role: Literal["assistant"] = "assistant"
    content: str = ""
    tool_calls: tuple[ToolCall, ...] = ()
    thinking: tuple[ThinkingBlock, ...] = ()


class ToolResultMessage(_Frozen):
    role: Literal["tool"] = "tool"
    tool_call_id: str
    content: str


Message = Annotated[UserMessage | AssistantMessage | ToolResultMessage, Field(discriminator="role")]


class JsonObjectFormat(_Frozen):
    """Ask for any JSON object as the answer."""

    type: Literal["json_object"] = "json_object"


class JsonSchemaFormat(_Frozen):
    """Ask for an answer that validates against `json_schema`; with `strict` the vendor
    enforces it while generating, where it can."""

    type: Literal["json_schema"] = "json_schema"
    name: str = Field(pattern=r"^[a-zA-Z0-9_-]{1,64}$")
    json_schema: dict[str, Any]
    description: str | None = None
    strict: bool = False

    @model_validator(mode="after")
    def _valid_schema(self) -> JsonSchemaFormat:
        try:
            jsonschema.validators.validator_for(self.json_schema).check_schema(self.json_schema)
        except jsonschema.SchemaError as exc:
            raise ValueError(
                f"json_schema is not a valid JSON Schema: {exc.message} "
                f"(at {'/'.join(map(str, exc.path)) or 'the root'})"
            ) from None
        if self.json_schema.get("type") != "object":
            raise ValueError(
                'json_schema must describe an object ("type": "object"): vendors take only '
                "an object at the root; wrap a list or a scalar in a property"
            )
        return self


ResponseFormat = Annotated[JsonObjectFormat | JsonSchemaFormat, Field(discriminator="type")]

ThinkingEffort = Literal["none", "minimal", "low", "medium", "high"]


class ThinkingConfig(_Frozen):
    """How much the model should reason before answering: an `effort` level, a token
    `budget_tokens`, or both (each vendor takes the form it has; effort "none" turns
    reasoning off where the vendor allows it)."""

    effort: ThinkingEffort | None = None
    budget_tokens: int | None = Field(default=None, ge=1)

    @model_validator(mode="after")
    def _something_asked(self) -> ThinkingConfig:
        if self.effort is None and self.budget_tokens is None:
            raise ValueError("ThinkingConfig needs effort= or budget_tokens= (or both)")
        if self.effort == "none" and self.budget_tokens is not None:
            raise ValueError('effort="none" turns thinking off: drop budget_tokens')
        return self


#: The keywords `tool_choice` takes; any other value names the one tool to call.
TOOL_CHOICE_MODES = ("auto", "none", "required")


class CompletionRequest(_Frozen):
    """What to ask for. Checks that need only the request happen here, when it is built;
    checks that depend on the vendor (ranges, what it supports) happen in the provider,
    before anything is sent."""

    messages: tuple[Message, ...]
    system: str | None = None
    tools: tuple[ToolDefinition, ...] = ()
    #: "auto", "none", "required" (call some tool), or the name of the tool to call.
    tool_choice: str | None = None
    #: False asks for at most one tool call per answer; None leaves the vendor's default.
    parallel_tool_calls: bool | None = None
    response_format: ResponseFormat | None = None
    thinking: ThinkingConfig | None = None
    max_tokens: int | None = None
    temperature: float | None = None
    top_p: float | None = Field(default=None, ge=0.0, le=1.0)
    seed: int | None = None
    stop: tuple[str, ...] = ()
    model: str | None = Field(default=None, description="Overrides the provider's model.")

    @model_validator(mode="after")
    def _tool_options_need_tools(self) -> CompletionRequest:
        names = {tool.name for tool in self.tools}
        if self.tool_choice is not None:
            if not self.tools:
                raise ValueError(f"tool_choice={self.tool_choice!r} needs tools: add tools=")
            if self.tool_choice not in TOOL_CHOICE_MODES and self.tool_choice not in names:
                raise ValueError(
                    f"tool_choice={self.tool_choice!r} is neither {', '.join(TOOL_CHOICE_MODES)} "
                    f"nor the name of a tool given ({', '.join(sorted(names))})"
                )
        if self.parallel_tool_calls is not None and not self.tools:
            raise ValueError("parallel_tool_calls needs tools: add tools= or drop it")
        return self

    @property
    def forced_tool(self) -> str | None:
        """The tool `tool_choice` names, if it names one."""
        if self.tool_choice is None or self.tool_choice in TOOL_CHOICE_MODES:
            return None
        return self.tool_choice


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
    """Reasoning text. The delta that closes a signed block carries its `signature` (its text
    may then be empty); a redacted block is one delta with `redacted_data` and no text. After
    either, the next reasoning opens a new block."""

    type: Literal["thinking_delta"] = "thinking_delta"
    index: int
    text: str = ""
    signature: str | None = None
    redacted_data: str | None = None
    #: On the delta that closes a block: the protocol's own record of it, to send back
    #: unchanged (a Responses reasoning item: id, summary, encrypted content).
    provider_data: dict[str, Any] | None = None

    @model_validator(mode="after")
    def _carries_something(self) -> ThinkingDelta:
        if not self.text and not self.closes_block:
            raise ValueError(
                "a ThinkingDelta needs text, a signature, redacted_data or provider_data"
            )
        return self

    @property
    def closes_block(self) -> bool:
        return (
            self.signature is not None
            or self.redacted_data is not None
            or self.provider_data is not None
        )


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
    #: All reasoning text, joined; `thinking_blocks` keeps each block with its signature.
    thinking: str = ""
    thinking_blocks: tuple[ThinkingBlock, ...] = ()
    tool_calls: tuple[ToolCall, ...] = ()
    stop_reason: StopReason
    raw_stop_reason: str
    usage: Usage
    model: str
    request_id: str | None = None

    def as_message(self) -> AssistantMessage:
        """This answer as the assistant turn of the next request: text, tool calls and the
        thinking blocks a vendor wants back unchanged."""
        return AssistantMessage(
            content=self.text, tool_calls=self.tool_calls, thinking=self.thinking_blocks
        )


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
    """Parse a tool call's JSON arguments; an empty string means "no arguments".

    Parsed by jiter, as the stream's own JSON is (several times faster than `json.loads`, once
    per tool call): it also refuses an escaped lone surrogate, which no request could send back.
    Not encodable as UTF-8 (a lone surrogate in the string itself) is a ValueError too.
    """
    if not arguments.strip():
        return {}
    parsed = jiter.from_json(arguments.encode(), cache_mode="keys")
    if not isinstance(parsed, dict):
        raise ValueError(f"tool arguments must be a JSON object, got {type(parsed).__name__}")
    return parsed
