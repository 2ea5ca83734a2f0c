"""For every clause, a deliberately broken provider that this clause, and only this clause,
catches: one fault, one clause.

Each defect is an `LlmProvider` wrapper around a provider, never a patch of private code. To
keep the suite lean, the wrapped provider replays what our GLM provider did on each case
against the replica (its events, errors and answer; GLM has tools and reasoning, so every
clause applies; the run is `defects.healthy_run`, shared with tests/defect_corpus/); the
checks judge against the bytes the replica really served. A defect in what is *sent* cannot
be replayed, so request.shape's wrapper runs against the replica itself.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest
from defects import (
    Broken,
    failing_clauses,
    failing_on_the_replica,
    replaced,
    retyped,
    wrapping_ours,
)

from contracts.certification import applicable_cases, judge
from contracts.runner import run_case
from contracts.spec import load_clauses
from providers import errors
from providers.types import (
    CompletionRequest,
    CompletionResponse,
    Connected,
    MessageDelta,
    StopReason,
    StreamEvent,
    TextDelta,
    ThinkingDelta,
    ToolUseEnd,
    ToolUseStart,
    Usage,
    UserMessage,
)
from providers.vendors import load_profile

PROFILE = load_profile("glm")


class ConnectedBeforeStatus(Broken):
    def events(self, events: list[StreamEvent], error: Exception | None) -> list[StreamEvent]:
        return events or [Connected(provider="broken", model="any")]


class EndsAFailingStreamWithMessageDeltaAndUsage(Broken):
    def events(self, events: list[StreamEvent], error: Exception | None) -> list[StreamEvent]:
        if error is None or any(isinstance(e, MessageDelta) for e in events) or not events:
            return events
        return [
            *events,
            MessageDelta(stop_reason=StopReason.OTHER, raw_stop_reason="error"),
            Usage(input_tokens=0, output_tokens=0, estimated=True),
        ]


class EmptyTextDelta(Broken):
    def events(self, events: list[StreamEvent], error: Exception | None) -> list[StreamEvent]:
        first = next((i for i, e in enumerate(events) if isinstance(e, TextDelta)), None)
        if first is None:
            return events
        empty = TextDelta.model_construct(index=events[first].index, text="")  # type: ignore[union-attr]
        return [*events[:first], empty, *events[first:]]


class ReasoningLeaksIntoText(Broken):
    """Reasoning arrives as ThinkingDelta, and is also put in front of the answer text."""

    def events(self, events: list[StreamEvent], error: Exception | None) -> list[StreamEvent]:
        reasoning = "".join(e.text for e in events if isinstance(e, ThinkingDelta))
        first = next((e for e in events if isinstance(e, TextDelta)), None)
        if not reasoning or first is None:
            return events
        leaked = first.model_copy(update={"text": reasoning + first.text})
        return [leaked if e is first else e for e in events]


class RawStopReasonLost(Broken):
    def events(self, events: list[StreamEvent], error: Exception | None) -> list[StreamEvent]:
        return replaced(
            events, MessageDelta, lambda e: e.model_copy(update={"raw_stop_reason": "unknown"})
        )


class LengthAsEndTurn(Broken):
    def events(self, events: list[StreamEvent], error: Exception | None) -> list[StreamEvent]:
        return replaced(
            events,
            MessageDelta,
            lambda e: (
                e.model_copy(update={"stop_reason": StopReason.END_TURN})
                if e.stop_reason == StopReason.MAX_TOKENS
                else e
            ),
        )


class UsageOffByOne(Broken):
    def events(self, events: list[StreamEvent], error: Exception | None) -> list[StreamEvent]:
        return replaced(
            events, Usage, lambda e: e.model_copy(update={"output_tokens": e.output_tokens + 1})
        )


class CompleteUsageOffByOne(Broken):
    def response(self, response: CompletionResponse) -> CompletionResponse:
        usage = response.usage.model_copy(update={"input_tokens": response.usage.input_tokens + 1})
        return response.model_copy(update={"usage": usage})


class CompleteAddsText(Broken):
    def response(self, response: CompletionResponse) -> CompletionResponse:
        return response.model_copy(update={"text": response.text + "!"})


def _tool_renamed(
    events: list[StreamEvent], count: int, which: int, name: Callable[[list[ToolUseStart]], str]
) -> list[StreamEvent]:
    """The `which`th of exactly `count` tool calls, consistently renamed to `name(starts)`: a
    well-formed block that is not what the vendor sent."""
    starts = [e for e in events if isinstance(e, ToolUseStart)]
    if len(starts) != count:
        return events
    index = starts[which].index

    def rename(event: StreamEvent) -> StreamEvent:
        if isinstance(event, ToolUseStart | ToolUseEnd) and event.index == index:
            return event.model_copy(update={"name": name(starts)})
        return event

    return [rename(e) for e in events]


class SingleToolRenamed(Broken):
    def events(self, events: list[StreamEvent], error: Exception | None) -> list[StreamEvent]:
        return _tool_renamed(events, count=1, which=0, name=lambda starts: f"fn_{starts[0].name}")


class SecondParallelCallTakesTheFirstsName(Broken):
    """Calls keyed by name: the second comes out under the first call's name."""

    def events(self, events: list[StreamEvent], error: Exception | None) -> list[StreamEvent]:
        return _tool_renamed(events, count=2, which=1, name=lambda starts: starts[0].name)


class DropsReasoning(Broken):
    def events(self, events: list[StreamEvent], error: Exception | None) -> list[StreamEvent]:
        return [e for e in events if not isinstance(e, ThinkingDelta)]


class IgnoresMaxTokens(Broken):
    def request(self, request: CompletionRequest) -> CompletionRequest:
        return request.model_copy(update={"max_tokens": None})


