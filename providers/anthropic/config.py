"""AnthropicConfig: everything one Anthropic provider instance needs, with the key kept secret."""

from __future__ import annotations

import httpx2
from pydantic import BaseModel, ConfigDict, Field, SecretStr

from providers.settings import BaseUrl
from providers.vendors import VendorProfile


class AnthropicConfig(BaseModel):
    """Settings for `AnthropicProvider`; `profile` carries the capabilities and quirks.

    `http_client` is handed to the `anthropic` SDK unchanged (it sends through httpx2):
    proxies, custom transports, tests. `thinking_budget_tokens` turns on extended thinking
    with that budget for every request (it must stay below each request's max_tokens).
    """

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True, extra="forbid")

    profile: VendorProfile
    api_key: SecretStr
    base_url: BaseUrl
    model: str = Field(min_length=1)
    timeout: float = Field(default=60.0, gt=0)
    max_retries: int = Field(default=2, ge=0)
    thinking_budget_tokens: int | None = Field(default=None, ge=1024)
    # Headers may carry credentials of their own: never in a repr or a dump.
    extra_headers: dict[str, str] = Field(default_factory=dict, repr=False, exclude=True)
    http_client: httpx2.AsyncClient | None = Field(default=None, repr=False, exclude=True)
