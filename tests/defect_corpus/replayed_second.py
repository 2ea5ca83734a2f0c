"""A second, independent corpus of defects in what a provider yields or raises, each modelled
on a bug reported against a real client library, gateway or server (linked in its docstring)
and none a variant of `replayed.py`'s. Same injection: an `LlmProvider` wrapper around our
provider's replayed run of one vendor; `clause` is the one clause each must fail.
"""

from __future__ import annotations

from typing import Any

from defects import replaced, retyped
from replayed import CorpusDefect, _restopped

from providers import errors
from providers.types import (
    CompletionResponse,
    Done,
    MessageDelta,
    StopReason,
    StreamEvent,
    TextDelta,
    ToolInputDelta,
    ToolUseEnd,
    ToolUseStart,
    Usage,
)

# -- grammar -----------------------------------------------------------------------------------


class DoneFromTheFinishAndFromTheSentinel(CorpusDefect):
    """Done is emitted once for the finish reason and again for `[DONE]`. From
    https://github.com/nyroway/nyro/pull/162."""

    clause = "grammar.terminal-sequence"

    def events(self, events: list[StreamEvent], error: Exception | None) -> list[StreamEvent]:
        return [*events, Done()] if events and isinstance(events[-1], Done) else events


class TextInsideTheToolBlock(CorpusDefect):
    """Text the vendor sent ahead of a call comes out after the call has opened, inside its
    block. From https://github.com/sgl-project/sglang/issues/3387 (streamed tool use mixing
    regular text into the tool call)."""

    clause = "grammar.blocks"
    vendor = "openai"

    def events(self, events: list[StreamEvent], error: Exception | None) -> list[StreamEvent]:
        start = next((e for e in events if isinstance(e, ToolUseStart)), None)
        texts = [e for e in events if isinstance(e, TextDelta)]
        if start is None or not texts:
            return events
        rest = [e for e in events if not isinstance(e, TextDelta)]
        at = rest.index(start) + 1
        return [*rest[:at], *texts, *rest[at:]]


# -- text --------------------------------------------------------------------------------------


class LastTextRepeatedOnTheFinish(CorpusDefect):
    """The last text delta is emitted again when the finish arrives. From
    https://github.com/lofcz/LLMTornado/issues/129 (a duplicated final chunk)."""

    clause = "text.fidelity"

    def events(self, events: list[StreamEvent], error: Exception | None) -> list[StreamEvent]:
        texts = [e for e in events if isinstance(e, TextDelta)]
        stop = next((e for e in events if isinstance(e, MessageDelta)), None)
        if not texts or stop is None or events[events.index(stop) - 1] is not texts[-1]:
            return events
        at = events.index(stop)
        return [*events[:at], texts[-1], *events[at:]]


class TextDroppedBesideToolCalls(CorpusDefect):
    """An answer that calls a tool loses the text the model said before the call. From
    https://github.com/vercel/ai/issues/2568."""

    clause = "text.fidelity"
    vendor = "openai"

    def events(self, events: list[StreamEvent], error: Exception | None) -> list[StreamEvent]:
        if not any(isinstance(e, ToolUseStart) for e in events):
            return events
        return [e for e in events if not isinstance(e, TextDelta)]


# -- stop reasons ------------------------------------------------------------------------------


class RawStopReasonIsTheUnifiedOne(CorpusDefect):
    """The raw finish value is overwritten by the mapped one, so `stop` reads `end_turn`.
    From https://github.com/anomalyco/opencode/pull/38423 (raw finish reasons were not
    preserved beside the normalized ones)."""

    clause = "stop.mapping"

    def events(self, events: list[StreamEvent], error: Exception | None) -> list[StreamEvent]:
        return replaced(
            events, MessageDelta, lambda e: e.model_copy(update={"raw_stop_reason": e.stop_reason})
        )


class StopSequenceAsEndTurn(CorpusDefect):
    """Anthropic's `stop_sequence` is folded into a plain end of turn. From
    https://github.com/praxis-proxy/ai/issues/1246."""

    clause = "stop.mapping"
    vendor = "anthropic"

    def events(self, events: list[StreamEvent], error: Exception | None) -> list[StreamEvent]:
        return _restopped(events, StopReason.STOP_SEQUENCE, StopReason.END_TURN)


# -- usage -------------------------------------------------------------------------------------


class EstimatePassedOffAsReported(CorpusDefect):
    """Where the vendor streams no usage, the provider's own estimate goes out as if the
    vendor had reported it. From https://github.com/QuantumNous/new-api/issues/6212 (streaming
    usage that was the gateway's own estimate, not the upstream's)."""

    clause = "usage.reported"

    def events(self, events: list[StreamEvent], error: Exception | None) -> list[StreamEvent]:
        return replaced(events, Usage, lambda e: e.model_copy(update={"estimated": False}))


