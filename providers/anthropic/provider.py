"""AnthropicProvider: Anthropic's own Messages API, in the same event grammar as every vendor.

The `anthropic` SDK sends the request (auth, retries, status errors); we read the SSE body
ourselves and feed each event to the Messages event reader, which drives the shared block
assembler. `complete()` reads the non-streamed Message through the same reader.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import aclosing
from typing import Any

import anthropic
import httpx2
from pydantic import SecretStr, ValidationError

from providers.anthropic.config import AnthropicConfig
from providers.anthropic.errors import from_sdk
from providers.anthropic.events import MessagesEventReader, message_events
from providers.anthropic.request import MessagesRequestBuilder
from providers.errors import InvalidRequestError, StreamTruncatedError
from providers.openai_compat.error_mapping import ErrorMapper
from providers.openai_compat.request import estimate_input_tokens
from providers.settings import resolve_api_key, settings_error
from providers.streaming import BlockAssembler, WireJson
from providers.streaming.body import json_events, parse_json
from providers.streaming.response import response_from_events
from providers.types import (
    CompletionRequest,
    CompletionResponse,
    Connected,
    ProviderCapabilities,
    StreamEvent,
    TokenCount,
)
from providers.vendors import VendorProfile, load_profile


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
        self._builder = MessagesRequestBuilder(
            self.name,
            config.model,
            self._profile.request,
            self._profile.capabilities,
            thinking_budget_tokens=config.thinking_budget_tokens,
        )
        self._errors = ErrorMapper(
            self.name, self._profile.errors, self._profile.api_key_env, secret
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
    ) -> AnthropicProvider:
        """As `from_vendor`, from a profile already loaded."""
        name = profile.name
        if profile.protocol != "anthropic_messages":
            raise InvalidRequestError(
                f"{name} speaks {profile.protocol}, not anthropic_messages: build it with "
                "providers.from_vendor()",
                provider=name,
            )
        try:
            config = AnthropicConfig(
                profile=profile,
                api_key=resolve_api_key(profile, api_key),
                base_url=base_url or profile.base_url,
                model=model or profile.default_model,
                **overrides,
            )
        except ValidationError as exc:
            raise settings_error(name, exc) from None
        return cls(config)

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
        try:
            raw = await self._client.messages.with_raw_response.create(**_sdk_arguments(body))
        except anthropic.AnthropicError as exc:
            raise from_sdk(self._errors, exc, timeout=self._config.timeout) from None
        reader = self._reader(request)
        parsed = parse_json(await raw.read(), provider=self.name, scrub=self._errors.scrub)
        events = [
            event
            for message_event in message_events(parsed, WireJson(self.name))
            for event in reader.feed(message_event)
        ]
        events.extend(reader.finish())
        return response_from_events(
            events, raw_model=body["model"], request_id=raw.headers.get("request-id")
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

    async def _stream(
        self, body: dict[str, Any], reader: MessagesEventReader
    ) -> AsyncIterator[StreamEvent]:
        try:
            context = self._client.messages.with_streaming_response.create(**_sdk_arguments(body))
            response = await context.__aenter__()
        except anthropic.AnthropicError as exc:
            raise from_sdk(self._errors, exc, timeout=self._config.timeout) from None
        try:
            yield Connected(
                provider=self.name,
                model=body["model"],
                request_id=response.headers.get("request-id"),
            )
            events = json_events(
                response.iter_bytes(), provider=self.name, scrub=self._errors.scrub
            )
            try:
                async with aclosing(events):
                    async for _name, data in events:
                        for output in reader.feed(data):
                            yield output
            except httpx2.TransportError as exc:
                if not reader.finished:
                    raise StreamTruncatedError(
                        f"the connection failed mid-stream ({type(exc).__name__}) before "
                        "message_stop: the answer is incomplete; retry the request",
                        provider=self.name,
                    ) from None
            for output in reader.finish():
                yield output
        finally:
            await context.__aexit__(None, None, None)


#: Body fields every SDK release takes as arguments; the rest travel as `extra_body`, so a
#: release that drops a typed parameter (recent ones have no `temperature`) still sends it.
_SDK_ARGUMENTS = ("model", "max_tokens", "messages", "stream")


def _sdk_arguments(body: dict[str, Any]) -> dict[str, Any]:
    arguments = {key: body[key] for key in _SDK_ARGUMENTS if key in body}
    extra = {key: value for key, value in body.items() if key not in _SDK_ARGUMENTS}
    return {**arguments, "extra_body": extra} if extra else arguments
