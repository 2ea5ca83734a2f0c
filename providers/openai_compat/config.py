"""OpenAiCompatConfig: everything one provider instance needs, with the key kept secret."""

from __future__ import annotations

from pydantic import model_validator

from providers.settings import ProviderSettings
from providers.types import ProviderCapabilities
from providers.vendors import VendorProfile

_PROFILE_FIELDS = {
    "provider_name": "name",
    "capabilities": "capabilities",
    "api_key_env": "api_key_env",
}


class OpenAiCompatConfig(ProviderSettings):
    """Settings for `OpenAiCompatibleProvider`.

    `profile` carries the vendor's quirks; without one the provider speaks plain OpenAI
    Chat Completions with conservative choices (`max_tokens`, usage asked for), named by
    `provider_name`. `provider_name`, `capabilities` and `api_key_env` given beside a profile
    override its own; `effective_profile()` is the one place the provider reads them from.
    """

    provider_name: str | None = None
    capabilities: ProviderCapabilities | None = None
    profile: VendorProfile | None = None
    #: Named in error messages, so "set MISTRAL_API_KEY" can be said.
    api_key_env: str | None = None

    @model_validator(mode="after")
    def _named(self) -> OpenAiCompatConfig:
        if self.profile is None and not self.provider_name:
            raise ValueError("name the provider: pass provider_name= or profile=")
        return self

    def effective_profile(self) -> VendorProfile:
        """The vendor profile with this config's overrides: name, capabilities, key variable."""
        base = self.profile or VendorProfile(
            name="generic", base_url=self.base_url, default_model=self.model
        )
        overrides = {
            _PROFILE_FIELDS[field]: getattr(self, field)
            for field in self.model_fields_set & _PROFILE_FIELDS.keys()
            if getattr(self, field) is not None
        }
        return base.model_copy(update=overrides)
