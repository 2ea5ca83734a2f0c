"""The settings every provider's config shares, validated the same way for every protocol.

A setting that cannot work is refused before anything is sent, with a message that says
what to fix and never repeats the key: an empty model or base URL (an empty environment
variable must not route traffic to a vendor's public API), a URL without a host or with a
port out of range, a key or header that no HTTP header can carry.
"""

from __future__ import annotations

import os
from typing import Any, TypeVar

import httpx2
from pydantic import ConfigDict, Field, SecretStr, ValidationError, field_validator

from providers.errors import InvalidRequestError, MissingApiKeyError
from providers.frozen import Frozen, describe_errors
from providers.protocols import ProtocolName
from providers.vendors import VendorProfile

#: Ten minutes: a long reasoning answer fits; a server trickling bytes forever does not.
DEFAULT_DEADLINE = 600.0
#: 32 MiB: far above any event a vendor sends (a whole image as base64 fits), far below harm.
DEFAULT_MAX_EVENT_BYTES = 32 * 1024 * 1024
#: 64 MiB: a non-streamed answer holds what a whole stream's events would, once.
DEFAULT_MAX_RESPONSE_BYTES = 64 * 1024 * 1024
#: Far above any parallel-call answer a model gives (vendors cap them at tens).
DEFAULT_MAX_TOOL_CALLS = 256
#: 64 Mi characters: a large generated file as arguments fits.
DEFAULT_MAX_HELD_CHARS = 64 * 1024 * 1024
_MAX_PORT = 65_535
_Settings = TypeVar("_Settings", bound="ProviderSettings")


def url_has_credentials(url: str) -> bool:
    """Whether `url` carries user information (`user:pass@`) before its host."""
    authority = url.partition("://")[2].split("/", 1)[0].split("?", 1)[0].split("#", 1)[0]
    return "@" in authority


def _printable_ascii(value: str) -> bool:
    """What an HTTP header value may hold without being refused by the HTTP client."""
    return value.isascii() and value.isprintable()


class ProviderSettings(Frozen):
    """What every provider needs to reach its vendor, bounded in time and memory.

    `http_client` is handed to the SDK unchanged: proxies, custom transports, tests.
    `timeout` bounds each read (and the wait for headers); `deadline` bounds the whole
    response, from sending the request to its last byte. `max_event_bytes` bounds one SSE event,
    `max_response_bytes` one non-streamed answer.
    """

    # Errors never repeat the input: a rejected key must not appear in the message.
    model_config = ConfigDict(arbitrary_types_allowed=True, hide_input_in_errors=True)

    base_url: str
    api_key: SecretStr
    model: str = Field(min_length=1)
    timeout: float = Field(default=60.0, gt=0, allow_inf_nan=False)
    deadline: float = Field(default=DEFAULT_DEADLINE, gt=0, allow_inf_nan=False)
    max_event_bytes: int = Field(default=DEFAULT_MAX_EVENT_BYTES, gt=0)
    #: The whole body of a non-streamed answer (`complete()`), which is read before parsing.
    max_response_bytes: int = Field(default=DEFAULT_MAX_RESPONSE_BYTES, gt=0)
    max_retries: int = Field(default=2, ge=0)
    #: Tool calls in one answer, and characters held for one answer (tool-call arguments,
    #: kept whole until each call ends, plus text held while a tool block is open): a vendor
    #: sending without end cannot grow memory past these, whatever its events' sizes.
    max_tool_calls: int = Field(default=DEFAULT_MAX_TOOL_CALLS, gt=0)
    max_held_chars: int = Field(default=DEFAULT_MAX_HELD_CHARS, gt=0)
    # Headers may carry credentials of their own (x-goog-api-key): never in a repr or a dump.
    extra_headers: dict[str, str] = Field(default_factory=dict, repr=False, exclude=True)
    http_client: httpx2.AsyncClient | None = Field(default=None, repr=False, exclude=True)

    @field_validator("base_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if url_has_credentials(value):
            # Never repeated: it holds a password. httpx would send it as Basic auth.
            raise ValueError(
                "base_url holds a user name or password (user:pass@host): pass the key as "
                "api_key= and any other credential in extra_headers="
            )
        if not value.startswith(("http://", "https://")):
            shown = value if len(value) <= 80 else value[:80] + "..."
            raise ValueError(f"base_url must start with http:// or https://, got {shown!r}")
        try:
            url = httpx2.URL(value)
        except httpx2.InvalidURL as exc:
            raise ValueError(f"base_url is not a URL: {exc}") from None
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


def vendor_settings(
    settings: type[_Settings],
    profile: VendorProfile,
    protocol: ProtocolName,
    *,
    api_key: str | SecretStr | None,
    model: str | None,
    base_url: str | None,
    overrides: dict[str, Any],
) -> _Settings:
    """The config for a vendor's profile, which must speak `protocol`.

    The profile's defaults fill only what was not given: an empty `model` or `base_url` is
    refused, never replaced. Bad settings are one typed error naming each.
    """
    name = profile.name
    if profile.protocol != protocol:
        raise InvalidRequestError(
            f"{name} speaks {profile.protocol}, not {protocol}: build it with "
            "providers.from_vendor()",
            provider=name,
        )
    try:
        return settings.model_validate(
            {
                "profile": profile,
                "api_key": _api_key(profile, api_key),
                "base_url": profile.base_url if base_url is None else base_url,
                "model": profile.default_model if model is None else model,
                **overrides,
            }
        )
    except ValidationError as exc:
        raise InvalidRequestError(
            f"bad settings for {name}: {describe_errors(exc)}", provider=name
        ) from None


def _api_key(profile: VendorProfile, api_key: str | SecretStr | None) -> SecretStr:
    """The key given, else the profile's environment variable, else its keyless default."""
    if api_key is None:
        api_key = os.environ.get(profile.api_key_env or "") or profile.default_api_key
    if not api_key:
        raise MissingApiKeyError(profile.name, profile.api_key_env)
    return api_key if isinstance(api_key, SecretStr) else SecretStr(api_key)
