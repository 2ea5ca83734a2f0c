"""Realistic defects that only the bytes on the wire can show, each modelled on a linked bug
report: a small independent provider (`tiny_provider.TinyProvider`) or our provider with a
broken chunk reader plugged in through its public `chunk_reader` seam, run against the
vendor's replica. `clause` is the one clause each must fail."""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator, Callable
from typing import Any, ClassVar

import httpx2
from defects import Broken, wrapping_ours
from pydantic import SecretStr
from tiny_provider import TinyProvider

from contracts.cli import bundled_factory
from providers import OpenAiCompatibleProvider, errors
from providers.openai_compat.chunks import ChatChunkReader
from providers.types import (
    AssistantMessage,
    CompletionRequest,
    CompletionResponse,
    ImagePart,
    JsonObjectFormat,
    LlmProvider,
    ResponseFormat,
    StreamEvent,
    ThinkingBlock,
    UserMessage,
)
from providers.vendors import load_profile


class WireDefect:
    """What each wire defect declares: the clause it breaks, the vendor whose replica shows
    it, how to build the broken provider, and the same provider without the defect."""

    clause: ClassVar[str]
    vendor: ClassVar[str]

    @classmethod
    def healthy(cls, base_url: str, key: SecretStr) -> LlmProvider:
        return bundled_factory(load_profile(cls.vendor))(base_url, key)

    @classmethod
    def build(cls, base_url: str, key: SecretStr) -> LlmProvider:
        raise NotImplementedError


class IndependentDefect(WireDefect):
    """An independent provider (mixed in before this class) with one defect: the defect is
    the class itself; without it, `independent`, the provider it changes."""

    independent: ClassVar[Callable[[str, SecretStr], LlmProvider]]

    @classmethod
    def build(cls, base_url: str, key: SecretStr) -> LlmProvider:
        provider: LlmProvider = cls(base_url, key)  # type: ignore[call-arg]
        return provider

    @classmethod
    def healthy(cls, base_url: str, key: SecretStr) -> LlmProvider:
        return cls.independent(base_url, key)


class _TinyDefect(TinyProvider, IndependentDefect):
    """The small independent provider, with one defect; without it, plain TinyProvider."""

    vendor = "openai"
    independent = TinyProvider


class DecodesEachReadOnItsOwn(_TinyDefect):
    """Each network read is decoded as UTF-8 by itself, so a character split across two reads
    turns into replacement characters. From
    https://github.com/sourcegraph/sourcegraph-public-snapshot/pull/50718."""

    clause = "text.fidelity"
    vendor = "openai"

    async def _lines(self, response: httpx2.Response) -> AsyncIterator[str]:  # type: ignore[override]
        pending = ""
        async for read in response.aiter_bytes():
            pending += read.decode("utf-8", "replace")
            *lines, pending = pending.split("\n")
            for line in lines:
                yield line
        if pending:
            yield pending


class NeverAsksForStreamUsage(_TinyDefect):
    """Streams without `stream_options.include_usage`, so a vendor that reports usage only
    when asked reports none. From https://github.com/NorthlandPositronics/Cogtrix/issues/2376."""

    clause = "request.shape"
    vendor = "openai"

    def _body(self, request: CompletionRequest, stream: bool) -> dict[str, Any]:
        body = super()._body(request, stream)
        body.pop("stream_options", None)
        return body


class _ReaderDefect(WireDefect):
    reader: ClassVar[type[ChatChunkReader]]

    @classmethod
    def build(cls, base_url: str, key: SecretStr) -> LlmProvider:
        provider = type(cls.__name__, (OpenAiCompatibleProvider,), {"chunk_reader": cls.reader})
        return provider.from_vendor(cls.vendor, api_key=key, base_url=base_url, max_retries=0)


class _SumsUsage(ChatChunkReader):
    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.totals = {"prompt_tokens": 0, "completion_tokens": 0}

    def feed(self, chunk: Any) -> list[StreamEvent]:
        usage = chunk.get("usage") if isinstance(chunk, dict) else None
        if isinstance(usage, dict):
            for name in self.totals:
                self.totals[name] += usage.get(name) or 0
            chunk = {**chunk, "usage": {**usage, **self.totals}}
        return super().feed(chunk)


