"""The `openai` SDK client as every protocol served through it uses it, and its error classes.

The SDK would fill gaps from OPENAI_* environment variables and send what it read to any base
URL; only the vendor's profile and the config decide what is sent here, so another vendor
never receives OpenAI's account ids or custom headers. Chat Completions and Responses both
build their client here; neither protocol's package imports the other's.
"""

from __future__ import annotations

import openai
from openai._models import SecurityOptions
from openai._types import Headers

from providers.body import cap_bodies
from providers.deadline_retry import RetriesWithinDeadline
from providers.error_mapping import SdkErrors
from providers.settings import ProviderSettings
from providers.vendors import VendorProfile

SDK_ERRORS = SdkErrors(
    base=openai.OpenAIError,
    status=openai.APIStatusError,
    timeout=openai.APITimeoutError,
    connection=openai.APIConnectionError,
)
#: Where the SDK logs at DEBUG (request options, retries).
SDK_LOGGER = "openai._base_client"


class DeadlineOpenAI(RetriesWithinDeadline, openai.AsyncOpenAI):
    """The SDK client, retrying only within the call's deadline."""


def _key_header_client(header: str) -> type[openai.AsyncOpenAI]:
    """An SDK client sending the bare key in `header` (Azure: `api-key`) instead of a bearer
    token, as the SDK's own Azure client does, for any profile that names such a header."""

    class KeyHeaderClient(DeadlineOpenAI):
        def _auth_headers(self, security: SecurityOptions) -> dict[str, str]:
            return {header: self.api_key} if self.api_key else {}

        def _validate_headers(self, headers: Headers, custom_headers: Headers) -> None:
            if header not in headers:
                raise TypeError(f"no {header} header: the provider was built without a key")

    return KeyHeaderClient


def sdk_client(config: ProviderSettings, profile: VendorProfile) -> openai.AsyncOpenAI:
    """The SDK client, holding only what the config and this vendor's profile say.

    The SDK reads OPENAI_CUSTOM_HEADERS, OPENAI_ORG_ID, OPENAI_PROJECT_ID, OPENAI_ADMIN_KEY and
    OPENAI_WEBHOOK_SECRET from the environment and would send what it read to any base URL.
    Headers come from `extra_headers` alone; account ids only where the profile allows them.
    (OPENAI_API_KEY and OPENAI_BASE_URL are never read: both are always passed.)
    """
    header = profile.request.auth_header
    sdk = DeadlineOpenAI if header.lower() == "authorization" else _key_header_client(header)
    client = sdk(
        api_key=config.api_key.get_secret_value(),
        base_url=config.base_url,
        timeout=config.timeout,
        max_retries=config.max_retries,
        default_headers=config.extra_headers or None,
        default_query=dict(profile.request.query_params) or None,
        http_client=config.http_client,
    )
    if config.http_client is None:
        cap_bodies(client._client, config.max_response_bytes, profile.name)
    client._custom_headers = dict(config.extra_headers)
    client._ambient_authorizations = frozenset()
    client.admin_api_key = None
    client.webhook_secret = None
    if not profile.request.openai_account_headers:
        client.organization = None
        client.project = None
    return client
