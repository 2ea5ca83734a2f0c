"""The input-token estimate every provider gives when its vendor has no counting endpoint."""

from __future__ import annotations

import json
import math

from providers.types import AssistantMessage, CompletionRequest, TokenCount, UserMessage


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
