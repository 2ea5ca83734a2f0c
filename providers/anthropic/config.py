"""AnthropicConfig: everything one Anthropic provider instance needs, with the key kept secret."""

from __future__ import annotations

import warnings

from pydantic import Field, field_validator

from providers.profiled_settings import ProfiledSettings


class AnthropicConfig(ProfiledSettings):
    """Settings for `AnthropicProvider`; `profile` carries the capabilities and quirks.

    `thinking_budget_tokens` is deprecated: ask per request with
    `CompletionRequest(thinking=ThinkingConfig(budget_tokens=...))`. Until it goes, it asks for
    thinking with that budget on every request that does not ask itself.
    """

    protocol = "anthropic_messages"

    thinking_budget_tokens: int | None = Field(default=None, ge=1024)

    @field_validator("thinking_budget_tokens")
    @classmethod
    def _deprecated(cls, budget: int | None) -> int | None:
        if budget is not None:
            warnings.warn(
                "AnthropicConfig.thinking_budget_tokens is deprecated: pass "
                "thinking=ThinkingConfig(budget_tokens=...) on the CompletionRequest",
                DeprecationWarning,
                stacklevel=2,
            )
        return budget