class SumsRepeatedUsage(_ReaderDefect):
    """Usage reports are added up, though each is the running total (Gemini sends one on every
    chunk). From https://github.com/InsForge/InsForge/issues/2015."""

    clause = "usage.reported"
    vendor = "gemini"
    reader = _SumsUsage


class _IgnoresFinishChunkContent(ChatChunkReader):
    def feed(self, chunk: Any) -> list[StreamEvent]:
        chunk = copy.deepcopy(chunk)
        for choice in (chunk.get("choices") or []) if isinstance(chunk, dict) else []:
            if choice.get("finish_reason") and isinstance(choice.get("delta"), dict):
                choice["delta"].pop("content", None)
        return super().feed(chunk)


class IgnoresTextOnTheFinishChunk(_ReaderDefect):
    """The chunk that carries the finish reason is taken to be empty, so the text it carries
    is lost. From https://github.com/vllm-project/vllm/pull/36944."""

    clause = "text.fidelity"
    vendor = "vllm"
    reader = _IgnoresFinishChunkContent


class _WrapsOurs(Broken, WireDefect):
    """A wrapper around our provider for the vendor, run against the replica."""

    @classmethod
    def build(cls, base_url: str, key: SecretStr) -> LlmProvider:
        return wrapping_ours(cls, cls.vendor)(base_url, key)


class _Retries(_WrapsOurs):
    """Calls the wrapped provider again, right away, while it raises `retried`."""

    retried: ClassVar[type[Exception]]
    attempts: ClassVar[int]

    async def stream(self, request: CompletionRequest) -> AsyncIterator[StreamEvent]:
        for attempt in range(self.attempts):
            started = False
            try:
                async for event in self.inner.stream(request):
                    started = True
                    yield event
                return
            except self.retried:
                if started or attempt + 1 == self.attempts:
                    raise

    async def complete(self, request: CompletionRequest) -> CompletionResponse:
        for _ in range(self.attempts - 1):
            try:
                return await self.inner.complete(request)
            except self.retried:
                continue
        return await self.inner.complete(request)


class RetriesARejectedKey(_Retries):
    """A 401 is retried as if it were transient. From
    https://github.com/Gitlawb/openclaude/issues/1356 ("Retrying in 1 second… (attempt
    4/10)" on an invalid key)."""

    clause = "errors.authentication"
    vendor = "openai"
    retried = errors.AuthenticationError
    attempts = 4


class RetriesBeforeRetryAfter(_Retries):
    """A 429 is retried at once, whatever Retry-After said. From
    https://github.com/Lore-Hex/QuillCode/issues/852 (the backoff ignores Retry-After)."""

    clause = "errors.rate-limit"
    vendor = "openai"
    retried = errors.RateLimitError
    attempts = 2


# -- the request features: what a request carries, judged from the bytes the replica saw ------


class NamedAndRequiredChoicesSentAsAuto(_WrapsOurs):
    """Only `none` is honoured: a named or `required` tool choice goes out as `auto`, so the
    model calls whatever it likes. From https://github.com/jundot/omlx/issues/2877."""

    clause = "tools.choice"
    vendor = "openai"

    def request(self, request: CompletionRequest) -> CompletionRequest:
        if request.tool_choice in (None, "none", "auto"):
            return request
        return request.model_copy(update={"tool_choice": "auto"})


class RequiredChoiceDropped(_WrapsOurs):
    """`tool_choice: required` is accepted and dropped, so a model may answer in prose where
    a call was required. From https://github.com/ollama/ollama/issues/11171."""

    clause = "tools.choice"
    vendor = "anthropic"

    def request(self, request: CompletionRequest) -> CompletionRequest:
        if request.tool_choice != "required":
            return request
        return request.model_copy(update={"tool_choice": None})


class _JsonSchemaReplaced(_WrapsOurs):
    """A JSON-schema response format goes out as `sent_instead`; other formats as asked."""

    sent_instead: ClassVar[ResponseFormat | None]

    def request(self, request: CompletionRequest) -> CompletionRequest:
        wanted = request.response_format
        if wanted is None or wanted.type != "json_schema":
            return request
        return request.model_copy(update={"response_format": self.sent_instead})


class JsonSchemaDowngradedToJsonObject(_JsonSchemaReplaced):
    """A JSON-schema response format is sent as plain JSON mode, so nothing holds the answer
    to the schema. From https://github.com/decolua/9router/pull/1344."""

    clause = "structured.output"
    vendor = "openai"
    sent_instead = JsonObjectFormat()


