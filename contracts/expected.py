"""Frozen expectations: what a real recording must yield, written into its cassette at import.

The block is computed once, by the independent reader, and kept as data a person reviews in
the diff. Replay then judges the provider against this block rather than a fresh derivation,
so a later change in the adapter or in the reader shows up as a failure instead of silently
moving both sides of the comparison.
"""

from __future__ import annotations

from typing import Any, Literal

from contracts.observed import Exchange, sse_payloads
from contracts.protocols import WireProtocol, protocol_for
from contracts.spec import Answer, ToolCallSpec, UsageSpec, expected_stop
from providers import errors as error_types
from providers.frozen import Frozen as _Frozen
from providers.types import StopReason
from providers.vendors import StopMapping, VendorProfile

Path = Literal["stream", "complete"]

#: What an HTTP status means, read from the status alone so it shares nothing with the
#: adapter's error mapping (which also reads codes and messages to pick a subclass).
_STATUS_ERRORS: dict[int, type[error_types.LlmError]] = {
    400: error_types.InvalidRequestError,
    401: error_types.AuthenticationError,
    403: error_types.AuthenticationError,
    404: error_types.ModelNotFoundError,
    413: error_types.InvalidRequestError,
    422: error_types.InvalidRequestError,
    429: error_types.RateLimitError,
}
ERROR_CLASSES: dict[str, type[error_types.LlmError]] = {
    kind.__name__: kind
    for kind in (
        *_STATUS_ERRORS.values(),
        error_types.ProviderUnavailableError,
        error_types.StreamError,
        error_types.MalformedResponseError,
    )
}


class ExpectedCall(_Frozen):
    id: str
    name: str
    #: The argument text as sent, and its parsed form (None when it is not valid JSON).
    arguments: str
    input: dict[str, Any] | None


class ExpectedUsage(_Frozen):
    #: All input tokens, cached ones included, as `Usage.input_tokens` counts them.
    input_tokens: int
    output_tokens: int
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0


class Expected(_Frozen):
    """What the provider must yield for one recorded exchange."""

    path: Path
    status: int = 200
    text: str = ""
    thinking: str = ""
    tool_calls: tuple[ExpectedCall, ...] = ()
    finish: str | None = None
    stop_reason: str | None = None
    usage: ExpectedUsage | None = None
    #: The LlmError subclass the provider must raise (by name), for a recorded failure.
    error: str | None = None

    def answer(self) -> Answer | None:
        """The recording as the checks read answers; None for an HTTP failure."""
        if self.status >= 400:
            return None
        usage: UsageSpec | Literal["none"] = "none"
        if self.usage is not None:
            usage = UsageSpec(
                prompt=self.usage.input_tokens,
                completion=self.usage.output_tokens,
                cache_read=self.usage.cache_read_tokens,
                cache_write=self.usage.cache_write_tokens,
            )
        return Answer(
            text=(self.text,),
            thinking=(self.thinking,),
            tool_calls=tuple(
                ToolCallSpec(id=c.id, name=c.name, arguments=(c.arguments,))
                for c in self.tool_calls
            ),
            finish=self.finish,
            usage=usage,
            truncate=self.finish is None and not self.error,
        )

    def stop(self) -> StopMapping | None:
        return None if self.stop_reason is None else _stop_mapping(self.stop_reason)

    def error_class(self) -> type[error_types.LlmError] | None:
        return ERROR_CLASSES[self.error] if self.error else None


_FAILURE_MAPPINGS: dict[str, StopMapping] = {"error": "error", "retryable_error": "retryable_error"}


def _stop_mapping(value: str) -> StopMapping:
    return _FAILURE_MAPPINGS.get(value) or StopReason(value)


def status_error(status: int) -> type[error_types.LlmError]:
    if status in _STATUS_ERRORS:
        return _STATUS_ERRORS[status]
    return error_types.ProviderUnavailableError


def _midstream_error(exchange: Exchange, protocol: WireProtocol) -> bool:
    """A 200 stream that carries an error payload, in its protocol's shape: an error, not
    content."""
    payloads = sse_payloads(exchange.body)[0]
    return any(isinstance(p, dict) and protocol.carries_error(p) for p in payloads)


def _call(spec: ToolCallSpec) -> ExpectedCall:
    return ExpectedCall(id=spec.id, name=spec.name, arguments=spec.joined, input=spec.input)


def _answer_error(exchange: Exchange, protocol: WireProtocol, answer: Answer) -> str | None:
    """The error the provider promises for a 200 answer: the vendor's own error inside the
    stream, else MalformedResponseError for a tool call whose arguments are no JSON object
    (the documented rule, not whatever the reader happens to tolerate)."""
    if "event-stream" in exchange.content_type and _midstream_error(exchange, protocol):
        return error_types.StreamError.__name__
    if answer.malformed_calls:
        return error_types.MalformedResponseError.__name__
    return None


def freeze(exchange: Exchange, profile: VendorProfile) -> Expected:
    """Read `exchange` with the independent reader and fix the result as data."""
    path: Path = "stream" if "event-stream" in exchange.content_type else "complete"
    if exchange.status >= 400:
        return Expected(
            path=path, status=exchange.status, error=status_error(exchange.status).__name__
        )
    protocol = protocol_for(profile)
    answer = protocol.read(exchange)
    assert answer is not None  # only an HTTP failure has no answer
    stop = None
    if answer.finish is not None:
        stop = str(expected_stop(profile, answer.finish, tool_calls=bool(answer.tool_calls)))
    usage = None
    if isinstance(answer.usage, UsageSpec):
        usage = ExpectedUsage(
            input_tokens=answer.usage.prompt,
            output_tokens=answer.usage.completion,
            cache_read_tokens=answer.usage.cache_read,
            cache_write_tokens=answer.usage.cache_write,
        )
    return Expected(
        path=path,
        text="".join(answer.text),
        thinking="".join(answer.thinking),
        tool_calls=tuple(_call(call) for call in answer.tool_calls),
        finish=answer.finish,
        stop_reason=stop,
        usage=usage,
        error=_answer_error(exchange, protocol, answer),
    )
