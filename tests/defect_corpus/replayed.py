"""Realistic defects in what a provider yields or raises, each modelled on a bug reported
against a real client library, gateway or server (linked in its docstring).

Each is an `LlmProvider` wrapper (`defects.Broken`) around our provider's real run on every
case of one vendor, replayed; `clause` is the one clause it must fail, and no other may.
"""

from __future__ import annotations

import json
from typing import Any, ClassVar

from defects import Broken, replaced, retyped

from providers import errors
from providers.types import (
    CompletionResponse,
    Connected,
    MessageDelta,
    StopReason,
    StreamEvent,
    TextDelta,
    ThinkingDelta,
    ToolInputDelta,
    ToolUseEnd,
    ToolUseStart,
    Usage,
)


class CorpusDefect(Broken):
    #: The one clause this defect breaks.
    clause: ClassVar[str]
    #: The vendor whose run it wraps (one whose wire shows the defect).
    vendor: ClassVar[str] = "glm"


def _texts(events: list[StreamEvent]) -> list[TextDelta]:
    return [e for e in events if isinstance(e, TextDelta)]


def _error_defect(
    name: str,
    clause: str,
    source: str,
    kind: type[errors.LlmError],
    into: type[errors.LlmError],
    **changes: Any,
) -> type[CorpusDefect]:
    """An error mapping defect: errors of exactly `kind` come out as `into`, with `changes`."""

    def error(self: CorpusDefect, error: Exception) -> Exception:
        return retyped(error, into, **changes) if type(error) is kind else error

    doc = f"{kind.__name__} comes out as {into.__name__} {changes or ''}. From {source}"
    return type(name, (CorpusDefect,), {"clause": clause, "error": error, "__doc__": doc})


# -- grammar.connected-first -------------------------------------------------------------------


class ConnectedBeforeTheStatus(CorpusDefect):
    """Success is announced before the status is known, so a refused request still yields
    Connected before its error. From https://github.com/Alishahryar1/free-claude-code/pull/1026
    (pre-start stream failures committed as HTTP 200)."""

    clause = "grammar.connected-first"

    def events(self, events: list[StreamEvent], error: Exception | None) -> list[StreamEvent]:
        return events or [Connected(provider="broken", model="any")]


class NoStreamStart(CorpusDefect):
    """The stream-start event is never emitted. From https://github.com/YumchaLabs/siumai/issues/5."""

    clause = "grammar.connected-first"

    def events(self, events: list[StreamEvent], error: Exception | None) -> list[StreamEvent]:
        return [e for e in events if not isinstance(e, Connected)]


# -- grammar.terminal-sequence -----------------------------------------------------------------


class UsageBeforeTheStop(CorpusDefect):
    """Usage is forwarded as it arrives, ahead of the finish reason. From
    https://github.com/maximhq/bifrost/pull/528 ("usage comes before final message")."""

    clause = "grammar.terminal-sequence"

    def events(self, events: list[StreamEvent], error: Exception | None) -> list[StreamEvent]:
        ends = [e for e in events if isinstance(e, MessageDelta | Usage)]
        if len(ends) != 2:
            return events
        rest = [e for e in events if e not in ends]
        return [*rest[:-1], ends[1], ends[0], rest[-1]]


class FinishOnEveryChunk(CorpusDefect):
    """Every chunk carries a finish reason, so the stop is reported more than once. From
    https://github.com/BerriAI/litellm/issues/2195 (Gemini chunks always finish 'stop')."""

    clause = "grammar.terminal-sequence"

    def events(self, events: list[StreamEvent], error: Exception | None) -> list[StreamEvent]:
        stops = [e for e in events if isinstance(e, MessageDelta)]
        return [x for e in events for x in ([e, e] if stops and e is stops[0] else [e])]


# -- grammar.blocks ----------------------------------------------------------------------------


class EmptyTextAheadOfATool(CorpusDefect):
    """An empty text part is emitted ahead of a tool call. From
    https://github.com/pydantic/pydantic-ai/issues/2256."""

    clause = "grammar.blocks"

    def events(self, events: list[StreamEvent], error: Exception | None) -> list[StreamEvent]:
        start = next((e for e in events if isinstance(e, ToolUseStart)), None)
        if start is None:
            return events
        empty = TextDelta.model_construct(index=start.index + 100, text="")
        at = events.index(start)
        return [*events[:at], empty, *events[at:]]


