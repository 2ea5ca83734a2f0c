"""OpenAiCompatibleProvider: one implementation for every OpenAI-compatible endpoint.

The SDK sends the request (auth, retries, status errors); we read the body ourselves, so the
stream path costs a few microseconds a chunk instead of the SDK's ~70 (design section 11).
"""

from __future__ import annotations

import os
from collections.abc import AsyncGenerator, AsyncIterator
from contextlib import aclosing
from typing import Any, Protocol

import httpx2
import jiter
import openai
from pydantic import SecretStr, ValidationError

from providers.errors import InvalidRequestError, MalformedResponseError, StreamTruncatedError
from providers.openai_compat.chunks import ChatChunkReader
from providers.openai_compat.config import OpenAiCompatConfig
from providers.openai_compat.error_mapping import ErrorMapper
from providers.openai_compat.request import RequestBuilder, estimate_input_tokens
from providers.sse import SseDecoder, SseEvent
from providers.streaming import BlockAssembler
from providers.streaming.response import response_from_events
from providers.types import (
    CompletionRequest,
    CompletionResponse,
    Connected,
    ProviderCapabilities,
    StreamEvent,
    TokenCount,
)
from providers.vendors import load_profile

_DONE = b"[DONE]"


class _ByteBody(Protocol):
    """The part of the SDK's streaming response we read: its raw bytes."""

    def iter_bytes(self) -> AsyncIterator[bytes]: ...


