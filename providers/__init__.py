"""LLM providers for every OpenAI-compatible Chat Completions API and for Anthropic's Messages
API, all streaming one event grammar."""

from collections.abc import Callable
from typing import Any

from pydantic import SecretStr

from providers.anthropic import AnthropicConfig, AnthropicProvider
from providers.costs import (
    CostTable,
    ModelPrice,
    PriceNotFoundError,
    default_cost_table,
    estimate_cost,
)
from providers.errors import (
    AuthenticationError,
    ContextLengthError,
    InvalidRequestError,
    LlmError,
    MalformedResponseError,
    ModelNotFoundError,
    ProviderUnavailableError,
    RateLimitError,
    StreamError,
    StreamTruncatedError,
)
from providers.openai_compat import OpenAiCompatConfig, OpenAiCompatibleProvider
from providers.types import (
    AssistantMessage,
    CompletionRequest,
    CompletionResponse,
    Connected,
    Done,
    LlmProvider,
    Message,
    MessageDelta,
    ProviderCapabilities,
    StopReason,
    StreamEvent,
    TextDelta,
    ThinkingDelta,
    TokenCount,
    ToolCall,
    ToolDefinition,
    ToolInputDelta,
    ToolResultMessage,
    ToolUseEnd,
    ToolUseStart,
    Usage,
    UserMessage,
)
from providers.vendors import VendorProfile, WireProtocol, available_vendors, load_profile

_BUILDERS: dict[WireProtocol, Callable[..., LlmProvider]] = {
    "openai_chat": OpenAiCompatibleProvider.from_profile,
    "anthropic_messages": AnthropicProvider.from_profile,
}


def from_vendor(
    name: str,
    *,
    api_key: str | SecretStr | None = None,
    model: str | None = None,
    base_url: str | None = None,
    **overrides: Any,
) -> LlmProvider:
    """The provider for a bundled (or LLM_CONTRACTS_VENDOR_DIRS) profile, by its protocol.

    The key defaults to the profile's environment variable; other keyword arguments pass
    through to the provider's config (`http_client`, `timeout`, `max_retries`, ...).
    """
    return from_profile(
        load_profile(name), api_key=api_key, model=model, base_url=base_url, **overrides
    )


def from_profile(
    profile: VendorProfile,
    *,
    api_key: str | SecretStr | None = None,
    model: str | None = None,
    base_url: str | None = None,
    **overrides: Any,
) -> LlmProvider:
    """As `from_vendor`, from a profile already loaded (or built for one endpoint)."""
    build = _BUILDERS[profile.protocol]
    return build(profile, api_key=api_key, model=model, base_url=base_url, **overrides)


__all__ = [
    "AnthropicConfig",
    "AnthropicProvider",
    "AssistantMessage",
    "AuthenticationError",
    "CompletionRequest",
    "CompletionResponse",
    "Connected",
    "ContextLengthError",
    "CostTable",
    "Done",
    "InvalidRequestError",
    "LlmError",
    "LlmProvider",
    "MalformedResponseError",
    "Message",
    "MessageDelta",
    "ModelNotFoundError",
    "ModelPrice",
    "OpenAiCompatConfig",
    "OpenAiCompatibleProvider",
    "PriceNotFoundError",
    "ProviderCapabilities",
    "ProviderUnavailableError",
    "RateLimitError",
    "StopReason",
    "StreamError",
    "StreamEvent",
    "StreamTruncatedError",
    "TextDelta",
    "ThinkingDelta",
    "TokenCount",
    "ToolCall",
    "ToolDefinition",
    "ToolInputDelta",
    "ToolResultMessage",
    "ToolUseEnd",
    "ToolUseStart",
    "Usage",
    "UserMessage",
    "VendorProfile",
    "available_vendors",
    "default_cost_table",
    "estimate_cost",
    "from_profile",
    "from_vendor",
    "load_profile",
]