class ParallelCallsShareAnIndex(CorpusDefect):
    """Every parallel call is numbered 0. From https://github.com/ai-dynamo/dynamo/pull/4723."""

    clause = "grammar.blocks"

    def events(self, events: list[StreamEvent], error: Exception | None) -> list[StreamEvent]:
        kinds = ToolUseStart | ToolInputDelta | ToolUseEnd
        first = next((e.index for e in events if isinstance(e, ToolUseStart)), None)
        return [
            e.model_copy(update={"index": first}) if isinstance(e, kinds) else e for e in events
        ]


class StreamedFragmentsNotTheFinalArguments(CorpusDefect):
    """The argument fragments streamed are a re-serialization, not the text the call ends
    with. From https://github.com/peonist-ai/halogen-flash-server/issues/36 (streamed
    arguments must be byte-identical to the final ones)."""

    clause = "grammar.blocks"

    def events(self, events: list[StreamEvent], error: Exception | None) -> list[StreamEvent]:
        ends = {e.index: e for e in events if isinstance(e, ToolUseEnd)}
        out: list[StreamEvent] = []
        for event in events:
            if isinstance(event, ToolInputDelta) and event.index in ends:
                if not out or not isinstance(out[-1], ToolInputDelta):
                    text = json.dumps(ends[event.index].input, indent=1)
                    out.append(event.model_copy(update={"partial_json": text}))
                continue
            out.append(event)
        return out


# -- text.fidelity -----------------------------------------------------------------------------


class StripsEachChunk(CorpusDefect):
    """Each streamed chunk is stripped, so words run together. From
    https://github.com/NousResearch/hermes-agent/pull/2192."""

    clause = "text.fidelity"

    def events(self, events: list[StreamEvent], error: Exception | None) -> list[StreamEvent]:
        stripped = [
            e.model_copy(update={"text": e.text.strip()}) if isinstance(e, TextDelta) else e
            for e in events
        ]
        return [e for e in stripped if not isinstance(e, TextDelta) or e.text]


class DropsWhitespaceOnlyChunks(CorpusDefect):
    """A chunk that is only whitespace is skipped. From
    https://github.com/microsoft/Agents-for-js/pull/997."""

    clause = "text.fidelity"

    def events(self, events: list[StreamEvent], error: Exception | None) -> list[StreamEvent]:
        return [e for e in events if not (isinstance(e, TextDelta) and not e.text.strip())]


class ReasoningAlsoSentAsText(CorpusDefect):
    """Reasoning deltas are also pushed through the content callback, ahead of the answer.
    From https://github.com/HKUDS/nanobot/issues/2821."""

    clause = "text.fidelity"

    def events(self, events: list[StreamEvent], error: Exception | None) -> list[StreamEvent]:
        reasoning = "".join(e.text for e in events if isinstance(e, ThinkingDelta))
        texts = _texts(events)
        if not reasoning or not texts:
            return events
        at = events.index(texts[0])
        return [*events[:at], TextDelta(index=texts[0].index, text=reasoning), *events[at:]]


# -- thinking.deltas ---------------------------------------------------------------------------


class DropsReasoningContent(CorpusDefect):
    """`reasoning_content` is never read, so the reasoning disappears. From
    https://github.com/lmstudio-ai/lmstudio-bug-tracker/issues/2411."""

    clause = "thinking.deltas"

    def events(self, events: list[StreamEvent], error: Exception | None) -> list[StreamEvent]:
        return [e for e in events if not isinstance(e, ThinkingDelta)]


class KeepsOnlyTheFirstReasoningDelta(CorpusDefect):
    """Reasoning is taken from the first delta only. From
    https://github.com/jeremychone/rust-genai/pull/258 (a field read from the first event
    only, though later events carry it)."""

    clause = "thinking.deltas"

    def events(self, events: list[StreamEvent], error: Exception | None) -> list[StreamEvent]:
        thoughts = [e for e in events if isinstance(e, ThinkingDelta)]
        return [e for e in events if not isinstance(e, ThinkingDelta) or e is thoughts[0]]


# -- stop.mapping ------------------------------------------------------------------------------


