"""OpenAiResponsesProvider: OpenAI's Responses API, in the same event grammar as every vendor.

The `openai` SDK sends the request (auth, retries, status errors) through the same shielded
client as Chat Completions; we read the SSE body ourselves and feed each event to the
Responses event reader, which drives the shared block assembler. `complete()` reads the
non-streamed Response through the same reader.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from providers.openai_responses.config import OpenAiResponsesConfig
from providers.openai_responses.events import ResponsesEventReader, response_events
from providers.openai_responses.request import ResponsesRequestBuilder
from providers.openai_sdk import SDK_ERRORS, SDK_LOGGER, sdk_client
from providers.sdk_provider import SdkProvider
from providers.streaming import WireJson
from providers.streaming.response import response_from_events
from providers.types import CompletionRequest, CompletionResponse, StreamEvent


class OpenAiResponsesProvider(SdkProvider[ResponsesEventReader]):
    """An `LlmProvider` for the Responses API (`/responses`) of OpenAI and the servers that
    speak it."""

    #: Reads this protocol's events into the shared block assembler; a subclass may swap it.
    event_reader: type[ResponsesEventReader] = ResponsesEventReader

    protocol = "openai_responses"
    config_class = OpenAiResponsesConfig
    default_vendor = "openai_responses"
    sdk_errors = SDK_ERRORS
    sdk_logger = SDK_LOGGER
    answer_key = "output"
    endpoint = "a Responses API"
    end = "response.completed"
    # The protocol ends with response.completed and sends no sentinel; a server that adds
    # `[DONE]` anyway ends the body there.
    done = b"[DONE]"

    def __init__(self, config: OpenAiResponsesConfig) -> None:
        super().__init__(config)
        self._client = sdk_client(config, self._profile)
        self._builder = ResponsesRequestBuilder(
            self.name, config.model, self._profile.request, self._profile.capabilities
        )

    # -- LlmProvider --------------------------------------------------------------------------

    async def complete(self, request: CompletionRequest) -> CompletionResponse:
        body = self._builder.body(request, stream=False)

        headers, answer = await self._exchange.answer(
            lambda: self._client.responses.with_streaming_response.create(**body)
        )
        reader = self._reader(request)
        events = [
            event
            for response_event in response_events(answer, WireJson(self.name))
            for event in reader.feed(response_event)
        ]
        events.extend(reader.finish())
        answered = answer.get("model") if isinstance(answer, dict) else None
        model = answered if isinstance(answered, str) and answered else body["model"]
        return response_from_events(
            events, raw_model=model, request_id=self._errors.request_id(headers)
        )

    # -- internals ----------------------------------------------------------------------------

    def _reader(self, request: CompletionRequest) -> ResponsesEventReader:
        return self.event_reader(self._profile, self._errors, self._assembler(request))

    def _stream(
        self, body: dict[str, Any], reader: ResponsesEventReader
    ) -> AsyncIterator[StreamEvent]:
        return self._exchange.stream(
            lambda: self._client.responses.with_streaming_response.create(**body),
            model=body["model"],
            reader=reader,
        )
