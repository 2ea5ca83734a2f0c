"""The config base every protocol's provider shares: settings plus the vendor's profile.

Without a profile a provider speaks its protocol plainly, named by `provider_name`;
`provider_name`, `capabilities` and `api_key_env` given beside a profile override its own, and
`effective_profile()` is the one place a provider reads them from.
"""

from __future__ import annotations

from typing import ClassVar

from pydantic import model_validator

from providers.protocols import ProtocolName
from providers.settings import ProviderSettings
from providers.types import ProviderCapabilities
from providers.vendors import VendorProfile

_PROFILE_FIELDS = {
    "provider_name": "name",
    "capabilities": "capabilities",
    "api_key_env": "api_key_env",
}


class ProfiledSettings(ProviderSettings):
    """Settings for one protocol's provider; `protocol` is the protocol a bare config speaks."""

    protocol: ClassVar[ProtocolName]

    provider_name: str | None = None
    capabilities: ProviderCapabilities | None = None
    profile: VendorProfile | None = None
    #: Named in error messages, so "set MISTRAL_API_KEY" can be said.
    api_key_env: str | None = None

    @model_validator(mode="after")
    def _named(self) -> ProfiledSettings:
        if self.profile is None and not self.provider_name:
            raise ValueError("name the provider: pass provider_name= or profile=")
        return self

    def effective_profile(self) -> VendorProfile:
        """The vendor profile with this config's overrides: name, capabilities, key variable."""
        base = self.profile or VendorProfile(
            name="generic",
            protocol=self.protocol,
            base_url=self.base_url,
            default_model=self.model,
        )
        overrides = {
            _PROFILE_FIELDS[field]: getattr(self, field)
            for field in self.model_fields_set & _PROFILE_FIELDS.keys()
            if getattr(self, field) is not None
        }
        return base.model_copy(update=overrides)