def _restopped(
    events: list[StreamEvent], when: StopReason, into: StopReason, raw: str | None = None
) -> list[StreamEvent]:
    def change(e: MessageDelta) -> MessageDelta:
        if e.stop_reason != when:
            return e
        update: dict[str, Any] = {"stop_reason": into}
        if raw is not None:
            update["raw_stop_reason"] = raw
        return e.model_copy(update=update)

    return replaced(events, MessageDelta, change)


class ToolCallsReportedAsStop(CorpusDefect):
    """A turn that ends in tool calls is reported as a plain stop. From
    https://github.com/log10-io/log10/pull/152."""

    clause = "stop.mapping"

    def events(self, events: list[StreamEvent], error: Exception | None) -> list[StreamEvent]:
        return _restopped(events, StopReason.TOOL_USE, StopReason.END_TURN)


class ContentFilterReportedAsStop(CorpusDefect):
    """A filtered answer finishes as `stop` in streaming. From
    https://github.com/BerriAI/litellm/issues/6104."""

    clause = "stop.mapping"

    def events(self, events: list[StreamEvent], error: Exception | None) -> list[StreamEvent]:
        return _restopped(events, StopReason.CONTENT_FILTER, StopReason.END_TURN)


class UnknownFinishAsStop(CorpusDefect):
    """A finish value not in the map becomes `stop`, its raw value lost. From
    https://github.com/vercel/ai/pull/1832."""

    clause = "stop.mapping"

    def events(self, events: list[StreamEvent], error: Exception | None) -> list[StreamEvent]:
        return _restopped(events, StopReason.OTHER, StopReason.END_TURN, raw="stop")


# -- stop.max-tokens ---------------------------------------------------------------------------


class LengthReportedAsStop(CorpusDefect):
    """A max-tokens cut is reported as a natural stop. From
    https://github.com/UKGovernmentBEIS/inspect_ai/issues/5143."""

    clause = "stop.max-tokens"

    def events(self, events: list[StreamEvent], error: Exception | None) -> list[StreamEvent]:
        return _restopped(events, StopReason.MAX_TOKENS, StopReason.END_TURN)


class LengthReportedAsOther(CorpusDefect):
    """`length` falls through to the generic branch. From
    https://github.com/earendil-works/pi/pull/7817."""

    clause = "stop.max-tokens"

    def events(self, events: list[StreamEvent], error: Exception | None) -> list[StreamEvent]:
        return _restopped(events, StopReason.MAX_TOKENS, StopReason.OTHER)


# -- usage.reported ----------------------------------------------------------------------------


class ZerosWhenNoUsageWasSent(CorpusDefect):
    """A stream with no usage report records 0/0 instead of an estimate. From
    https://github.com/NousResearch/hermes-agent/issues/12023."""

    clause = "usage.reported"

    def events(self, events: list[StreamEvent], error: Exception | None) -> list[StreamEvent]:
        return replaced(
            events,
            Usage,
            lambda e: Usage(input_tokens=0, output_tokens=0) if e.estimated else e,
        )


class PromptAndCompletionSwapped(CorpusDefect):
    """Input and output counts are read from each other's fields. From
    https://github.com/vertesia/llumiverse/issues/26 (usage reported wrongly per stream)."""

    clause = "usage.reported"

    def events(self, events: list[StreamEvent], error: Exception | None) -> list[StreamEvent]:
        return replaced(
            events,
            Usage,
            lambda e: (
                e
                if e.estimated or e.input_tokens == e.output_tokens
                else e.model_copy(
                    update={"input_tokens": e.output_tokens, "output_tokens": e.input_tokens}
                )
            ),
        )


class ReasoningLeftOutOfOutput(CorpusDefect):
    """xAI counts reasoning outside `completion_tokens`; the output count leaves it out. From
    https://github.com/UKGovernmentBEIS/inspect_ai/issues/5528."""

    clause = "usage.reported"
    vendor = "xai"

    def events(self, events: list[StreamEvent], error: Exception | None) -> list[StreamEvent]:
        return replaced(
            events,
            Usage,
            lambda e: e.model_copy(update={"output_tokens": e.output_tokens - e.reasoning_tokens}),
        )


