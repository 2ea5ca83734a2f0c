"""OpenAiResponsesConfig: everything one Responses provider instance needs, key kept secret."""

from __future__ import annotations

from providers.profiled_settings import ProfiledSettings


class OpenAiResponsesConfig(ProfiledSettings):
    """Settings for `OpenAiResponsesProvider`; `profile` carries the capabilities and quirks."""

    protocol = "openai_responses"
