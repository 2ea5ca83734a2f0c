"""OpenAiCompatibleProvider: one implementation for every OpenAI-compatible endpoint.

The SDK sends the request (auth, retries, status errors); we read the body ourselves, so the
stream path costs a few microseconds a chunk instead of the SDK's ~70. The SDK client is the
shielded one of `providers.openai_sdk`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from pydantic import SecretStr

from providers.openai_compat.chunks import ChatChunkReader
from providers.openai_compat.config import OpenAiCompatConfig
from providers.openai_compat.request import ChatRequestBuilder
from providers.openai_sdk import SDK_ERRORS, SDK_LOGGER, sdk_client
from providers.sdk_arguments import sdk_arguments
from providers.sdk_provider import SdkProvider
from providers.streaming.response import response_from_events
from providers.types import (
    CompletionRequest,
    CompletionResponse,
    StreamEvent,
)


class OpenAiCompatibleProvider(SdkProvider[ChatChunkReader]):
    """An `LlmProvider` for OpenAI, Gemini, Mistral, GLM, a Claude proxy, or any base URL."""

    #: Reads this protocol's chunks into the shared block assembler; a subclass may swap it.
    chunk_reader: type[ChatChunkReader] = ChatChunkReader

    protocol = "openai_chat"
    config_class = OpenAiCompatConfig
    sdk_errors = SDK_ERRORS
    sdk_logger = SDK_LOGGER
    answer_key = "choices"
    endpoint = "an OpenAI-compatible"
    end = "a finish reason"
    done = b"[DONE]"

    def __init__(self, config: OpenAiCompatConfig) -> None:
        super().__init__(config)
        self._client = sdk_client(config, self._profile)
        self._builder = ChatRequestBuilder(
            self.name, config.model, self._profile.request, self._profile.capabilities
        )

    # -- construction -------------------------------------------------------------------------

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

        headers, answer = await self._exchange.answer(
            lambda: self._client.chat.completions.with_streaming_response.create(
                **sdk_arguments(body, _SDK_ARGUMENTS)
            )
        )
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
        return self._exchange.stream(
            lambda: self._client.chat.completions.with_streaming_response.create(
                **sdk_arguments(body, _SDK_ARGUMENTS)
            ),
            model=body["model"],
            reader=adapter,
        )


#: Body fields every SDK release takes as typed arguments; vendor fields go in extra_body.
_SDK_ARGUMENTS = ("model", "messages", "stream")