class StreamDropsCachedTokens(CorpusDefect):
    """The streaming path keeps only the input and output counts of the usage report, so a
    prompt-cache hit reads as no cache at all (the non-streaming path keeps it). From
    https://github.com/elizaOS/eliza/issues/15369."""

    clause = "usage.reported"

    def events(self, events: list[StreamEvent], error: Exception | None) -> list[StreamEvent]:
        return replaced(
            events,
            Usage,
            lambda e: e.model_copy(update={"cache_read_tokens": 0, "cache_write_tokens": 0}),
        )


class InputCountsOnlyTheUncachedTokens(CorpusDefect):
    """Anthropic counts cached tokens apart from `input_tokens`; the stream reports only the
    uncached rest as input and drops both cache counts. From
    https://github.com/jeremychone/rust-genai/pull/129."""

    clause = "usage.reported"
    vendor = "anthropic"

    def events(self, events: list[StreamEvent], error: Exception | None) -> list[StreamEvent]:
        def uncached(e: Usage) -> Usage:
            rest = e.input_tokens - e.cache_read_tokens - e.cache_write_tokens
            return Usage(input_tokens=rest, output_tokens=e.output_tokens, estimated=e.estimated)

        return replaced(events, Usage, uncached)


# -- usage.consistent --------------------------------------------------------------------------


class CompleteRecordsZeroUsage(CorpusDefect):
    """Non-streaming calls record zero usage while streamed ones are right. From
    https://github.com/obot-platform/obot/issues/7488."""

    clause = "usage.consistent"

    def response(self, response: CompletionResponse) -> CompletionResponse:
        return response.model_copy(update={"usage": Usage(input_tokens=0, output_tokens=0)})


# -- complete.agrees ---------------------------------------------------------------------------


class CompleteDropsToolCallIds(CorpusDefect):
    """The final completion throws the tool-call ids away. From
    https://github.com/openai/openai-python/issues/2827."""

    clause = "complete.agrees"

    def response(self, response: CompletionResponse) -> CompletionResponse:
        calls = tuple(
            c.model_copy(update={"id": f"call_{n}"}) for n, c in enumerate(response.tool_calls)
        )
        return response.model_copy(update={"tool_calls": calls})


class CompleteMapsLengthAsStop(CorpusDefect):
    """The non-streaming path maps a max-tokens cut differently from the streaming one. From
    https://github.com/UKGovernmentBEIS/inspect_ai/pull/4552."""

    clause = "complete.agrees"

    def response(self, response: CompletionResponse) -> CompletionResponse:
        if response.stop_reason != StopReason.MAX_TOKENS:
            return response
        return response.model_copy(update={"stop_reason": StopReason.END_TURN})


# -- tools.single ------------------------------------------------------------------------------


def _calls(events: list[StreamEvent]) -> list[ToolUseStart]:
    return [e for e in events if isinstance(e, ToolUseStart)]


def _rebuilt(events: list[StreamEvent], index: int, **changes: Any) -> list[StreamEvent]:
    """The tool block at `index` rebuilt with `changes` (id, name, arguments), well formed."""
    out: list[StreamEvent] = []
    for event in events:
        if isinstance(event, ToolInputDelta) and event.index == index:
            continue
        if isinstance(event, ToolUseStart | ToolUseEnd) and event.index == index:
            fields = {"id": event.id, "name": event.name, **changes}
            if isinstance(event, ToolUseStart):
                out.append(ToolUseStart(index=index, id=fields["id"], name=fields["name"]))
                continue
            arguments = changes.get("arguments", event.arguments)
            out.append(ToolInputDelta(index=index, partial_json=arguments))
            out.append(
                ToolUseEnd(
                    index=index,
                    id=fields["id"],
                    name=fields["name"],
                    arguments=arguments,
                    input=json.loads(arguments or "{}"),
                )
            )
            continue
        out.append(event)
    return out


class ArgumentsLostWhenIdOnlyInTheFirstChunk(CorpusDefect):
    """Continuation fragments without an id start a new buffer; the call goes out as {}. From
    https://github.com/sigoden/aichat/issues/1495."""

    clause = "tools.single"

    def events(self, events: list[StreamEvent], error: Exception | None) -> list[StreamEvent]:
        for call in _calls(events):
            events = _rebuilt(events, call.index, arguments="{}")
        return events