class OpenAiCompatibleProvider:
    """An `LlmProvider` for OpenAI, Gemini, Mistral, GLM, a Claude proxy, or any base URL."""

    #: Reads this protocol's chunks into the shared block assembler; a subclass may swap it.
    chunk_reader: type[ChatChunkReader] = ChatChunkReader

    def __init__(self, config: OpenAiCompatConfig) -> None:
        self._config = config
        self._profile = config.effective_profile()
        secret = config.api_key.get_secret_value()
        self._client = openai.AsyncOpenAI(
            api_key=secret,
            base_url=config.base_url,
            timeout=config.timeout,
            max_retries=config.max_retries,
            default_headers=config.extra_headers or None,
            http_client=config.http_client,
        )
        if not self._profile.request.openai_account_headers:
            # The SDK reads these from the environment; another vendor must not receive them.
            self._client.organization = None
            self._client.project = None
        self._builder = RequestBuilder(
            config.provider_name, config.model, self._profile.request, config.capabilities
        )
        self._errors = ErrorMapper(
            config.provider_name,
            self._profile.errors,
            config.api_key_env or self._profile.api_key_env,
            secret,
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

        Other keyword arguments (`http_client`, `timeout`, `max_retries`, `extra_headers`)
        pass through to `OpenAiCompatConfig`.
        """
        profile = load_profile(name)
        if profile.protocol != "openai_chat":
            raise InvalidRequestError(
                f"{name} speaks {profile.protocol}, not OpenAI Chat Completions: build it with "
                "providers.from_vendor()",
                provider=name,
            )
        if api_key is None:
            api_key = os.environ.get(profile.api_key_env or "") or profile.default_api_key
        if not api_key:
            raise InvalidRequestError(
                f"no API key for {name}: set {profile.api_key_env} or pass api_key=",
                provider=name,
            )
        try:
            config = OpenAiCompatConfig(
                provider_name=profile.name,
                base_url=base_url or profile.base_url,
                api_key=api_key if isinstance(api_key, SecretStr) else SecretStr(api_key),
                model=model or profile.default_model,
                capabilities=profile.capabilities,
                profile=profile,
                api_key_env=profile.api_key_env,
                **overrides,
            )
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(map(str, err['loc']))}: {err['msg']}" for err in exc.errors()
            )
            raise InvalidRequestError(
                f"bad settings for {name}: {problems}", provider=name
            ) from None
        return cls(config)

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

    @property
    def name(self) -> str:
        return self._config.provider_name

    @property
    def model(self) -> str:
        return self._config.model

    @property
    def capabilities(self) -> ProviderCapabilities:
        return self._config.capabilities

    def __repr__(self) -> str:
        return (
            f"OpenAiCompatibleProvider(name={self.name!r}, model={self.model!r}, "
            f"base_url={self._config.base_url!r})"
        )

    def count_tokens(self, request: CompletionRequest) -> TokenCount:
        return estimate_input_tokens(request)

    async def complete(self, request: CompletionRequest) -> CompletionResponse:
        body = self._builder.body(request, stream=False)
        try:
            raw = await self._client.chat.completions.with_raw_response.create(**body)
        except openai.OpenAIError as exc:
            raise self._errors.from_sdk(exc, timeout=self._config.timeout) from None
        request_id = raw.headers.get("x-request-id")
        adapter = self._adapter(request)
        events = [*adapter.feed(self._parse(raw.content)), *adapter.finish()]
        return response_from_events(events, raw_model=body["model"], request_id=request_id)

    def stream(self, request: CompletionRequest) -> AsyncIterator[StreamEvent]:
        """Validate now (bad input raises before any network call); stream when iterated.

        Breaking out closes the HTTP response once the iterator is closed: use
        `contextlib.aclosing(provider.stream(...))` to close it at the `break` itself.
        """
        body = self._builder.body(request, stream=True)
        return self._stream(body, self._adapter(request))

    # -- internals ----------------------------------------------------------------------------

    def _adapter(self, request: CompletionRequest) -> ChatChunkReader:
        assembler = BlockAssembler(
            self.name,
            estimated_input_tokens=estimate_input_tokens(request).input_tokens,
            tool_calls_imply_tool_use=self._profile.wire.tool_calls_imply_tool_use,
        )
        return self.chunk_reader(self._profile, self._errors, assembler)

    async def _stream(
        self, body: dict[str, Any], adapter: ChatChunkReader
    ) -> AsyncIterator[StreamEvent]:
        try:
            context = self._client.chat.completions.with_streaming_response.create(**body)
            response = await context.__aenter__()
        except openai.OpenAIError as exc:
            raise self._errors.from_sdk(exc, timeout=self._config.timeout) from None
        try:
            yield Connected(
                provider=self.name,
                model=body["model"],
                request_id=response.headers.get("x-request-id"),
            )
            try:
                async with aclosing(self._body_chunks(response)) as chunks:
                    async for chunk in chunks:
                        for output in adapter.feed(chunk):
                            yield output
            except httpx2.TransportError as exc:
                if not adapter.finished:
                    raise StreamTruncatedError(
                        f"the connection failed mid-stream ({type(exc).__name__}) before a "
                        "finish reason: the answer is incomplete; retry the request",
                        provider=self.name,
                    ) from None
            for output in adapter.finish():
                yield output
        finally:
            await context.__aexit__(None, None, None)

    async def _body_chunks(self, response: _ByteBody) -> AsyncGenerator[Any, None]:
        """Parsed chunks of the body, up to `[DONE]` or the end of the body."""
        decoder = SseDecoder()
        async for data in response.iter_bytes():
            for event in decoder.feed(data):
                if event.data == _DONE:
                    return
                yield self._chunk(event)
        tail = decoder.finish()
        if tail is not None and tail.data != _DONE:
            yield self._tail_chunk(tail)

    def _chunk(self, event: SseEvent) -> Any:
        chunk = self._parse(event.data)
        if event.event == "error":
            # Groq-style: `event: error` then the payload, over HTTP 200.
            raise ChatChunkReader.error_event(self._errors, chunk)
        return chunk

    def _tail_chunk(self, tail: SseEvent) -> Any:
        """The body ended inside an event: whole JSON is kept, a cut one means truncation."""
        try:
            return self._chunk(tail)
        except MalformedResponseError:
            raise StreamTruncatedError(
                "the body ended in the middle of an event: the answer is incomplete; retry "
                "the request",
                provider=self.name,
            ) from None

    def _parse(self, data: bytes) -> Any:
        try:
            # Keys only: cached values would grow with every distinct string in a long stream.
            return jiter.from_json(data, cache_mode="keys")
        except ValueError:
            snippet = self._errors.scrub(data[:120].decode("utf-8", "replace"))
            raise MalformedResponseError(
                f"the vendor sent a chunk that is not JSON: {snippet!r}", provider=self.name
            ) from None
