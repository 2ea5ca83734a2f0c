"""Setting types shared by every provider's config, validated the same way everywhere."""

from __future__ import annotations

import os
from typing import Annotated

from pydantic import AfterValidator, SecretStr, ValidationError

from providers.errors import InvalidRequestError
from providers.vendors import VendorProfile


def _http_url(value: str) -> str:
    if not value.startswith(("http://", "https://")):
        raise ValueError(f"base_url must start with http:// or https://, got {value!r}")
    return value.rstrip("/")


#: An http(s) base URL, stored without a trailing slash.
BaseUrl = Annotated[str, AfterValidator(_http_url)]


def resolve_api_key(profile: VendorProfile, api_key: str | SecretStr | None) -> SecretStr:
    """The key given, else the profile's environment variable, else its keyless default."""
    if api_key is None:
        api_key = os.environ.get(profile.api_key_env or "") or profile.default_api_key
    if not api_key:
        raise InvalidRequestError(
            f"no API key for {profile.name}: set {profile.api_key_env} or pass api_key=",
            provider=profile.name,
        )
    return api_key if isinstance(api_key, SecretStr) else SecretStr(api_key)


def settings_error(name: str, exc: ValidationError) -> InvalidRequestError:
    """A config that does not validate, as one line naming each bad setting."""
    problems = "; ".join(f"{'.'.join(map(str, err['loc']))}: {err['msg']}" for err in exc.errors())
    return InvalidRequestError(f"bad settings for {name}: {problems}", provider=name)
