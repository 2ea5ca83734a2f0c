"""AnthropicProvider: Anthropic's own Messages API, in the same event grammar as every vendor.

The `anthropic` SDK sends the request (auth, retries, status errors); we read the SSE body
ourselves and feed each event to the Messages event reader, which drives the shared block
assembler. `complete()` reads the non-streamed Message through the same reader.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import anthropic

from providers.anthropic.config import AnthropicConfig
from providers.anthropic.events import MessagesEventReader, message_events
from providers.anthropic.request import MessagesRequestBuilder
from providers.body import cap_bodies
from providers.deadline_retry import RetriesWithinDeadline
from providers.error_mapping import SdkErrors
from providers.sdk_arguments import sdk_arguments
from providers.sdk_provider import SdkProvider
from providers.streaming import WireJson
from providers.streaming.response import response_from_events
from providers.types import (
    CompletionRequest,
    CompletionResponse,
    StreamEvent,
)

SDK_ERRORS = SdkErrors(
    base=anthropic.AnthropicError,
    status=anthropic.APIStatusError,
    timeout=anthropic.APITimeoutError,
    connection=anthropic.APIConnectionError,
)


class AnthropicProvider(SdkProvider[MessagesEventReader]):
    """An `LlmProvider` for the Anthropic Messages API (`/v1/messages`)."""

    #: Reads this protocol's events into the shared block assembler; a subclass may swap it.
    event_reader: type[MessagesEventReader] = MessagesEventReader

    protocol = "anthropic_messages"
    config_class = AnthropicConfig
    default_vendor = "anthropic"
    sdk_errors = SDK_ERRORS
    sdk_logger = "anthropic._base_client"
    answer_key = "content"
    endpoint = "an Anthropic Messages"
    end = "message_stop"

    def __init__(self, config: AnthropicConfig) -> None:
        super().__init__(config)
        self._client = _DeadlineAnthropic(
            api_key=config.api_key.get_secret_value(),
            base_url=config.base_url,
            timeout=config.timeout,
            max_retries=config.max_retries,
            http_client=config.http_client,
        )
        if config.http_client is None:
            cap_bodies(self._client._client, config.max_response_bytes, self.name)
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

    # -- LlmProvider --------------------------------------------------------------------------

    async def complete(self, request: CompletionRequest) -> CompletionResponse:
        body = self._builder.body(request, stream=False)

        headers, answer = await self._exchange.answer(
            lambda: self._client.messages.with_streaming_response.create(
                **sdk_arguments(body, _SDK_ARGUMENTS)
            )
        )
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

    # -- internals ----------------------------------------------------------------------------

    def _reader(self, request: CompletionRequest) -> MessagesEventReader:
        return self.event_reader(self._profile, self._errors, self._assembler(request))

    def _stream(
        self, body: dict[str, Any], reader: MessagesEventReader
    ) -> AsyncIterator[StreamEvent]:
        return self._exchange.stream(
            lambda: self._client.messages.with_streaming_response.create(
                **sdk_arguments(body, _SDK_ARGUMENTS)
            ),
            model=body["model"],
            reader=reader,
        )


class _DeadlineAnthropic(RetriesWithinDeadline, anthropic.AsyncAnthropic):
    """The SDK client, retrying only within the call's deadline."""


#: Body fields every SDK release takes as typed arguments (recent ones have no `temperature`).
_SDK_ARGUMENTS = ("model", "max_tokens", "messages", "stream")
