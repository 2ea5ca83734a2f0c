"""The wire protocols a vendor profile can name, and each protocol's standard stop values.

A profile's `stop_reasons` go on top of its protocol's standard map; anything in neither is
`other`, with the raw value kept. What the values mean comes from each protocol's own
documentation: OpenAI Chat Completions `finish_reason`, Anthropic Messages `stop_reason`.
"""

from __future__ import annotations

from typing import Literal

from providers.types import StopReason

WireProtocol = Literal["openai_chat", "anthropic_messages"]

#: What a raw stop value can map to: a unified stop reason, or a failure of the stream.
#: "error" raises StreamError; "retryable_error" raises ProviderUnavailableError.
StopMapping = StopReason | Literal["error", "retryable_error"]

OPENAI_CHAT_STOP_REASONS: dict[str, StopMapping] = {
    "stop": StopReason.END_TURN,
    "length": StopReason.MAX_TOKENS,
    "tool_calls": StopReason.TOOL_USE,
    "function_call": StopReason.TOOL_USE,
    "content_filter": StopReason.CONTENT_FILTER,
}

ANTHROPIC_MESSAGES_STOP_REASONS: dict[str, StopMapping] = {
    "end_turn": StopReason.END_TURN,
    "max_tokens": StopReason.MAX_TOKENS,
    "stop_sequence": StopReason.STOP_SEQUENCE,
    "tool_use": StopReason.TOOL_USE,
    "refusal": StopReason.CONTENT_FILTER,
    # The server paused a long-running turn (server tools); the caller sends it back to go on.
    "pause_turn": StopReason.OTHER,
    # The context window filled up while generating: the output was cut for lack of room.
    "model_context_window_exceeded": StopReason.MAX_TOKENS,
}

STANDARD_STOP_REASONS_BY_PROTOCOL: dict[WireProtocol, dict[str, StopMapping]] = {
    "openai_chat": OPENAI_CHAT_STOP_REASONS,
    "anthropic_messages": ANTHROPIC_MESSAGES_STOP_REASONS,
}
