"""A second, independent corpus of defects only the bytes on the wire can show, each modelled
on a linked bug report and none a variant of `on_the_wire.py`'s: an independent provider
(`tiny_provider`, `tiny_anthropic_provider`), our provider with a broken chunk reader, or our
provider behind a wrapper that changes what is sent, run against the vendor's replica."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx2
from on_the_wire import (
    IndependentDefect,
    WireDefect,
    _ReaderDefect,
    _Retries,
    _TinyDefect,
    _WrapsOurs,
)
from tiny_anthropic_provider import TinyAnthropicProvider
from tiny_provider import TinyProvider
from tiny_responses_provider import TinyResponsesProvider

from providers import errors
from providers.openai_compat.chunks import ChatChunkReader
from providers.types import (
    CompletionRequest,
    JsonSchemaFormat,
    StreamEvent,
    ThinkingConfig,
)

# -- usage -------------------------------------------------------------------------------------


class _KeepsTheFirstUsage(ChatChunkReader):
    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.seen = False

    def feed(self, chunk: Any) -> list[StreamEvent]:
        if isinstance(chunk, dict) and chunk.get("usage"):
            if self.seen:
                chunk = {key: value for key, value in chunk.items() if key != "usage"}
            self.seen = True
        return super().feed(chunk)


class KeepsTheFirstUsageReport(_ReaderDefect):
    """Only the first usage report is kept, though a vendor that reports on every chunk sends
    the running total: the output count stays at the first chunk's. From
    https://github.com/router-for-me/CLIProxyAPI/issues/4964 (an early usage report wins
    over the final one)."""

    clause = "usage.reported"
    vendor = "gemini"
    reader = _KeepsTheFirstUsage


# -- what is sent ------------------------------------------------------------------------------


class SystemPromptSentLast(_TinyDefect):
    """The system prompt is appended after the conversation instead of leading it. From
    https://github.com/langflow-ai/langflow/pull/3987."""

    clause = "request.shape"

    def _body(self, request: CompletionRequest, stream: bool) -> dict[str, Any]:
        body = super()._body(request, stream)
        system = [m for m in body["messages"] if m["role"] == "system"]
        body["messages"] = [m for m in body["messages"] if m["role"] != "system"] + system
        return body


class ExtraKeysAllowedByTheSchemaSent(_WrapsOurs):
    """The schema goes out with `additionalProperties: true` where the caller's says false,
    so a strict format no longer forbids extra keys. From
    https://github.com/openai/openai-python/pull/3805."""

    clause = "structured.output"
    vendor = "openai"

    def request(self, request: CompletionRequest) -> CompletionRequest:
        wanted = request.response_format
        if not isinstance(wanted, JsonSchemaFormat):
            return request
        loosened = {**wanted.json_schema, "additionalProperties": True}
        sent = wanted.model_copy(update={"json_schema": loosened})
        return request.model_copy(update={"response_format": sent})


class ReasoningEffortAlwaysMedium(_WrapsOurs):
    """Whatever effort is asked for, `medium` is sent. From
    https://github.com/tailcallhq/forgecode/issues/1479."""

    clause = "thinking.requested"
    vendor = "gemini"

    def request(self, request: CompletionRequest) -> CompletionRequest:
        if request.thinking is None or request.thinking.effort in (None, "none"):
            return request
        medium = ThinkingConfig(effort="medium", budget_tokens=request.thinking.budget_tokens)
        return request.model_copy(update={"thinking": medium})


# -- errors ------------------------------------------------------------------------------------


class RetriesAMissingModel(_Retries):
    """A 404 for a model that does not exist is retried. From
    https://github.com/diegosouzapw/OmniRoute/pull/6829 (a 404 retry storm)."""

    clause = "errors.model-not-found"
    vendor = "openai"
    retried = errors.ModelNotFoundError
    attempts = 3


class RetriesAnOversizedPrompt(_Retries):
    """A context-window rejection is retried unchanged, as if it were transient. From
    https://github.com/SWE-agent/mini-swe-agent/pull/923."""

    clause = "errors.context-length"
    vendor = "openai"
    retried = errors.ContextLengthError
    attempts = 3


class _Rewritten:
    """A response whose body lines pass through `rewrite` on their way to the reader."""

    def __init__(self, response: httpx2.Response, rewrite: Callable[[str], list[str]]) -> None:
        self._response = response
        self._rewrite = rewrite

    async def aiter_lines(self) -> AsyncIterator[str]:
        async for line in self._response.aiter_lines():
            for rewritten in self._rewrite(line):
                yield rewritten


def _payload(line: str) -> dict[str, Any]:
    """The JSON object a `data:` line carries, or {}."""
    try:
        found = json.loads(line.removeprefix("data:")) if line.startswith("data:") else {}
    except ValueError:
        return {}
    return found if isinstance(found, dict) else {}


class MidStreamErrorEventDropped(TinyAnthropicProvider, IndependentDefect):
    """Anthropic's in-stream `error` event (overloaded_error) has no branch in the reader and
    is skipped, so the stream just ends. From
    https://github.com/use-agent-os/agent-os/issues/2118."""

    clause = "errors.mid-stream"
    vendor = "anthropic"

    independent = TinyAnthropicProvider

    def _events(self, response: httpx2.Response) -> AsyncIterator[StreamEvent]:
        def without_errors(line: str) -> list[str]:
            return [] if _payload(line).get("type") == "error" else [line]

        return super()._events(_Rewritten(response, without_errors))  # type: ignore[arg-type]


class ErrorChunkSkipped(TinyProvider, IndependentDefect):
    """A chunk that carries `error` and no `choices` is skipped like an empty chunk, so the
    vendor's error never surfaces. From https://github.com/use-agent-os/agent-os/pull/2608.
    Certified through the pytest plugin, as a third party would (test_corpus.py)."""

    clause = "errors.mid-stream"
    vendor = "openai"

    independent = TinyProvider

    async def _lines(self, response: httpx2.Response) -> AsyncIterator[str]:  # type: ignore[override]
        async for line in response.aiter_lines():
            if not _payload(line).get("error"):
                yield line


class FinalTextAppendedAfterTheDeltas(TinyResponsesProvider, IndependentDefect):
    """The Responses API's closing `response.output_text.done` carries the whole text again,
    and it is emitted on top of the deltas already streamed. From
    https://github.com/databricks/databricks-ai-bridge/issues/464."""

    clause = "text.fidelity"
    vendor = "openai_responses"

    independent = TinyResponsesProvider

    def _events(  # type: ignore[override]
        self, response: httpx2.Response, estimated_input: int
    ) -> AsyncIterator[StreamEvent]:
        def done_as_delta(line: str) -> list[str]:
            done = _payload(line)
            if done.get("type") != "response.output_text.done":
                return [line]
            delta = {**done, "type": "response.output_text.delta", "delta": done.get("text")}
            return [f"data: {json.dumps(delta)}", line]

        rewritten = _Rewritten(response, done_as_delta)
        return super()._events(rewritten, estimated_input)  # type: ignore[arg-type]


WIRE_DEFECTS: list[type[WireDefect]] = [
    KeepsTheFirstUsageReport,
    SystemPromptSentLast,
    ExtraKeysAllowedByTheSchemaSent,
    ReasoningEffortAlwaysMedium,
    RetriesAMissingModel,
    RetriesAnOversizedPrompt,
    MidStreamErrorEventDropped,
    FinalTextAppendedAfterTheDeltas,
]

#: Certified through the pytest plugin (ProviderContract), not through certify_vendor.
PLUGIN_DEFECTS: list[type[WireDefect]] = [ErrorChunkSkipped]
