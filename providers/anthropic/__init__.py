"""Anthropic's own Messages API: `AnthropicProvider` and its settings."""

from providers.anthropic.config import AnthropicConfig
from providers.anthropic.provider import AnthropicProvider

__all__ = ["AnthropicConfig", "AnthropicProvider"]
