"""OpenAiCompatibleProvider: one implementation for every OpenAI-compatible endpoint.

The SDK sends the request (auth, retries, status errors); we read the body ourselves, so the
stream path costs a few microseconds a chunk instead of the SDK's ~70. The SDK would also fill
gaps from OPENAI_* environment variables; only the vendor's profile and the config decide what
is sent, so another vendor never receives OpenAI's account ids or custom headers.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from typing import Any

import openai
from openai._models import SecurityOptions
from openai._types import Headers
from pydantic import SecretStr

from providers.error_mapping import SdkErrors
from providers.openai_compat.chunks import ChatChunkReader
from providers.openai_compat.config import OpenAiCompatConfig
from providers.openai_compat.request import RequestBuilder
from providers.sdk_provider import SdkProvider
from providers.settings import vendor_settings
from providers.streaming.response import response_from_events
from providers.types import (
    CompletionRequest,
    CompletionResponse,
    StreamEvent,
)
from providers.vendors import VendorProfile, load_profile

SDK_ERRORS = SdkErrors(
    base=openai.OpenAIError,
    status=openai.APIStatusError,
    timeout=openai.APITimeoutError,
    connection=openai.APIConnectionError,
)


def _key_header_client(header: str) -> type[openai.AsyncOpenAI]:
    """An SDK client sending the bare key in `header` (Azure: `api-key`) instead of a bearer
    token, as the SDK's own Azure client does, for any profile that names such a header."""

    class KeyHeaderClient(openai.AsyncOpenAI):
        def _auth_headers(self, security: SecurityOptions) -> dict[str, str]:
            return {header: self.api_key} if self.api_key else {}

        def _validate_headers(self, headers: Headers, custom_headers: Headers) -> None:
            if header not in headers:
                raise TypeError(f"no {header} header: the provider was built without a key")

    return KeyHeaderClient


def _sdk_client(config: OpenAiCompatConfig, profile: VendorProfile) -> openai.AsyncOpenAI:
    """The SDK client, holding only what the config and this vendor's profile say.

    The SDK reads OPENAI_CUSTOM_HEADERS, OPENAI_ORG_ID, OPENAI_PROJECT_ID, OPENAI_ADMIN_KEY and
    OPENAI_WEBHOOK_SECRET from the environment and would send what it read to any base URL.
    Headers come from `extra_headers` alone; account ids only where the profile allows them.
    (OPENAI_API_KEY and OPENAI_BASE_URL are never read: both are always passed.)
    """
    header = profile.request.auth_header
    sdk = openai.AsyncOpenAI if header.lower() == "authorization" else _key_header_client(header)
    client = sdk(
        api_key=config.api_key.get_secret_value(),
        base_url=config.base_url,
        timeout=config.timeout,
        max_retries=config.max_retries,
        default_headers=config.extra_headers or None,
        default_query=dict(profile.request.query_params) or None,
        http_client=config.http_client,
    )
    client._custom_headers = dict(config.extra_headers)
    client._ambient_authorizations = frozenset()
    client.admin_api_key = None
    client.webhook_secret = None
    if not profile.request.openai_account_headers:
        client.organization = None
        client.project = None
    return client


