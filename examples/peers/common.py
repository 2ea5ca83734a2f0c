"""What every peer adapter shares: turning a library's own results into the event grammar.

An adapter's job is translation, not repair. Each library is asked through its own public API,
and whatever it reports (text, reasoning, tool calls, finish reason, usage, exceptions) is
passed on as it came. Where a library reports nothing the grammar needs, the adapter says so
plainly rather than guessing:

- no finish reason, yet the library ended the stream normally: `MessageDelta(other, "")`
  (the library accepted an unfinished answer; the contract then shows it);
- no usage: an estimate (chars / 4), marked `estimated=True`, as the contract asks;
- an exception: mapped by HTTP status (and the error code the library exposes) into
  `providers.errors`; after `Connected`, into the `StreamError` family.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from pydantic import SecretStr

from providers import errors
from providers.types import (
    TOOL_CHOICE_MODES,
    AssistantMessage,
    CompletionRequest,
    CompletionResponse,
    Connected,
    ContentPart,
    Done,
    ImagePart,
    JsonObjectFormat,
    MessageDelta,
    ProviderCapabilities,
    ResponseFormat,
    StopReason,
    StreamEvent,
    TextDelta,
    TextPart,
    ThinkingDelta,
    TokenCount,
    ToolCall,
    ToolInputDelta,
    ToolResultMessage,
    ToolUseEnd,
    ToolUseStart,
    Usage,
    UserMessage,
    tool_input_from_arguments,
)

#: The Chat Completions finish values every client knows; vendor values are outside them.
STANDARD_STOPS = {
    "stop": StopReason.END_TURN,
    "length": StopReason.MAX_TOKENS,
    "tool_calls": StopReason.TOOL_USE,
    "function_call": StopReason.TOOL_USE,
    "content_filter": StopReason.CONTENT_FILTER,
}


def stop_reason(raw: str | None, stops: dict[str, StopReason] = STANDARD_STOPS) -> StopReason:
    return stops.get(raw or "", StopReason.OTHER)


def estimate_tokens(text: str) -> int:
    return math.ceil(len(text) / 4)


def count_tokens(request: CompletionRequest) -> TokenCount:
    """chars / 4 over what is sent: none of the peers offers an offline count for any model."""
    parts = [request.system or ""]
    parts += [message.content for message in request.messages]
    parts += [json.dumps(tool.parameters) + tool.name + tool.description for tool in request.tools]
    return TokenCount(input_tokens=estimate_tokens("".join(parts)))


def image_url(part: ImagePart) -> str:
    """An image as Chat Completions takes it: its URL, or its bytes as a data URL."""
    return part.url or f"data:{part.media_type};base64,{part.data}"


def openai_content(content: str | tuple[ContentPart, ...]) -> str | list[dict[str, Any]]:
    """A user message's content as Chat Completions parts (text, image_url)."""
    if isinstance(content, str):
        return content
    return [
        {"type": "text", "text": part.text}
        if isinstance(part, TextPart)
        else {"type": "image_url", "image_url": {"url": image_url(part)}}
        for part in content
    ]


def openai_tool_choice(choice: str) -> str | dict[str, Any]:
    """A tool choice as Chat Completions spells it: a mode, or the function to call."""
    if choice in TOOL_CHOICE_MODES:
        return choice
    return {"type": "function", "function": {"name": choice}}


def openai_response_format(response_format: ResponseFormat) -> dict[str, Any]:
    if isinstance(response_format, JsonObjectFormat):
        return {"type": "json_object"}
    schema: dict[str, Any] = {
        "name": response_format.name,
        "schema": response_format.json_schema,
        "strict": response_format.strict,
    }
    if response_format.description is not None:
        schema["description"] = response_format.description
    return {"type": "json_schema", "json_schema": schema}


def openai_features(request: CompletionRequest) -> dict[str, Any]:
    """The request features as the library's documented Chat Completions parameters: the
    tool choice, parallel calls, the response format and `reasoning_effort` (a budget has no
    Chat Completions parameter, so only an effort is passed on)."""
    features: dict[str, Any] = {}
    if request.tool_choice is not None:
        features["tool_choice"] = openai_tool_choice(request.tool_choice)
    if request.parallel_tool_calls is not None:
        features["parallel_tool_calls"] = request.parallel_tool_calls
    if request.response_format is not None:
        features["response_format"] = openai_response_format(request.response_format)
    if request.thinking is not None and request.thinking.effort is not None:
        features["reasoning_effort"] = request.thinking.effort
    return features


def openai_messages(request: CompletionRequest) -> list[dict[str, Any]]:
    """The request's conversation as Chat Completions message dicts (raw SDK, litellm)."""
    messages: list[dict[str, Any]] = (
        [{"role": "system", "content": request.system}] if request.system else []
    )
    for message in request.messages:
        if isinstance(message, UserMessage):
            messages.append({"role": "user", "content": openai_content(message.content)})
        elif isinstance(message, ToolResultMessage):
            messages.append(
                {"role": "tool", "tool_call_id": message.tool_call_id, "content": message.content}
            )
        else:
            messages.append(_assistant(message))
    return messages


def _assistant(message: AssistantMessage) -> dict[str, Any]:
    body: dict[str, Any] = {"role": "assistant", "content": message.content or None}
    if message.tool_calls:
        body["tool_calls"] = [
            {
                "id": call.id,
                "type": "function",
                "function": {"name": call.name, "arguments": call.arguments},
            }
            for call in message.tool_calls
        ]
    return body


def openai_tools(request: CompletionRequest) -> list[dict[str, Any]]:
    return [
        {
            "type": "function",
            "function": {
                "name": tool.name,
                "description": tool.description,
                "parameters": tool.parameters,
            },
        }
        for tool in request.tools
    ]


