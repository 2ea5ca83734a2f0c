"""AnthropicProvider: Anthropic's own Messages API, in the same event grammar as every vendor.

The `anthropic` SDK sends the request (auth, retries, status errors); we read the SSE body
ourselves and feed each event to the Messages event reader, which drives the shared block
assembler. `complete()` reads the non-streamed Message through the same reader.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from typing import Any

import anthropic
from pydantic import SecretStr

from providers.anthropic.config import AnthropicConfig
from providers.anthropic.events import MessagesEventReader, message_events
from providers.anthropic.request import MessagesRequestBuilder
from providers.error_mapping import ErrorMapper, SdkErrors
from providers.exchange import Exchange
from providers.openai_compat.request import estimate_input_tokens
from providers.scrub import credential_values, scrub_logs
from providers.settings import profile_speaking, settings_from_profile
from providers.streaming import BlockAssembler, WireJson
from providers.streaming.response import response_from_events
from providers.types import (
    CompletionRequest,
    CompletionResponse,
    ProviderCapabilities,
    StreamEvent,
    TokenCount,
)

SDK_ERRORS = SdkErrors(
    base=anthropic.AnthropicError,
    status=anthropic.APIStatusError,
    timeout=anthropic.APITimeoutError,
    connection=anthropic.APIConnectionError,
)
#: Where the SDK and its HTTP client log at DEBUG: response headers such as request-id.
_LIBRARY_LOGGERS = (
    "anthropic._base_client",
    "httpx2",
    "httpcore2.connection",
    "httpcore2.http11",
    "httpcore2.http2",
    "httpcore2.proxy",
)


class AnthropicProvider:
    """An `LlmProvider` for the Anthropic Messages API (`/v1/messages`)."""

    #: Reads this protocol's events into the shared block assembler; a subclass may swap it.
    event_reader: type[MessagesEventReader] = MessagesEventReader

    def __init__(self, config: AnthropicConfig) -> None:
        self._config = config
        self._profile = config.profile
        secret = config.api_key.get_secret_value()
        self._client = anthropic.AsyncAnthropic(
            api_key=secret,
            base_url=config.base_url,
            timeout=config.timeout,
            max_retries=config.max_retries,
            http_client=config.http_client,
        )
        # The SDK adds ANTHROPIC_CUSTOM_HEADERS from the environment to every request; only
        # the config decides what is sent.
        self._client._custom_headers = dict(config.extra_headers)
        self._client.webhook_key = None
        self._builder = MessagesRequestBuilder(
            self.name,
            config.model,
            self._profile.request,
            self._profile.capabilities,
            thinking_budget_tokens=config.thinking_budget_tokens,
        )
        self._errors = ErrorMapper(
            self.name,
            self._profile.errors,
            self._profile.api_key_env,
            secret,
            sdk=SDK_ERRORS,
            also=credential_values(config.extra_headers),
        )
        scrub_logs(self._errors.scrubber, _LIBRARY_LOGGERS)
        self._exchange = Exchange(
            config,
            self._errors,
            answer_key="content",
            endpoint="an Anthropic Messages",
            end="message_stop",
        )

    @classmethod
    def from_vendor(
        cls,
        name: str = "anthropic",
        *,
        api_key: str | SecretStr | None = None,
        model: str | None = None,
        base_url: str | None = None,
        **overrides: Any,
    ) -> AnthropicProvider:
        """Build from a bundled profile; the key defaults to the profile's environment variable.

        Other keyword arguments (`http_client`, `timeout`, `max_retries`, `extra_headers`,
        `thinking_budget_tokens`) pass through to `AnthropicConfig`.
        """
        profile = profile_speaking(name, "anthropic_messages", "providers.from_vendor()")
        return cls(
            settings_from_profile(
                AnthropicConfig,
                profile,
                api_key=api_key,
                model=model,
                base_url=base_url,
                **overrides,
            )
        )

    # -- LlmProvider --------------------------------------------------------------------------

    @property
    def name(self) -> str:
        return self._profile.name

    @property
    def model(self) -> str:
        return self._config.model

    @property
    def capabilities(self) -> ProviderCapabilities:
        return self._profile.capabilities

    def __repr__(self) -> str:
        return (
            f"AnthropicProvider(name={self.name!r}, model={self.model!r}, "
            f"base_url={self._config.base_url!r})"
        )

    def count_tokens(self, request: CompletionRequest) -> TokenCount:
        return estimate_input_tokens(request)

    async def complete(self, request: CompletionRequest) -> CompletionResponse:
        body = self._builder.body(request, stream=False)

        async def call() -> tuple[Mapping[str, str], bytes]:
            raw = await self._client.messages.with_raw_response.create(**_sdk_arguments(body))
            return raw.headers, await raw.read()

        headers, answer = await self._exchange.answer(call)
        reader = self._reader(request)
        events = [
            event
            for message_event in message_events(answer, WireJson(self.name))
            for event in reader.feed(message_event)
        ]
        events.extend(reader.finish())
        return response_from_events(
            events, raw_model=body["model"], request_id=self._errors.request_id(headers)
        )

    def stream(self, request: CompletionRequest) -> AsyncIterator[StreamEvent]:
        """Validate now (bad input raises before any network call); stream when iterated.

        Breaking out closes the HTTP response once the iterator is closed: use
        `contextlib.aclosing(provider.stream(...))` to close it at the `break` itself.
        """
        body = self._builder.body(request, stream=True)
        return self._stream(body, self._reader(request))

    # -- internals ----------------------------------------------------------------------------

    def _reader(self, request: CompletionRequest) -> MessagesEventReader:
        assembler = BlockAssembler(
            self.name,
            estimated_input_tokens=estimate_input_tokens(request).input_tokens,
            tool_calls_imply_tool_use=self._profile.wire.tool_calls_imply_tool_use,
        )
        return self.event_reader(self._profile, self._errors, assembler)

    def _stream(
        self, body: dict[str, Any], reader: MessagesEventReader
    ) -> AsyncIterator[StreamEvent]:
        return self._exchange.stream(
            lambda: self._client.messages.with_streaming_response.create(**_sdk_arguments(body)),
            model=body["model"],
            reader=reader,
            # The event's name repeats its data's `type`, which the reader reads.
            feed=lambda _name, data: reader.feed(data),
        )


#: Body fields every SDK release takes as arguments; the rest travel as `extra_body`, so a
#: release that drops a typed parameter (recent ones have no `temperature`) still sends it.
_SDK_ARGUMENTS = ("model", "max_tokens", "messages", "stream")


def _sdk_arguments(body: dict[str, Any]) -> dict[str, Any]:
    arguments = {key: body[key] for key in _SDK_ARGUMENTS if key in body}
    extra = {key: value for key, value in body.items() if key not in _SDK_ARGUMENTS}
    return {**arguments, "extra_body": extra} if extra else arguments
