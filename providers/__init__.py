"""LLM providers for every OpenAI-compatible Chat Completions API, for Anthropic's Messages API
and for OpenAI's Responses API, all streaming one event grammar.

The provider classes load their vendor SDK when first named: `import providers.types` (what a
third-party provider needs) loads no SDK.
"""

from typing import TYPE_CHECKING, Any

from pydantic import SecretStr

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
    MissingApiKeyError,
    ModelNotFoundError,
    ProviderUnavailableError,
    RateLimitError,
    StreamError,
    StreamTruncatedError,
)
from providers.extras import MissingDependencyError
from providers.protocols import PROTOCOLS, load_reference, protocol_entry
from providers.types import (
    AssistantMessage,
    CompletionRequest,
    CompletionResponse,
    Connected,
    ContentPart,
    Done,
    ImagePart,
    JsonObjectFormat,
    JsonSchemaFormat,
    LlmProvider,
    Message,
    MessageDelta,
    ProviderCapabilities,
    ResponseFormat,
    StopReason,
    StreamEvent,
    TextDelta,
    TextPart,
    ThinkingBlock,
    ThinkingConfig,
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
from providers.vendors import VendorProfile, available_vendors, load_profile

if TYPE_CHECKING:
    from providers.anthropic import AnthropicConfig, AnthropicProvider
    from providers.openai_compat import OpenAiCompatConfig, OpenAiCompatibleProvider
    from providers.openai_responses import OpenAiResponsesConfig, OpenAiResponsesProvider

#: Public names whose module imports a vendor SDK ("module:Class"): each protocol's provider
#: and config class, from the one registry.
_SDK_BOUND = {
    reference.partition(":")[2]: reference
    for entry in PROTOCOLS.values()
    for reference in (entry.provider, entry.config)
}


def __getattr__(name: str) -> Any:
    reference = _SDK_BOUND.get(name)
    if reference is None:
        raise AttributeError(f"module 'providers' has no attribute {name!r}")
    value = load_reference(reference)
    globals()[name] = value
    return value


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
    """As `from_vendor`, from a profile already loaded (or made for one endpoint)."""
    provider_class = load_reference(protocol_entry(profile.protocol).provider)
    built: LlmProvider = provider_class.from_profile(
        profile, api_key=api_key, model=model, base_url=base_url, **overrides
    )
    return built


__all__ = [
    "AnthropicConfig",
    "AnthropicProvider",
    "AssistantMessage",
    "AuthenticationError",
    "CompletionRequest",
    "CompletionResponse",
    "Connected",
    "ContentPart",
    "ContextLengthError",
    "CostTable",
    "Done",
    "ImagePart",
    "InvalidRequestError",
    "JsonObjectFormat",
    "JsonSchemaFormat",
    "LlmError",
    "LlmProvider",
    "MalformedResponseError",
    "Message",
    "MessageDelta",
    "MissingApiKeyError",
    "MissingDependencyError",
    "ModelNotFoundError",
    "ModelPrice",
    "OpenAiCompatConfig",
    "OpenAiCompatibleProvider",
    "OpenAiResponsesConfig",
    "OpenAiResponsesProvider",
    "PriceNotFoundError",
    "ProviderCapabilities",
    "ProviderUnavailableError",
    "RateLimitError",
    "ResponseFormat",
    "StopReason",
    "StreamError",
    "StreamEvent",
    "StreamTruncatedError",
    "TextDelta",
    "TextPart",
    "ThinkingBlock",
    "ThinkingConfig",
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
