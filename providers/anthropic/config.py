"""AnthropicConfig: everything one Anthropic provider instance needs, with the key kept secret."""

from __future__ import annotations

from pydantic import Field

from providers.settings import ProviderSettings
from providers.vendors import VendorProfile


class AnthropicConfig(ProviderSettings):
    """Settings for `AnthropicProvider`; `profile` carries the capabilities and quirks.

    `thinking_budget_tokens` turns on extended thinking with that budget for every request
    (it must stay below each request's max_tokens).
    """

    profile: VendorProfile
    thinking_budget_tokens: int | None = Field(default=None, ge=1024)