class ToolCallIdOverwrittenPerChunk(CorpusDefect):
    """The id is rewritten on every chunk and ends empty. From
    https://github.com/nlpodyssey/openai-agents-go/pull/2."""

    clause = "tools.single"

    def events(self, events: list[StreamEvent], error: Exception | None) -> list[StreamEvent]:
        for number, call in enumerate(_calls(events)):
            events = _rebuilt(events, call.index, id=f"generated_{number}")
        return events


class ArgumentsReSerialized(CorpusDefect):
    """The vendor's argument text is replaced by a serialization of its parse. From
    https://github.com/NousResearch/hermes-agent/pull/1087 (tool arguments re-serialized
    instead of passed on as the vendor's text)."""

    clause = "tools.single"

    def events(self, events: list[StreamEvent], error: Exception | None) -> list[StreamEvent]:
        for end in [e for e in events if isinstance(e, ToolUseEnd)]:
            events = _rebuilt(events, end.index, arguments=json.dumps(end.input))
        return events


# -- tools.parallel ----------------------------------------------------------------------------


class SameIndexCallsMerged(CorpusDefect):
    """Two calls sharing an index run together into one. From
    https://github.com/huggingface/smolagents/pull/1958."""

    clause = "tools.parallel"

    def events(self, events: list[StreamEvent], error: Exception | None) -> list[StreamEvent]:
        calls = _calls(events)
        if len(calls) < 2:
            return events
        return [
            e
            for e in events
            if not (
                isinstance(e, ToolUseStart | ToolInputDelta | ToolUseEnd)
                and e.index != calls[0].index
            )
        ]


class InterleavedFragmentsGoToTheLastCall(CorpusDefect):
    """Fragments without an id are appended to the most recent call, so the calls swap
    arguments. From https://github.com/QwenLM/Qwen-Agent/pull/943."""

    clause = "tools.parallel"

    def events(self, events: list[StreamEvent], error: Exception | None) -> list[StreamEvent]:
        calls = _calls(events)
        if len(calls) != 2:
            return events
        ends = {e.index: e for e in events if isinstance(e, ToolUseEnd)}
        first, second = ends[calls[0].index], ends[calls[1].index]
        events = _rebuilt(events, calls[0].index, arguments=second.arguments)
        return _rebuilt(events, calls[1].index, arguments=first.arguments)


class SameNameCallsCollapsed(CorpusDefect):
    """Calls keyed by function name: the second takes the first one's id. From
    https://github.com/NousResearch/hermes-agent/pull/11863."""

    clause = "tools.parallel"

    def events(self, events: list[StreamEvent], error: Exception | None) -> list[StreamEvent]:
        calls = _calls(events)
        if len(calls) != 2:
            return events
        return _rebuilt(events, calls[1].index, id=calls[0].id)


# -- errors ------------------------------------------------------------------------------------

RetriesAnInvalidKey = _error_defect(
    "RetriesAnInvalidKey",
    "errors.authentication",
    "https://github.com/Gitlawb/openclaude/issues/1356 (a 401 retried ten times)",
    errors.AuthenticationError,
    errors.AuthenticationError,
    retryable=True,
)
ForbiddenAsAGenericFailure = _error_defect(
    "ForbiddenAsAGenericFailure",
    "errors.authentication",
    "https://github.com/Alishahryar1/free-claude-code/pull/1249 (403 fell through to a generic "
    "API failure)",
    errors.AuthenticationError,
    errors.LlmError,
)
QuotaMarkedNotRetryable = _error_defect(
    "QuotaMarkedNotRetryable",
    "errors.rate-limit",
    "https://github.com/SWE-agent/mini-swe-agent/issues/184 (a transient failure not retried)",
    errors.RateLimitError,
    errors.RateLimitError,
    retryable=False,
)
RetryAfterNotKept = _error_defect(
    "RetryAfterNotKept",
    "errors.rate-limit",
    "https://github.com/e2b-dev/E2B/pull/1674 (rate-limit errors without Retry-After)",
    errors.RateLimitError,
    errors.RateLimitError,
    retry_after=None,
)
ContextWindowAsBadRequest = _error_defect(
    "ContextWindowAsBadRequest",
    "errors.context-length",
    "https://github.com/BerriAI/litellm/issues/10793 (context-window message not mapped)",
    errors.ContextLengthError,
    errors.InvalidRequestError,
)
ModelNotFoundAsBadRequest = _error_defect(
    "ModelNotFoundAsBadRequest",
    "errors.model-not-found",
    "https://github.com/earendil-works/pi/issues/5763 (a 404 surfaced as an opaque failure)",
    errors.ModelNotFoundError,
    errors.InvalidRequestError,
)
OverloadedNotRetryable = _error_defect(
    "OverloadedNotRetryable",
    "errors.unavailable",
    "https://github.com/SWE-agent/mini-swe-agent/issues/184 (overloaded errors not retried)",
    errors.ProviderUnavailableError,
    errors.ProviderUnavailableError,
    retryable=False,
)
MidStreamErrorAsATruncatedStream = _error_defect(
    "MidStreamErrorAsATruncatedStream",
    "errors.mid-stream",
    "https://github.com/vercel/ai/issues/6534 (an error event ends the stream as unknown)",
    errors.StreamError,
    errors.StreamTruncatedError,
)