def tool_call(call_id: str, name: str, arguments: str, provider: str) -> ToolCall:
    """A finished call; arguments the library handed over unparsable are a malformed answer."""
    try:
        parsed = tool_input_from_arguments(arguments)
    except ValueError as exc:
        raise errors.MalformedResponseError(
            f"tool call {name!r} has invalid JSON arguments: {exc}", provider=provider
        ) from exc
    return ToolCall(id=call_id, name=name, arguments=arguments, input=parsed)


@dataclass
class Reported:
    """What the library reported by the end of one answer."""

    text: str = ""
    thinking: str = ""
    tool_calls: list[ToolCall] = field(default_factory=list)
    finish: str | None = None
    stop: StopReason | None = None
    #: Input, output and cache-read tokens, as the library reported them.
    usage: tuple[int, int, int] | None = None
    model: str = ""
    request_id: str | None = None

    def final_usage(self, request: CompletionRequest) -> Usage:
        if self.usage is not None:
            return Usage(
                input_tokens=self.usage[0],
                output_tokens=self.usage[1],
                cache_read_tokens=self.usage[2],
            )
        return Usage(
            input_tokens=count_tokens(request).input_tokens,
            output_tokens=estimate_tokens(self.text + self.thinking),
            estimated=True,
        )

    def final_stop(self) -> StopReason:
        """The library's own mapped reason when it has one, else the standard map."""
        return self.stop if self.stop is not None else stop_reason(self.finish)

    def response(self, request: CompletionRequest) -> CompletionResponse:
        return CompletionResponse(
            text=self.text,
            thinking=self.thinking,
            tool_calls=tuple(self.tool_calls),
            stop_reason=self.final_stop(),
            raw_stop_reason=self.finish or "",
            usage=self.final_usage(request),
            model=self.model,
            request_id=self.request_id,
        )


class Blocks:
    """Numbers text and reasoning deltas as they arrive; tool blocks and the tail at the end."""

    def __init__(self) -> None:
        self.index = -1
        self._kind: type[TextDelta | ThinkingDelta] | None = None

    def delta(
        self, kind: type[TextDelta | ThinkingDelta], text: str | None
    ) -> Iterator[StreamEvent]:
        if not text:
            return
        if self._kind is not kind:
            self.index += 1
            self._kind = kind
        yield kind(index=self.index, text=text)

    def finish(self, reported: Reported, request: CompletionRequest) -> Iterator[StreamEvent]:
        for call in reported.tool_calls:
            self.index += 1
            yield ToolUseStart(index=self.index, id=call.id, name=call.name)
            yield ToolInputDelta(index=self.index, partial_json=call.arguments)
            yield ToolUseEnd(
                index=self.index,
                id=call.id,
                name=call.name,
                arguments=call.arguments,
                input=call.input,
            )
        yield MessageDelta(stop_reason=reported.final_stop(), raw_stop_reason=reported.finish or "")
        yield reported.final_usage(request)
        yield Done()


def connected(provider: str, model: str, request_id: str | None = None) -> Connected:
    return Connected(provider=provider, model=model, request_id=request_id)


@dataclass(frozen=True)
class HttpFailure:
    """An HTTP error as the library exposes it."""

    status: int
    message: str
    code: str | None = None
    retry_after: float | None = None
    request_id: str | None = None


#: The error codes OpenAI-compatible servers use for an over-long prompt.
CONTEXT_CODES = frozenset({"context_length_exceeded", "string_above_max_length"})


def from_http(failure: HttpFailure, provider: str) -> errors.LlmError:
    """Map by status, and the library-exposed code for context length; nothing else."""
    common: dict[str, Any] = {
        "provider": provider,
        "status_code": failure.status,
        "request_id": failure.request_id,
        "vendor_code": failure.code,
    }
    status, message = failure.status, failure.message
    if status in (401, 403):
        return errors.AuthenticationError(message, **common)
    if status == 404:
        return errors.ModelNotFoundError(message, **common)
    if status == 429:
        return errors.RateLimitError(message, retry_after=failure.retry_after, **common)
    if status >= 500:
        return errors.ProviderUnavailableError(message, **common)
    if failure.code in CONTEXT_CODES:
        return errors.ContextLengthError(message, **common)
    return errors.InvalidRequestError(message, **common)


def retry_after(headers: Any) -> float | None:
    """Retry-After in seconds from whatever header mapping the library exposes."""
    value = headers.get("retry-after") if headers is not None else None
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def mid_stream(
    exc: Exception, provider: str, *, broken: Iterable[type[Exception]]
) -> errors.LlmError:
    """A failure after Connected: a broken transport truncates, a bad chunk is malformed."""
    if isinstance(exc, errors.LlmError):
        return exc
    message = f"{type(exc).__name__}: {exc}"
    if isinstance(exc, tuple(broken)):
        return errors.StreamTruncatedError(message, provider=provider)
    if isinstance(exc, ValueError):
        return errors.MalformedResponseError(message, provider=provider)
    return errors.StreamError(message, provider=provider)


class PeerProvider:
    """The `LlmProvider` surface every adapter shares; subclasses talk to their library.

    Every peer is declared with tools and reasoning, so the suite looks at what each library
    does with them instead of skipping the clauses.
    """

    library = ""

    def __init__(self, base_url: str, api_key: SecretStr, model: str = "contract-model") -> None:
        self.base_url = base_url
        self.api_key = api_key
        self.model = model

    @property
    def name(self) -> str:
        return self.library

    @property
    def capabilities(self) -> ProviderCapabilities:
        return ProviderCapabilities(tool_calling=True, extended_thinking=True)

    def count_tokens(self, request: CompletionRequest) -> TokenCount:
        return count_tokens(request)
