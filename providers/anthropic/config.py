"""AnthropicConfig: everything one Anthropic provider instance needs, with the key kept secret."""

from __future__ import annotations

from pydantic import Field

from providers.profiled_settings import ProfiledSettings


class AnthropicConfig(ProfiledSettings):
    """Settings for `AnthropicProvider`; `profile` carries the capabilities and quirks.

    `thinking_budget_tokens` turns on extended thinking with that budget for every request
    (it must stay below each request's max_tokens).
    """

    protocol = "anthropic_messages"

    thinking_budget_tokens: int | None = Field(default=None, ge=1024)
