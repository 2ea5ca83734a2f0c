"""CompletionRequest -> a Chat Completions request body, for `complete()` and `stream()`.

The checks made before anything is sent are the shared ones (`providers.request_checks`); the
vendor's quirks here (which max-tokens parameter, whether stream_options is accepted, tool-call
id format) come from the profile.
"""

from __future__ import annotations

import hashlib
import re
import string
from typing import Any

from providers.openai_compat.features import chat_features
from providers.request_checks import RequestBuilder
from providers.types import (
    CompletionRequest,
    ImagePart,
    Message,
    TextPart,
    ToolResultMessage,
    UserMessage,
)

_ALNUM = string.ascii_letters + string.digits
_ALNUM9 = re.compile(r"^[a-zA-Z0-9]{9}$")


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


class ChatRequestBuilder(RequestBuilder):
    """The Chat Completions body: `messages` with the system prompt first, function tools,
    the vendor's max-tokens parameter and `stream_options` where it accepts them."""

    def _tool_call_id(self, tool_call_id: str) -> str:
        """A tool-call id as the vendor accepts it back (Mistral: 9 characters [a-zA-Z0-9])."""
        return (
            _alnum9(tool_call_id) if self._quirks.tool_call_id_style == "alnum9" else tool_call_id
        )

    def body(self, request: CompletionRequest, *, stream: bool) -> dict[str, Any]:
        quirks = self._validate(request, stream=stream)
        body: dict[str, Any] = {
            "model": self.model_for(request),
            "messages": self._messages(request),
        }
        if request.max_tokens is not None:
            body[quirks.max_tokens_param] = request.max_tokens
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
        body.update(chat_features(request, quirks))
        if stream:
            body["stream"] = True
            if self._quirks.stream_usage == "include_usage":
                body["stream_options"] = {"include_usage": True}
        return self._sendable(body)

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