class JsonSchemaNeverSentToTheResponsesApi(_JsonSchemaReplaced):
    """A JSON-schema format never reaches the Responses API's `text.format` (JSON mode still
    does). From https://github.com/elizaOS/eliza/issues/28168."""

    clause = "structured.output"
    vendor = "openai_responses"
    sent_instead = None


def _with_images(
    request: CompletionRequest, change: Callable[[tuple[ImagePart, ...]], tuple[ImagePart, ...]]
) -> CompletionRequest:
    """The request with each user message's image parts passed through `change`."""
    messages: list[Any] = []
    for message in request.messages:
        if isinstance(message, UserMessage) and isinstance(message.content, tuple):
            images = iter(change(message.images))
            kept = [
                part if not isinstance(part, ImagePart) else next(images, None)
                for part in message.content
            ]
            messages.append(message.model_copy(update={"content": tuple(p for p in kept if p)}))
        else:
            messages.append(message)
    return request.model_copy(update={"messages": tuple(messages)})


class InlinePngSentAsJpeg(_WrapsOurs):
    """Inline images are always labelled `image/jpeg`, whatever they are. From
    https://github.com/google-gemini/deprecated-generative-ai-swift/pull/61 (a PNG sent as
    image/jpeg)."""

    clause = "vision.input"
    vendor = "openai"

    def request(self, request: CompletionRequest) -> CompletionRequest:
        def as_jpeg(images: tuple[ImagePart, ...]) -> tuple[ImagePart, ...]:
            return tuple(
                i.model_copy(update={"media_type": "image/jpeg"}) if i.data else i for i in images
            )

        return _with_images(request, as_jpeg)


class ExtraImagesDropped(_WrapsOurs):
    """Only a message's first image is sent; the others are dropped without a word. From
    https://github.com/unslothai/unsloth/pull/9719."""

    clause = "vision.input"
    vendor = "anthropic"

    def request(self, request: CompletionRequest) -> CompletionRequest:
        return _with_images(request, lambda images: images[:1])


def _with_thinking(
    request: CompletionRequest, change: Callable[[ThinkingBlock], ThinkingBlock | None]
) -> CompletionRequest:
    """The request with each earlier answer's thinking blocks passed through `change`."""
    messages = tuple(
        message.model_copy(update={"thinking": tuple(filter(None, map(change, message.thinking)))})
        if isinstance(message, AssistantMessage)
        else message
        for message in request.messages
    )
    return request.model_copy(update={"messages": messages})


class SignedThinkingDroppedBetweenToolRounds(_WrapsOurs):
    """The signed and redacted thinking of the tool turn is not sent back, so Anthropic
    refuses the continuation. From https://github.com/langgenius/dify/issues/41092."""

    clause = "thinking.requested"
    vendor = "anthropic"

    def request(self, request: CompletionRequest) -> CompletionRequest:
        return _with_thinking(request, lambda block: None)


class SignatureDroppedFromThinking(_WrapsOurs):
    """Thinking is replayed as its text alone, its signature dropped (and redacted blocks,
    which are nothing but signed data, with it). From
    https://github.com/alibaba/open-code-review/issues/811."""

    clause = "thinking.requested"
    vendor = "anthropic"

    def request(self, request: CompletionRequest) -> CompletionRequest:
        def unsigned(block: ThinkingBlock) -> ThinkingBlock | None:
            return None if block.redacted_data else block.model_copy(update={"signature": None})

        return _with_thinking(request, unsigned)


WIRE_DEFECTS: list[type[WireDefect]] = [
    RetriesARejectedKey,
    RetriesBeforeRetryAfter,
    DecodesEachReadOnItsOwn,
    NeverAsksForStreamUsage,
    SumsRepeatedUsage,
    IgnoresTextOnTheFinishChunk,
    NamedAndRequiredChoicesSentAsAuto,
    RequiredChoiceDropped,
    JsonSchemaDowngradedToJsonObject,
    JsonSchemaNeverSentToTheResponsesApi,
    InlinePngSentAsJpeg,
    ExtraImagesDropped,
    SignedThinkingDroppedBetweenToolRounds,
    SignatureDroppedFromThinking,
]
