"""OpenAiCompatConfig: everything one provider instance needs, with the key kept secret."""

from __future__ import annotations

import httpx2
from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

from providers.types import ProviderCapabilities
from providers.vendors import VendorProfile


class OpenAiCompatConfig(BaseModel):
    """Settings for `OpenAiCompatibleProvider`.

    `profile` carries the vendor's quirks; without one the provider speaks plain OpenAI
    Chat Completions with conservative choices (`max_tokens`, usage asked for).
    `http_client` is handed to the SDK unchanged: proxies, custom transports, tests.
    """

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True, extra="forbid")

    provider_name: str = Field(min_length=1)
    base_url: str
    api_key: SecretStr
    model: str = Field(min_length=1)
    capabilities: ProviderCapabilities = ProviderCapabilities()
    profile: VendorProfile | None = None
    #: Named in error messages, so "set MISTRAL_API_KEY" can be said.
    api_key_env: str | None = None
    timeout: float = Field(default=60.0, gt=0)
    max_retries: int = Field(default=2, ge=0)
    # Headers may carry credentials of their own (x-goog-api-key): never in a repr or a dump.
    extra_headers: dict[str, str] = Field(default_factory=dict, repr=False, exclude=True)
    http_client: httpx2.AsyncClient | None = Field(default=None, repr=False, exclude=True)

    @field_validator("base_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError(f"base_url must start with http:// or https://, got {value!r}")
        return value.rstrip("/")

    def effective_profile(self) -> VendorProfile:
        if self.profile is not None:
            return self.profile
        return VendorProfile(
            name="generic",
            base_url=self.base_url,
            default_model=self.model,
            api_key_env=self.api_key_env,
            capabilities=self.capabilities,
        )
