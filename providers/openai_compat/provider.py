"""OpenAiCompatibleProvider: one implementation for every OpenAI-compatible endpoint.

The SDK sends the request (auth, retries, status errors); we read the body ourselves, so the
stream path costs a few microseconds a chunk instead of the SDK's ~70. The SDK would also fill
gaps from OPENAI_* environment variables; only the vendor's profile and the config decide what
is sent, so another vendor never receives OpenAI's account ids or custom headers.
"""

from __future__ import annotations

import os
import re
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Mapping
from contextlib import aclosing
from typing import Any, TypeVar

import httpx2
import jiter
import openai
from openai._models import SecurityOptions
from openai._types import Headers
from pydantic import SecretStr, ValidationError

from providers.body import Deadline, SseBody, proxy_page_error
from providers.errors import (
    InvalidRequestError,
    LlmError,
    MalformedResponseError,
    StreamTruncatedError,
)
from providers.openai_compat.chunks import ChatChunkReader
from providers.openai_compat.config import OpenAiCompatConfig
from providers.openai_compat.error_mapping import ErrorMapper
from providers.openai_compat.request import RequestBuilder, estimate_input_tokens
from providers.scrub import scrub_logs
from providers.sse import SseEvent
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
from providers.vendors import VendorProfile, load_profile

_DONE = b"[DONE]"
#: Where the SDK and its HTTP client log at DEBUG: response headers such as x-request-id.
_LIBRARY_LOGGERS = (
    "openai._base_client",
    "httpx2",
    "httpcore2.connection",
    "httpcore2.http11",
    "httpcore2.http2",
    "httpcore2.proxy",
)
_Result = TypeVar("_Result")
_CREDENTIAL_HEADER = re.compile(r"auth|key|token|secret|cookie|session|signature|password", re.I)


def _credential_values(headers: Mapping[str, str]) -> list[str]:
    """Header values that are credentials by their name (x-goog-api-key, cookie, ...): they
    are scrubbed like the key; others ("x-title: MyApp") are left readable in messages."""
    return [value for name, value in headers.items() if _CREDENTIAL_HEADER.search(name)]


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


class OpenAiCompatibleProvider:
    """An `LlmProvider` for OpenAI, Gemini, Mistral, GLM, a Claude proxy, or any base URL."""

    #: Reads this protocol's chunks into the shared block assembler; a subclass may swap it.
    chunk_reader: type[ChatChunkReader] = ChatChunkReader

    def __init__(self, config: OpenAiCompatConfig) -> None:
        self._config = config
        self._profile = config.effective_profile()
        self._client = _sdk_client(config, self._profile)
        self._builder = RequestBuilder(
            config.provider_name, config.model, self._profile.request, config.capabilities
        )
        self._errors = ErrorMapper(
            config.provider_name,
            self._profile.errors,
            config.api_key_env or self._profile.api_key_env,
            config.api_key.get_secret_value(),
            also=_credential_values(config.extra_headers),
        )
        scrub_logs(self._errors.scrubber, _LIBRARY_LOGGERS)

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
                base_url=profile.base_url if base_url is None else base_url,
                api_key=api_key if isinstance(api_key, SecretStr) else SecretStr(api_key),
                model=profile.default_model if model is None else model,
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
        raw = await self._sdk_call(
            self._client.chat.completions.with_raw_response.create(**body),
            Deadline(self._config.deadline),
        )
        page = proxy_page_error(
            raw.headers, raw.content, provider=self.name, scrubber=self._errors.scrubber
        )
        if page is not None:
            raise page
        answer = self._parse(raw.content)
        if _is_error_body(answer):
            raise self._errors.from_error_body_over_200(answer, raw.headers)
        adapter = self._adapter(request)
        events = [*adapter.feed(answer), *adapter.finish()]
        # The model that answered: an alias may resolve to another name (xAI's grok-4-fast).
        answered = answer.get("model") if isinstance(answer, dict) else None
        model = answered if isinstance(answered, str) and answered else body["model"]
        return response_from_events(
            events, raw_model=model, request_id=self._errors.request_id(raw.headers)
        )

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

    async def _sdk_call(self, call: Awaitable[_Result], deadline: Deadline) -> _Result:
        """Await the SDK within the deadline; its errors become ours, with nothing chained.

        The SDK's exception holds the raw response body: raising outside the `except` keeps it
        out of `__context__`, where a traceback would print it.
        """
        error: LlmError
        try:
            async with deadline.guard():
                return await call
        except openai.OpenAIError as exc:
            error = self._errors.from_sdk(exc, timeout=self._config.timeout)
        except TimeoutError:
            error = deadline.before_connected(self.name)
        raise error

    async def _stream(
        self, body: dict[str, Any], adapter: ChatChunkReader
    ) -> AsyncIterator[StreamEvent]:
        deadline = Deadline(self._config.deadline)
        context = self._client.chat.completions.with_streaming_response.create(**body)
        response = await self._sdk_call(context.__aenter__(), deadline)
        failure: str | None = None
        try:
            reader = SseBody(
                response,
                provider=self.name,
                scrubber=self._errors.scrubber,
                deadline=deadline,
                max_event_bytes=self._config.max_event_bytes,
                json_answer=lambda answer: self._json_instead_of_events(answer, response.headers),
                undecodable=self._errors.undecodable,
            )
            try:
                await reader.check()
                yield Connected(
                    provider=self.name,
                    model=body["model"],
                    request_id=self._errors.request_id(response.headers),
                )
                async with aclosing(self._body_chunks(reader)) as chunks:
                    async for chunk in chunks:
                        for output in adapter.feed(chunk):
                            yield output
            except httpx2.TransportError as exc:
                failure = type(exc).__name__
            if failure is not None and not adapter.finished:
                raise StreamTruncatedError(
                    f"the connection failed mid-stream ({failure}) before a finish reason: the "
                    "answer is incomplete; retry the request",
                    provider=self.name,
                )
            for output in adapter.finish():
                yield output
        finally:
            deadline.close()
            await context.__aexit__(None, None, None)

    async def _body_chunks(self, reader: SseBody) -> AsyncGenerator[Any, None]:
        """Parsed chunks of the body, up to `[DONE]` or the end of the body."""
        async for event in reader.events():
            if event.data == _DONE:
                return
            yield self._chunk(event)
        tail = reader.tail()
        if tail is not None and tail.data != _DONE:
            yield self._tail_chunk(tail)

    def _json_instead_of_events(self, answer: Any, headers: Mapping[str, str]) -> LlmError:
        """A JSON body where an event stream was asked for: an error body, or a protocol slip."""
        if _is_error_body(answer):
            return self._errors.from_error_body_over_200(answer, headers)
        return MalformedResponseError(
            "the vendor answered a streaming request with one JSON document, not an event "
            "stream: check that base_url points at an OpenAI-compatible endpoint",
            provider=self.name,
        )

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
            pass
        raise StreamTruncatedError(
            "the body ended in the middle of an event: the answer is incomplete; retry the request",
            provider=self.name,
        )

    def _parse(self, data: bytes) -> Any:
        try:
            # Keys only: cached values would grow with every distinct string in a long stream.
            return jiter.from_json(data, cache_mode="keys")
        except ValueError:
            pass
        raise self._errors.not_json("a chunk", data)


def _is_error_body(answer: Any) -> bool:
    """An error body in any vendor's shape: a list of errors, or an object with `error`."""
    return isinstance(answer, list) or (
        isinstance(answer, dict) and "error" in answer and "choices" not in answer
    )
