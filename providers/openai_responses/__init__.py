"""OpenAI's Responses API (`POST /responses`): `OpenAiResponsesProvider` and its settings.

The provider class loads the `openai` SDK when first named: the config alone loads no SDK.
"""

from typing import TYPE_CHECKING, Any

from providers.openai_responses.config import OpenAiResponsesConfig

if TYPE_CHECKING:
    from providers.openai_responses.provider import OpenAiResponsesProvider


def __getattr__(name: str) -> Any:
    if name != "OpenAiResponsesProvider":
        raise AttributeError(f"module 'providers.openai_responses' has no attribute {name!r}")
    from providers.openai_responses.provider import OpenAiResponsesProvider  # noqa: PLC0415

    return OpenAiResponsesProvider


__all__ = ["OpenAiResponsesConfig", "OpenAiResponsesProvider"]
