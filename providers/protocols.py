"""The one registry of wire protocols: each protocol's name, standard stop values, provider,
config, the SDK it is bound to and its contract-suite implementation.

Everything that looks a protocol up (vendor profiles, `providers.from_vendor`, the suite's
`protocol_for`, certificates naming the SDK) reads it from `PROTOCOLS`, so a new protocol is
one entry here plus its own modules. Classes are named as "module:Class" and imported only
when used: naming a protocol loads no SDK. A name with no entry is an `UnknownProtocolError`
that lists the registered ones, never a bare KeyError.

What the stop values mean comes from each protocol's own documentation: OpenAI Chat
Completions `finish_reason`, Anthropic Messages `stop_reason`, the Responses API's status and
`incomplete_details.reason`. A profile's `stop_reasons` go
on top of its protocol's map; anything in neither is `other`, with the raw value kept.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from providers.errors import InvalidRequestError
from providers.extras import requires
from providers.types import StopReason

#: A registered protocol's name, as a vendor profile's `protocol` says it.
ProtocolName = str

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

#: The Responses API has no finish reason: a completed response says `completed`; an
#: incomplete one says why in `incomplete_details.reason`.
OPENAI_RESPONSES_STOP_REASONS: dict[str, StopMapping] = {
    "completed": StopReason.END_TURN,
    "max_output_tokens": StopReason.MAX_TOKENS,
    "content_filter": StopReason.CONTENT_FILTER,
}


@dataclass(frozen=True, slots=True)
class ProtocolEntry:
    """One wire protocol. `provider`, `config` and `suite` are "module:Class" references;
    `sdk` is the distribution (on PyPI) whose client sends the requests."""

    name: ProtocolName
    stop_reasons: Mapping[str, StopMapping]
    provider: str
    config: str
    sdk: str
    suite: str

    @property
    def provider_class_name(self) -> str:
        return self.provider.partition(":")[2]


PROTOCOLS: dict[ProtocolName, ProtocolEntry] = {
    entry.name: entry
    for entry in (
        ProtocolEntry(
            name="openai_chat",
            stop_reasons=OPENAI_CHAT_STOP_REASONS,
            provider="providers.openai_compat.provider:OpenAiCompatibleProvider",
            config="providers.openai_compat.config:OpenAiCompatConfig",
            sdk="openai",
            suite="contracts.protocols.openai_chat:OpenAiChat",
        ),
        ProtocolEntry(
            name="anthropic_messages",
            stop_reasons=ANTHROPIC_MESSAGES_STOP_REASONS,
            provider="providers.anthropic.provider:AnthropicProvider",
            config="providers.anthropic.config:AnthropicConfig",
            sdk="anthropic",
            suite="contracts.protocols.anthropic_messages:AnthropicMessages",
        ),
        ProtocolEntry(
            name="openai_responses",
            stop_reasons=OPENAI_RESPONSES_STOP_REASONS,
            provider="providers.openai_responses.provider:OpenAiResponsesProvider",
            config="providers.openai_responses.config:OpenAiResponsesConfig",
            sdk="openai",
            suite="contracts.protocols.openai_responses:OpenAiResponses",
        ),
    )
}


class UnknownProtocolError(InvalidRequestError):
    """A protocol name with no entry in `PROTOCOLS`."""

    def __init__(self, name: str) -> None:
        known = ", ".join(sorted(PROTOCOLS))
        super().__init__(
            f"no wire protocol {name!r} is registered: choose one of {known} (a new protocol "
            "is an entry in providers.protocols.PROTOCOLS)",
            provider="protocols",
        )


def protocol_entry(name: str) -> ProtocolEntry:
    """The registered protocol called `name`; an `UnknownProtocolError` names the known ones."""
    entry = PROTOCOLS.get(name)
    if entry is None:
        raise UnknownProtocolError(name)
    return entry


def load_reference(reference: str) -> Any:
    """The object a "module:attribute" reference names, imported now."""
    module, _, attribute = reference.partition(":")
    with requires(attribute):  # a protocol whose SDK is an extra that is not installed
        return getattr(importlib.import_module(module), attribute)