class DropsToolChoice(Broken):
    def request(self, request: CompletionRequest) -> CompletionRequest:
        return request.model_copy(update={"tool_choice": None})


class DropsResponseFormat(Broken):
    def request(self, request: CompletionRequest) -> CompletionRequest:
        return request.model_copy(update={"response_format": None})


class FlattensImages(Broken):
    """Image parts become their message's text alone: sent to a vendor without vision."""

    def request(self, request: CompletionRequest) -> CompletionRequest:
        messages = tuple(
            UserMessage(content=m.text) if isinstance(m, UserMessage) else m
            for m in request.messages
        )
        return request.model_copy(update={"messages": messages})


class DropsThinking(Broken):
    def request(self, request: CompletionRequest) -> CompletionRequest:
        return request.model_copy(update={"thinking": None})


def _error_defect(
    kind: type[errors.LlmError], into: type[errors.LlmError], **changes: Any
) -> type[Broken]:
    class ErrorDefect(Broken):
        def error(self, error: Exception) -> Exception:
            return retyped(error, into, **changes) if type(error) is kind else error

    ErrorDefect.__name__ = f"{kind.__name__}As{into.__name__}"
    return ErrorDefect


class DropsRetryAfter(Broken):
    def error(self, error: Exception) -> Exception:
        return (
            retyped(error, errors.RateLimitError, retry_after=None)
            if isinstance(error, errors.RateLimitError)
            else error
        )


class DropsTheVendorsMessage(Broken):
    def error(self, error: Exception) -> Exception:
        if type(error) is errors.InvalidRequestError:
            return retyped(error, errors.InvalidRequestError, message="Error code: 400")
        return error


class LosesTextBeforeAStreamError(Broken):
    def events(self, events: list[StreamEvent], error: Exception | None) -> list[StreamEvent]:
        if type(error) is errors.StreamError:
            return [e for e in events if not isinstance(e, TextDelta)]
        return events


class KeyInErrors(Broken):
    def error(self, error: Exception) -> Exception:
        return (
            retyped(error, type(error), message=f"{error} (key {self.key})")
            if isinstance(error, errors.LlmError)
            else error
        )


DEFECTS: dict[str, type[Broken]] = {
    "grammar.connected-first": ConnectedBeforeStatus,
    "grammar.terminal-sequence": EndsAFailingStreamWithMessageDeltaAndUsage,
    "grammar.blocks": EmptyTextDelta,
    "text.fidelity": ReasoningLeaksIntoText,
    "stop.mapping": RawStopReasonLost,
    "stop.max-tokens": LengthAsEndTurn,
    "usage.reported": UsageOffByOne,
    "usage.consistent": CompleteUsageOffByOne,
    "complete.agrees": CompleteAddsText,
    "tools.single": SingleToolRenamed,
    "tools.parallel": SecondParallelCallTakesTheFirstsName,
    "thinking.deltas": DropsReasoning,
    "request.shape": IgnoresMaxTokens,
    "errors.authentication": _error_defect(errors.AuthenticationError, errors.InvalidRequestError),
    "errors.rate-limit": DropsRetryAfter,
    "errors.invalid-request": DropsTheVendorsMessage,
    "errors.context-length": _error_defect(errors.ContextLengthError, errors.InvalidRequestError),
    "errors.model-not-found": _error_defect(errors.ModelNotFoundError, errors.LlmError),
    "errors.unavailable": _error_defect(
        errors.ProviderUnavailableError, errors.ProviderUnavailableError, retryable=False
    ),
    "errors.mid-stream": LosesTextBeforeAStreamError,
    "stream.truncation": _error_defect(errors.StreamTruncatedError, errors.StreamError),
    "secrets.never-shown": KeyInErrors,
    "tools.choice": DropsToolChoice,
    "structured.output": DropsResponseFormat,
    "vision.input": FlattensImages,
    "thinking.requested": DropsThinking,
}
#: A defect in what is sent: the replica must see the broken request.
SENT = {"request.shape"}
#: Defects in what is sent that touch only the requests of the scenarios listing the clause.
SENT_FEATURES = {"tools.choice", "structured.output", "vision.input", "thinking.requested"}


def test_every_clause_has_a_defect() -> None:
    assert set(DEFECTS) == set(load_clauses())


def test_the_healthy_provider_fails_nothing() -> None:
    assert failing_clauses(Broken) == set()


@pytest.mark.parametrize("clause", sorted(set(DEFECTS) - SENT - SENT_FEATURES))
def test_only_this_clause_catches_its_defect(clause: str) -> None:
    assert failing_clauses(DEFECTS[clause]) == {clause}


@pytest.mark.parametrize("clause", sorted(SENT))
def test_only_this_clause_catches_a_defect_in_what_is_sent(clause: str) -> None:
    assert failing_on_the_replica(wrapping_ours(DEFECTS[clause])) == {clause}


@pytest.mark.parametrize("clause", sorted(SENT_FEATURES))
def test_only_this_clause_catches_a_request_feature_lost_on_the_way(clause: str) -> None:
    """The defect changes only a field the other scenarios leave unset, so the scenarios that
    list the clause are the ones it can touch: each is run against the replica."""
    factory = wrapping_ours(DEFECTS[clause])

    async def failing() -> set[str]:
        found: set[str] = set()
        for case, clauses in applicable_cases(PROFILE, PROFILE.capabilities):
            if clause in case.scenario.clauses:
                outcome = await run_case(case, PROFILE, factory)
                found |= {c for c in clauses if judge(case, c, PROFILE, outcome)[1] is not None}
        return found

    assert asyncio.run(failing()) == {clause}
