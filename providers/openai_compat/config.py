"""OpenAiCompatConfig: everything one provider instance needs, with the key kept secret."""

from __future__ import annotations

import httpx2
from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

from providers.types import ProviderCapabilities
from providers.vendors import VendorProfile

#: Ten minutes: a long reasoning answer fits; a server trickling bytes forever does not.
DEFAULT_DEADLINE = 600.0
#: 32 MiB: far above any chunk a vendor sends (a whole image as base64 fits), far below harm.
DEFAULT_MAX_EVENT_BYTES = 32 * 1024 * 1024
_MAX_PORT = 65_535


def _printable_ascii(value: str) -> bool:
    """What an HTTP header value may hold without being refused by the HTTP client."""
    return value.isascii() and value.isprintable()


class OpenAiCompatConfig(BaseModel):
    """Settings for `OpenAiCompatibleProvider`.

    `profile` carries the vendor's quirks; without one the provider speaks plain OpenAI
    Chat Completions with conservative choices (`max_tokens`, usage asked for).
    `http_client` is handed to the SDK unchanged: proxies, custom transports, tests.
    `timeout` bounds each read (and the wait for headers); `deadline` bounds the whole
    response, from sending the request to its last byte. `max_event_bytes` bounds one SSE event.
    """

    # Errors never repeat the input: a rejected key must not appear in the message.
    model_config = ConfigDict(
        frozen=True, arbitrary_types_allowed=True, extra="forbid", hide_input_in_errors=True
    )

    provider_name: str = Field(min_length=1)
    base_url: str
    api_key: SecretStr
    model: str = Field(min_length=1)
    capabilities: ProviderCapabilities = ProviderCapabilities()
    profile: VendorProfile | None = None
    #: Named in error messages, so "set MISTRAL_API_KEY" can be said.
    api_key_env: str | None = None
    timeout: float = Field(default=60.0, gt=0, allow_inf_nan=False)
    deadline: float = Field(default=DEFAULT_DEADLINE, gt=0, allow_inf_nan=False)
    max_event_bytes: int = Field(default=DEFAULT_MAX_EVENT_BYTES, gt=0)
    max_retries: int = Field(default=2, ge=0)
    # Headers may carry credentials of their own (x-goog-api-key): never in a repr or a dump.
    extra_headers: dict[str, str] = Field(default_factory=dict, repr=False, exclude=True)
    http_client: httpx2.AsyncClient | None = Field(default=None, repr=False, exclude=True)

    @field_validator("base_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            shown = value if len(value) <= 80 else value[:80] + "..."
            raise ValueError(f"base_url must start with http:// or https://, got {shown!r}")
        url = httpx2.URL(value)
        if not url.host:
            raise ValueError("base_url has no host: write it as https://host/path")
        if url.port is not None and not 1 <= url.port <= _MAX_PORT:
            raise ValueError(f"base_url port must be 1-{_MAX_PORT}, got {url.port}")
        return value.rstrip("/")

    @field_validator("model")
    @classmethod
    def _model_named(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("model is blank: name a model")
        return value

    @field_validator("api_key")
    @classmethod
    def _sendable_key(cls, value: SecretStr) -> SecretStr:
        """Trim a pasted key's newline or spaces; refuse one no HTTP header can carry."""
        key = value.get_secret_value()
        trimmed = key.strip()
        if not trimmed:
            raise ValueError("the API key is empty")
        if not _printable_ascii(trimmed):
            raise ValueError(
                "the API key holds non-ASCII or control characters: copy it again from the "
                "vendor's console"
            )
        return value if trimmed == key else SecretStr(trimmed)

    @field_validator("extra_headers")
    @classmethod
    def _sendable_headers(cls, value: dict[str, str]) -> dict[str, str]:
        for name, header in value.items():
            if not name or not _printable_ascii(name) or not _printable_ascii(header):
                raise ValueError(
                    f"extra_headers[{name!r}] holds non-ASCII or control characters in its "
                    "name or value: HTTP headers cannot carry them"
                )
        return value

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
