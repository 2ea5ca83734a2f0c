"""The provider for every OpenAI-compatible Chat Completions endpoint.

The provider class loads the `openai` SDK when first named: the config alone loads no SDK.
"""

from typing import TYPE_CHECKING, Any

from providers.openai_compat.config import OpenAiCompatConfig

if TYPE_CHECKING:
    from providers.openai_compat.provider import OpenAiCompatibleProvider


def __getattr__(name: str) -> Any:
    if name != "OpenAiCompatibleProvider":
        raise AttributeError(f"module 'providers.openai_compat' has no attribute {name!r}")
    from providers.openai_compat.provider import OpenAiCompatibleProvider  # noqa: PLC0415

    return OpenAiCompatibleProvider


__all__ = ["OpenAiCompatConfig", "OpenAiCompatibleProvider"]
