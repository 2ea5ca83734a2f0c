"""What every provider shares whose vendor SDK sends the request and whose body we read.

A protocol's provider subclasses `SdkProvider` and adds only what is its own: the SDK client,
the request builder, the chunk reader and how one SDK call is made. Error mapping, scrubbing
(of messages and of the SDK's logs), the exchange and the LlmProvider basics are set up here
once, so no protocol can miss one.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import AsyncIterator
from typing import Any, Generic, TypeVar

from providers.error_mapping import ErrorMapper, SdkErrors
from providers.exchange import Exchange
from providers.openai_compat.request import RequestBuilder, estimate_input_tokens
from providers.scrub import credential_values, scrub_logs
from providers.settings import ProviderSettings
from providers.streaming import BlockAssembler, ChunkReader
from providers.types import CompletionRequest, ProviderCapabilities, StreamEvent, TokenCount
from providers.vendors import VendorProfile

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
    """The protocol-neutral half of a provider. `sdk_logger` is where the SDK logs at DEBUG;
    the keyword arguments after it describe the protocol's answers to `Exchange`."""

    #: Set by the subclass: its protocol's request body, checked before anything is sent.
    _builder: RequestBuilder

    def __init__(
        self,
        config: ProviderSettings,
        profile: VendorProfile,
        *,
        sdk: SdkErrors,
        sdk_logger: str,
        answer_key: str,
        endpoint: str,
        end: str,
        done: bytes | None = None,
    ) -> None:
        self._settings = config
        self._profile = profile
        self._errors = ErrorMapper(
            profile.name,
            profile.errors,
            profile.api_key_env,
            config.api_key.get_secret_value(),
            sdk=sdk,
            also=credential_values(config.extra_headers),
        )
        scrub_logs(self._errors.scrubber, (sdk_logger, *_HTTP_LOGGERS))
        self._exchange = Exchange(
            config, self._errors, answer_key=answer_key, endpoint=endpoint, end=end, done=done
        )

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
