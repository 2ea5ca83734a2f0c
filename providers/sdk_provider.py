"""What every provider shares whose vendor SDK sends the request and whose body we read.

A protocol's provider subclasses `SdkProvider` and adds only what is its own: the SDK client,
the request builder, the chunk reader and how one SDK call is made, with class attributes
saying what its answers look like. Construction from a vendor profile, error mapping,
scrubbing (of messages and of the SDK's logs), the exchange and the LlmProvider basics are set
up here once, so no protocol can miss one. Nothing here knows any protocol.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import AsyncIterator
from typing import Any, ClassVar, Generic, Self, TypeVar

from pydantic import SecretStr

from providers.error_mapping import ErrorMapper, SdkErrors
from providers.exchange import SdkExchange
from providers.profiled_settings import ProfiledSettings
from providers.protocols import ProtocolName
from providers.request_checks import RequestBuilder
from providers.scrub import credential_values, scrub_logs
from providers.settings import vendor_settings
from providers.streaming import BlockAssembler, ChunkReader
from providers.token_estimate import estimate_input_tokens
from providers.types import CompletionRequest, ProviderCapabilities, StreamEvent, TokenCount
from providers.vendors import VendorProfile, load_profile

#: Where the HTTP client under both SDKs logs at DEBUG (response headers, connection errors).
_HTTP_LOGGERS = (
    "httpx2",
    "httpcore2.connection",
    "httpcore2.http11",
    "httpcore2.http2",
    "httpcore2.proxy",
)


_Reader = TypeVar("_Reader", bound=ChunkReader)


class SdkProvider(ABC, Generic[_Reader]):
    """The protocol-neutral half of a provider; the class attributes are the subclass's."""

    #: The registered protocol this provider speaks, and its config class.
    protocol: ClassVar[ProtocolName]
    config_class: ClassVar[type[ProfiledSettings]]
    #: The profile `from_vendor()` reads when no vendor is named, if any.
    default_vendor: ClassVar[str | None] = None
    #: The SDK's exception classes, and the logger where it logs at DEBUG.
    sdk_errors: ClassVar[SdkErrors]
    sdk_logger: ClassVar[str]
    #: A field every answer has and no error body; the API named in hints ("an
    #: OpenAI-compatible"); what ends a stream normally; the data ending it early, if any.
    answer_key: ClassVar[str]
    endpoint: ClassVar[str]
    end: ClassVar[str]
    done: ClassVar[bytes | None] = None

    #: Set by the subclass: its protocol's request body, checked before anything is sent.
    _builder: RequestBuilder

    def __init__(self, config: ProfiledSettings) -> None:
        profile = config.effective_profile()
        self._settings = config
        self._profile = profile
        self._errors = ErrorMapper(
            profile.name,
            profile.errors,
            profile.api_key_env,
            config.api_key.get_secret_value(),
            sdk=self.sdk_errors,
            also=credential_values(config.extra_headers),
        )
        scrub_logs(self._errors.scrubber, (self.sdk_logger, *_HTTP_LOGGERS))
        self._exchange = SdkExchange(
            config,
            self._errors,
            answer_key=self.answer_key,
            endpoint=self.endpoint,
            end=self.end,
            done=self.done,
        )

    # -- construction -------------------------------------------------------------------------

    @classmethod
    def from_vendor(
        cls,
        name: str | None = None,
        *,
        api_key: str | SecretStr | None = None,
        model: str | None = None,
        base_url: str | None = None,
        **overrides: Any,
    ) -> Self:
        """Build from a bundled profile; the key defaults to the profile's environment variable.

        Other keyword arguments (`http_client`, `timeout`, `deadline`, `max_event_bytes`,
        `max_retries`, `extra_headers`, and the protocol's own) pass through to the config. An
        empty `model` or `base_url` is refused, never replaced by the profile's default.
        """
        vendor = name or cls.default_vendor
        if vendor is None:
            raise TypeError(f"{cls.__name__}.from_vendor() needs a vendor name")
        return cls.from_profile(
            load_profile(vendor), api_key=api_key, model=model, base_url=base_url, **overrides
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
    ) -> Self:
        """As `from_vendor`, from a profile already loaded (or made for one endpoint)."""
        return cls(
            vendor_settings(
                cls.config_class,
                profile,
                cls.protocol,
                api_key=api_key,
                model=model,
                base_url=base_url,
                overrides=overrides,
            )
        )

    # -- LlmProvider --------------------------------------------------------------------------

    @property
    def name(self) -> str:
        return self._profile.name

    @property
    def model(self) -> str:
        return self._settings.model

    @property
    def capabilities(self) -> ProviderCapabilities:
        return self._profile.capabilities

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(name={self.name!r}, model={self.model!r}, "
            f"base_url={self._settings.base_url!r})"
        )

    def count_tokens(self, request: CompletionRequest) -> TokenCount:
        return estimate_input_tokens(request)

    def stream(self, request: CompletionRequest) -> AsyncIterator[StreamEvent]:
        """Validate now (bad input raises before any network call); stream when iterated.

        Breaking out closes the HTTP response once the iterator is closed: use
        `contextlib.aclosing(provider.stream(...))` to close it at the `break` itself.
        """
        body = self._builder.body(request, stream=True)
        return self._stream(body, self._reader(request))

    @abstractmethod
    def _reader(self, request: CompletionRequest) -> _Reader:
        """A fresh chunk reader for one response to `request`."""

    @abstractmethod
    def _stream(self, body: dict[str, Any], reader: _Reader) -> AsyncIterator[StreamEvent]:
        """Send `body` through the SDK and feed the streamed events to `reader`."""

    def _assembler(self, request: CompletionRequest) -> BlockAssembler:
        """A fresh block assembler for one response to `request`."""
        return BlockAssembler(
            self.name,
            estimated_input_tokens=estimate_input_tokens(request).input_tokens,
            tool_calls_imply_tool_use=self._profile.wire.tool_calls_imply_tool_use,
        )