class CompleteDropsCachedTokens(CorpusDefect):
    """complete() leaves out `prompt_tokens_details.cached_tokens`, which stream() keeps.
    From https://github.com/jundot/omlx/issues/919."""

    clause = "usage.consistent"

    def response(self, response: CompletionResponse) -> CompletionResponse:
        usage = response.usage.model_copy(update={"cache_read_tokens": 0, "cache_write_tokens": 0})
        return response.model_copy(update={"usage": usage})


# -- tools -------------------------------------------------------------------------------------


def _renamed_calls(events: list[StreamEvent], rename: Any) -> list[StreamEvent]:
    kinds = ToolUseStart | ToolUseEnd
    return [
        e.model_copy(update={"name": rename(e.name)}) if isinstance(e, kinds) else e for e in events
    ]


class NameResentInEveryFragmentConcatenated(CorpusDefect):
    """A vendor that repeats the function name in every fragment gets it concatenated:
    `get_weatherget_weather`. From https://github.com/NousResearch/hermes-agent/issues/8259."""

    clause = "tools.single"
    vendor = "openai"

    def events(self, events: list[StreamEvent], error: Exception | None) -> list[StreamEvent]:
        return _renamed_calls(events, lambda name: name * 2)


class ParallelCallsInReverse(CorpusDefect):
    """Parallel calls come out in the reverse of the vendor's order (the accumulator emits
    them in the order their last fragment arrived). From
    https://github.com/huggingface/smolagents/pull/2605."""

    clause = "tools.parallel"

    def events(self, events: list[StreamEvent], error: Exception | None) -> list[StreamEvent]:
        kinds = ToolUseStart | ToolInputDelta | ToolUseEnd
        calls = [e for e in events if isinstance(e, kinds)]
        starts = [e for e in calls if isinstance(e, ToolUseStart)]
        if len(starts) < 2:
            return events
        slots = [s.index for s in starts]
        blocks: list[StreamEvent] = []
        for slot, start in zip(slots, reversed(starts), strict=True):
            block = [e for e in calls if e.index == start.index]
            blocks += [e.model_copy(update={"index": slot}) for e in block]
        at = events.index(calls[0])
        rest = [e for e in events if not isinstance(e, kinds)]
        return [*rest[:at], *blocks, *rest[at:]]


# -- errors ------------------------------------------------------------------------------------


def _when(kind: type[errors.LlmError], into: type[errors.LlmError], **changes: Any) -> Any:
    def error(self: CorpusDefect, error: Exception) -> Exception:
        return retyped(error, into, **changes) if type(error) is kind else error

    return error


class OverloadedAsRateLimited(CorpusDefect):
    """5xx overload is classed as a rate limit. From
    https://github.com/tombii/better-ccflare/pull/236 (529 treated as rate-limited)."""

    clause = "errors.unavailable"
    vendor = "openai"
    error = _when(errors.ProviderUnavailableError, errors.RateLimitError)


class BadRequestRetried(CorpusDefect):
    """A 400 is marked worth retrying. From https://github.com/LionSR/TeXRA/pull/2629 (400
    added to the retryable statuses)."""

    clause = "errors.invalid-request"
    error = _when(errors.InvalidRequestError, errors.InvalidRequestError, retryable=True)


class MidStreamErrorAsAStatusError(CorpusDefect):
    """An error event inside a 200 stream is raised as a status error of the whole request,
    as if nothing had been streamed. From
    https://github.com/anthropics/anthropic-sdk-python/issues/1918 (in-stream errors raised as
    a bare APIStatusError)."""

    clause = "errors.mid-stream"
    error = _when(errors.StreamError, errors.ProviderUnavailableError)


class KeyInTheUrlOfServerErrors(CorpusDefect):
    """A server error repeats the request URL, key in its query, in its message. From
    https://github.com/BerriAI/litellm/issues/24902."""

    clause = "secrets.never-shown"

    def error(self, error: Exception) -> Exception:
        if isinstance(error, errors.ProviderUnavailableError):
            message = f"{error} (POST /chat/completions?key={self.key})"
            return retyped(error, type(error), message=message)
        return error


DEFECTS: list[type[CorpusDefect]] = [
    DoneFromTheFinishAndFromTheSentinel,
    TextInsideTheToolBlock,
    LastTextRepeatedOnTheFinish,
    TextDroppedBesideToolCalls,
    RawStopReasonIsTheUnifiedOne,
    StopSequenceAsEndTurn,
    EstimatePassedOffAsReported,
    CompleteDropsCachedTokens,
    NameResentInEveryFragmentConcatenated,
    ParallelCallsInReverse,
    OverloadedAsRateLimited,
    BadRequestRetried,
    MidStreamErrorAsAStatusError,
    KeyInTheUrlOfServerErrors,
]