class OpenAiCompatibleProvider(SdkProvider[ChatChunkReader]):
    """An `LlmProvider` for OpenAI, Gemini, Mistral, GLM, a Claude proxy, or any base URL."""

    #: Reads this protocol's chunks into the shared block assembler; a subclass may swap it.
    chunk_reader: type[ChatChunkReader] = ChatChunkReader

    def __init__(self, config: OpenAiCompatConfig) -> None:
        profile = config.effective_profile()
        super().__init__(
            config,
            profile,
            sdk=SDK_ERRORS,
            sdk_logger="openai._base_client",
            answer_key="choices",
            endpoint="an OpenAI-compatible",
            end="a finish reason",
            done=b"[DONE]",
        )
        self._client = _sdk_client(config, profile)
        self._builder = RequestBuilder(
            self.name, config.model, profile.request, profile.capabilities
        )

    # -- construction -------------------------------------------------------------------------

    @classmethod
    def from_vendor(
        cls,
        name: str,
        *,
        api_key: str | SecretStr | None = None,
        model: str | None = None,
        base_url: str | None = None,
        **overrides: Any,
    ) -> OpenAiCompatibleProvider:
        """Build from a bundled profile; the key defaults to the profile's environment variable.

        Other keyword arguments (`http_client`, `timeout`, `deadline`, `max_event_bytes`,
        `max_retries`, `extra_headers`) pass through to `OpenAiCompatConfig`. An empty `model`
        or `base_url` is refused, never replaced by the profile's default.
        """
        return cls.from_profile(
            load_profile(name), api_key=api_key, model=model, base_url=base_url, **overrides
        )

    @classmethod
    def from_profile(
        cls,
        profile: VendorProfile,
        *,
        api_key: str | SecretStr | None = None,
        model: str | None = None,
        base_url: str | None = None,
        **overrides: Any,
    ) -> OpenAiCompatibleProvider:
        """As `from_vendor`, from a profile already loaded (or made for one endpoint)."""
        return cls(
            vendor_settings(
                OpenAiCompatConfig,
                profile,
                "openai_chat",
                api_key=api_key,
                model=model,
                base_url=base_url,
                overrides=overrides,
            )
        )

    @classmethod
    def openai(
        cls, api_key: str | SecretStr | None = None, model: str | None = None, **overrides: Any
    ) -> OpenAiCompatibleProvider:
        return cls.from_vendor("openai", api_key=api_key, model=model, **overrides)

    @classmethod
    def gemini(
        cls, api_key: str | SecretStr | None = None, model: str | None = None, **overrides: Any
    ) -> OpenAiCompatibleProvider:
        return cls.from_vendor("gemini", api_key=api_key, model=model, **overrides)

    @classmethod
    def mistral(
        cls, api_key: str | SecretStr | None = None, model: str | None = None, **overrides: Any
    ) -> OpenAiCompatibleProvider:
        return cls.from_vendor("mistral", api_key=api_key, model=model, **overrides)

    @classmethod
    def glm(
        cls, api_key: str | SecretStr | None = None, model: str | None = None, **overrides: Any
    ) -> OpenAiCompatibleProvider:
        return cls.from_vendor("glm", api_key=api_key, model=model, **overrides)

    @classmethod
    def claude_subscription(
        cls, model: str | None = None, **overrides: Any
    ) -> OpenAiCompatibleProvider:
        """EXPERIMENTAL: a local claude-max-api-proxy on port 3456.

        Using a consumer subscription through a proxy may break the vendor's terms of service;
        check them before you rely on this.
        """
        return cls.from_vendor("claude_subscription", model=model, **overrides)

    # -- LlmProvider --------------------------------------------------------------------------

    async def complete(self, request: CompletionRequest) -> CompletionResponse:
        body = self._builder.body(request, stream=False)

        async def call() -> tuple[Mapping[str, str], bytes]:
            raw = await self._client.chat.completions.with_raw_response.create(**body)
            return raw.headers, raw.content

        headers, answer = await self._exchange.answer(call)
        adapter = self._reader(request)
        events = [*adapter.feed(answer), *adapter.finish()]
        # The model that answered: an alias may resolve to another name (xAI's grok-4-fast).
        answered = answer.get("model") if isinstance(answer, dict) else None
        model = answered if isinstance(answered, str) and answered else body["model"]
        return response_from_events(
            events, raw_model=model, request_id=self._errors.request_id(headers)
        )

    # -- internals ----------------------------------------------------------------------------

    def _reader(self, request: CompletionRequest) -> ChatChunkReader:
        return self.chunk_reader(self._profile, self._errors, self._assembler(request))

    def _stream(self, body: dict[str, Any], adapter: ChatChunkReader) -> AsyncIterator[StreamEvent]:
        def feed(name: str, chunk: Any) -> list[StreamEvent]:
            if name == "error":
                # Groq-style: `event: error` then the payload, over HTTP 200.
                raise ChatChunkReader.error_event(self._errors, chunk)
            return adapter.feed(chunk)

        return self._exchange.stream(
            lambda: self._client.chat.completions.with_streaming_response.create(**body),
            model=body["model"],
            reader=adapter,
            feed=feed,
        )
