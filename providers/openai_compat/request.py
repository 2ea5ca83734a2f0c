"""One request builder for `complete()` and `stream()`: CompletionRequest -> JSON body.

Everything here is checked before any network call, so bad input fails fast with a message
that says what to change, and the vendor's quirks (which max-tokens parameter, whether
stream_options is accepted, tool-call id format) come from the profile.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import string
from typing import Any

from providers.errors import InvalidRequestError
from providers.types import (
    AssistantMessage,
    CompletionRequest,
    ImagePart,
    Message,
    ProviderCapabilities,
    TextPart,
    TokenCount,
    ToolResultMessage,
    UserMessage,
)
from providers.vendors import RequestQuirks

_ALNUM = string.ascii_letters + string.digits
_ALNUM9 = re.compile(r"^[a-zA-Z0-9]{9}$")


def _unencodable(value: object, path: str) -> str | None:
    """Where in a JSON value a string UTF-8 cannot encode sits (a lone surrogate), if anywhere."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return path
    elif isinstance(value, dict):
        for key, item in value.items():
            found = _unencodable(key, f"{path} key") or _unencodable(item, f"{path}.{key}")
            if found:
                return found
    elif isinstance(value, list):
        for number, item in enumerate(value):
            found = _unencodable(item, f"{path}[{number}]")
            if found:
                return found
    return None


def _alnum9(tool_call_id: str) -> str:
    """A stable 9-character [a-zA-Z0-9] id for any id, so calls and results still pair up."""
    if _ALNUM9.match(tool_call_id):
        return tool_call_id
    number = int.from_bytes(hashlib.sha256(tool_call_id.encode()).digest()[:8], "big")
    chars = []
    for _ in range(9):
        number, digit = divmod(number, len(_ALNUM))
        chars.append(_ALNUM[digit])
    return "".join(chars)


class RequestBuilder:
    def __init__(
        self,
        provider: str,
        model: str,
        quirks: RequestQuirks,
        capabilities: ProviderCapabilities,
    ) -> None:
        self._provider = provider
        self._model = model
        self._quirks = quirks
        self._capabilities = capabilities
        self._tool_call_id = _alnum9 if quirks.tool_call_id_style == "alnum9" else str

    def model_for(self, request: CompletionRequest) -> str:
        return request.model or self._model

    def body(self, request: CompletionRequest, *, stream: bool) -> dict[str, Any]:
        self._validate(request, stream=stream)
        body: dict[str, Any] = {
            "model": self.model_for(request),
            "messages": self._messages(request),
        }
        if request.max_tokens is not None:
            body[self._quirks.max_tokens_param] = request.max_tokens
        if request.temperature is not None:
            body["temperature"] = request.temperature
        if request.stop:
            body["stop"] = list(request.stop)
        if request.tools:
            body["tools"] = [
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
        if stream:
            body["stream"] = True
            if self._quirks.stream_usage == "include_usage":
                body["stream_options"] = {"include_usage": True}
        return self._sendable(body)

    def _sendable(self, body: dict[str, Any]) -> dict[str, Any]:
        """`body`, refused before anything is sent when UTF-8 cannot encode a string in it."""
        where = _unencodable(body, "request")
        if where is not None:
            raise self._invalid(
                f"{where} holds a lone surrogate (half of a UTF-16 pair, often from a bad "
                "decode): UTF-8 cannot send it; repair the text, e.g. "
                "text.encode('utf-8', 'replace').decode()"
            )
        return body

    def _invalid(self, message: str) -> InvalidRequestError:
        return InvalidRequestError(message, provider=self._provider)

    def _validate(self, request: CompletionRequest, *, stream: bool) -> None:
        if not request.messages:
            raise self._invalid("messages is empty: add at least one UserMessage")
        if stream and not self._capabilities.streaming:
            raise self._invalid(f"{self._provider} does not support streaming: use complete()")
        if request.max_tokens is not None:
            if request.max_tokens < 1:
                raise self._invalid(f"max_tokens must be >= 1, got {request.max_tokens}")
            if request.max_tokens > self._capabilities.max_output_tokens:
                raise self._invalid(
                    f"max_tokens must be <= {self._capabilities.max_output_tokens} for "
                    f"{self._provider}, got {request.max_tokens}"
                )
        if request.temperature is not None:
            low, high = self._quirks.temperature_range
            if not low <= request.temperature <= high:
                raise self._invalid(
                    f"temperature must be between {low:g} and {high:g} for {self._provider}, "
                    f"got {request.temperature:g}"
                )
        limit = self._quirks.max_stop_sequences
        if limit is not None and len(request.stop) > limit:
            raise self._invalid(
                f"{self._provider} accepts at most {limit} stop sequence(s), got "
                f"{len(request.stop)}"
            )
        if request.tools and not self._capabilities.tool_calling:
            raise self._invalid(f"{self._provider} does not support tools: remove them")
        for tool in request.tools:
            if tool.parameters.get("type") != "object":
                raise self._invalid(
                    f"tool {tool.name!r}: parameters must be a JSON Schema with "
                    f'"type": "object", got {tool.parameters.get("type")!r}'
                )

    def _messages(self, request: CompletionRequest) -> list[dict[str, Any]]:
        messages: list[dict[str, Any]] = []
        if request.system:
            messages.append({"role": "system", "content": request.system})
        messages.extend(self._message(message) for message in request.messages)
        return messages

    def _message(self, message: Message) -> dict[str, Any]:
        if isinstance(message, UserMessage):
            if isinstance(message.content, str):
                return {"role": "user", "content": message.content}
            return {"role": "user", "content": [_part(part) for part in message.content]}
        if isinstance(message, ToolResultMessage):
            return {
                "role": "tool",
                "tool_call_id": self._tool_call_id(message.tool_call_id),
                "content": message.content,
            }
        encoded: dict[str, Any] = {"role": "assistant", "content": message.content or None}
        if message.tool_calls:
            encoded["tool_calls"] = [
                {
                    **(call.provider_data or {}),
                    "id": self._tool_call_id(call.id),
                    "type": "function",
                    "function": {"name": call.name, "arguments": call.arguments},
                }
                for call in message.tool_calls
            ]
        return encoded


def _part(part: TextPart | ImagePart) -> dict[str, Any]:
    if isinstance(part, TextPart):
        return {"type": "text", "text": part.text}
    url = part.url or f"data:{part.media_type};base64,{part.data}"
    return {"type": "image_url", "image_url": {"url": url}}


def estimate_input_tokens(request: CompletionRequest) -> TokenCount:
    """ceil(characters / 4) over system, text, reasoning sent back and tool schemas: a rough,
    honest estimate. Images are not counted: their cost depends on pixels we do not read."""
    chars = len(request.system or "")
    for message in request.messages:
        if isinstance(message, UserMessage):
            chars += len(message.text)
            continue
        chars += len(message.content)
        if isinstance(message, AssistantMessage):
            chars += sum(len(call.name) + len(call.arguments) for call in message.tool_calls)
            chars += sum(len(block.text) for block in message.thinking)
    for tool in request.tools:
        chars += len(tool.name) + len(tool.description)
        chars += len(json.dumps(tool.parameters, separators=(",", ":")))
    return TokenCount(input_tokens=math.ceil(chars / 4), estimated=True)