class StatusLineInsteadOfTheVendorsMessage(CorpusDefect):
    """The message is replaced by generic status text. From
    https://github.com/veryfront/veryfront-code/issues/3932."""

    clause = "errors.invalid-request"

    def error(self, error: Exception) -> Exception:
        if type(error) is errors.InvalidRequestError:
            return retyped(error, errors.InvalidRequestError, message="Provider request failed")
        return error


class MidStreamMessageDropped(CorpusDefect):
    """An in-stream error is raised without the vendor's words. From
    https://github.com/langchain-ai/langchain/pull/39041 (the error payload is lost)."""

    clause = "errors.mid-stream"

    def error(self, error: Exception) -> Exception:
        if type(error) is errors.StreamError:
            return retyped(error, errors.StreamError, message="stream failed")
        return error


class CutStreamNotRetryable(CorpusDefect):
    """A dropped stream is reported as a final failure. From
    https://github.com/vercel/ai/issues/19165 (a truncated stream settled as if finished)."""

    clause = "stream.truncation"

    def error(self, error: Exception) -> Exception:
        if type(error) is errors.StreamTruncatedError:
            return retyped(error, errors.StreamError)
        return error


class EchoesTheRejectedKey(CorpusDefect):
    """The rejected key is written into the error. From
    https://github.com/Unstructured-IO/unstructured-api/pull/578."""

    clause = "secrets.never-shown"

    def error(self, error: Exception) -> Exception:
        if isinstance(error, errors.AuthenticationError):
            return retyped(error, type(error), message=f"API key {self.key} is invalid")
        return error


DEFECTS: list[type[CorpusDefect]] = [
    ConnectedBeforeTheStatus,
    NoStreamStart,
    UsageBeforeTheStop,
    FinishOnEveryChunk,
    EmptyTextAheadOfATool,
    ParallelCallsShareAnIndex,
    StreamedFragmentsNotTheFinalArguments,
    StripsEachChunk,
    DropsWhitespaceOnlyChunks,
    ReasoningAlsoSentAsText,
    DropsReasoningContent,
    KeepsOnlyTheFirstReasoningDelta,
    ToolCallsReportedAsStop,
    ContentFilterReportedAsStop,
    UnknownFinishAsStop,
    LengthReportedAsStop,
    LengthReportedAsOther,
    ZerosWhenNoUsageWasSent,
    PromptAndCompletionSwapped,
    ReasoningLeftOutOfOutput,
    StreamDropsCachedTokens,
    InputCountsOnlyTheUncachedTokens,
    CompleteRecordsZeroUsage,
    CompleteDropsToolCallIds,
    CompleteMapsLengthAsStop,
    ArgumentsLostWhenIdOnlyInTheFirstChunk,
    ToolCallIdOverwrittenPerChunk,
    ArgumentsReSerialized,
    SameIndexCallsMerged,
    InterleavedFragmentsGoToTheLastCall,
    SameNameCallsCollapsed,
    RetriesAnInvalidKey,
    ForbiddenAsAGenericFailure,
    QuotaMarkedNotRetryable,
    RetryAfterNotKept,
    ContextWindowAsBadRequest,
    ModelNotFoundAsBadRequest,
    OverloadedNotRetryable,
    MidStreamErrorAsATruncatedStream,
    StatusLineInsteadOfTheVendorsMessage,
    MidStreamMessageDropped,
    CutStreamNotRetryable,
    EchoesTheRejectedKey,
]
