"""OpenAiCompatConfig: everything one provider instance needs, with the key kept secret."""

from __future__ import annotations

from providers.profiled_settings import ProfiledSettings


class OpenAiCompatConfig(ProfiledSettings):
    """Settings for `OpenAiCompatibleProvider`.

    `profile` carries the vendor's quirks; without one the provider speaks plain OpenAI
    Chat Completions with conservative choices (`max_tokens`, usage asked for), named by
    `provider_name`.
    """

    protocol = "openai_chat"
