"""The provider for every OpenAI-compatible Chat Completions endpoint."""

from providers.openai_compat.config import OpenAiCompatConfig
from providers.openai_compat.provider import OpenAiCompatibleProvider

__all__ = ["OpenAiCompatConfig", "OpenAiCompatibleProvider"]
