"""One check per clause: given a case, the vendor profile and what happened, pass or why not.

A check returns None when the clause holds and a short, specific reason when it does not.
Checks read only the outcome (events, errors, what was sent), never the provider's insides.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from contracts.grammar import violations
from contracts.protocols import protocol_for
from contracts.spec import STOP_FAILURES, Answer, Case, expected_stop
from providers import errors as error_types
from providers.types import (
    CompletionResponse,
    Connected,
    Done,
    MessageDelta,
    StopReason,
    StreamEvent,
    TextDelta,
    ThinkingDelta,
    ToolUseEnd,
    Usage,
)
from providers.vendors import StopMapping, VendorProfile

from .runner import OVER_LIMITS, Outcome


class NotExercised(str):
    """A check's answer when the case never exercised the clause (a live model that chose not
    to call a tool, a request the server refused): it counts neither for nor against, and its
    text says why."""


NOT_EXERCISED = NotExercised("not exercised")


def not_exercised(detail: str | None) -> bool:
    return isinstance(detail, NotExercised)


@dataclass(frozen=True)
class Context:
    case: Case
    profile: VendorProfile
    outcome: Outcome

    @property
    def events(self) -> list[StreamEvent]:
        return self.outcome.events

    def observed(self, path: str) -> Answer | None:
        """What the vendor sent to that path's request, read from the recorded bytes.

        stream() runs first and complete() last, so their exchanges are the first and the
        last: this holds whatever request a provider's complete() makes.
        """
        exchanges = self.outcome.exchanges
        if path not in self.outcome.ran or not exchanges:
            return None
        if self.case.expected is not None:  # a real recording: its frozen expectation
            return self.case.expected.answer()
        return protocol_for(self.profile).read(exchanges[0 if path == "stream" else -1])

    def judged_path(self) -> str:
        """stream() where it ran (complete() departing from it is complete.agrees' to report:
        one fault, one clause); complete() where only it ran (an imported JSON answer)."""
        return "stream" if "stream" in self.outcome.ran else "complete"

    def served_status(self, path: str = "stream") -> int | None:
        """The HTTP status the server answered that path's request with, when recorded."""
        exchanges = self.outcome.exchanges
        if path not in self.outcome.ran or not exchanges:
            return None
        return exchanges[0 if path == "stream" else -1].status

    def refused(self) -> NotExercised | None:
        """Why there is no answer to judge when the server refused a request the scenario
        expects it to answer (vLLM without its tool flags answers tools with 400): what we
        sent is request.shape's to judge, the answer clauses are not exercised."""
        scenario = self.case.scenario
        if scenario.fault is not None or scenario.expect.error or self.case.expected is not None:
            return None
        for exchange in self.outcome.exchanges:
            if exchange.status >= 400:
                said = (_vendor_messages(exchange.body) or [" ".join(exchange.body.split())])[0]
                return NotExercised(f"the server refused the request ({exchange.status}: {said})")
        return None

    def shape_refused(self, path: str) -> str | None:
        """The vendor's refusal of that path's request for its shape (a field it documents as
        refused), as served in its place: what that path raised tells nothing of the
        scenario's fault or answer, and what was sent is request.shape's to judge."""
        exchanges = self.outcome.exchanges
        if path not in self.outcome.ran or not exchanges:
            return None
        exchange = exchanges[0 if path == "stream" else -1]
        rule = protocol_for(self.profile).refusal(exchange.request)
        if rule is None or exchange.status != rule.status:
            return None
        said = (_vendor_messages(exchange.body) or [" ".join(exchange.body.split())])[0]
        return f"{exchange.status}: {said}"

    def fault_missed(self) -> bool:
        """The scenario provokes an HTTP error, but the server answered 2xx with an answer (a
        live endpoint that accepts any key, say): the fault did not happen. A 2xx carrying an
        error body is the fault, told another way."""
        status = self.served_status()
        if self.case.scenario.fault is None or status is None or status >= 400:
            return False
        return not _error_body(self.outcome.exchanges[0].body)

    def before_2xx(self) -> bool:
        """The stream's request was answered with a status other than 2xx (or, unrecorded, the
        scenario provokes one): nothing may be yielded."""
        status = self.served_status()
        if status is None:
            return self.case.scenario.fault is not None
        return not 200 <= status < 300

    def failure_expected(self) -> bool:
        """The scenario provokes an error, or the vendor's finish value maps to one."""
        if self.fault_missed():
            return False
        if self.case.scenario.expect.error:
            return True
        answer = self.observed("stream")
        if answer is None or answer.finish is None:
            return False
        return str(self.expected_stop(answer)) in STOP_FAILURES

    def expected_stop(self, answer: Answer) -> StopMapping:
        assert answer.finish is not None
        frozen = self.case.expected.stop() if self.case.expected else None
        if frozen is not None:
            return frozen
        return expected_stop(self.profile, answer.finish, tool_calls=bool(answer.tool_calls))

    def of(self, kind: type[Any]) -> list[Any]:
        return [event for event in self.events if isinstance(event, kind)]

    def raised_unexpectedly(self) -> Exception | None:
        """stream()'s error when the vendor answered normally: clauses about the stream's
        content judge what was yielded; the raise itself is blamed where it broke something."""
        if self.failure_expected():
            return None
        return self.outcome.stream_error

    def content_complete(self, answer: Answer) -> bool:
        """Whether stream() yielded all the text, reasoning and closed tool calls sent."""
        return (
            _texts(self.events, TextDelta) == "".join(answer.text)
            and _texts(self.events, ThinkingDelta) == "".join(answer.thinking)
            and len(self.of(ToolUseEnd)) >= len(answer.tool_calls)
        )

    def errors(self) -> list[tuple[str, Exception | None]]:
        """(path, error) for each path the case ran."""
        found = []
        if "stream" in self.outcome.ran:
            found.append(("stream", self.outcome.stream_error))
        if "complete" in self.outcome.ran:
            found.append(("complete", self.outcome.complete_error))
        return found


Check = Callable[[Context], str | None]
CHECKS: dict[str, Check] = {}


def check(clause_id: str) -> Callable[[Check], Check]:
    def register(function: Check) -> Check:
        CHECKS[clause_id] = function
        return function

    return register


def _describe(error: Exception | None) -> str:
    return "no error" if error is None else f"{type(error).__name__}: {error}"


def _succeeded(ctx: Context, *paths: str) -> str | None:
    """Why the case did not run cleanly on `paths` (default: all it ran), for checks that need
    a normal answer there."""
    refused = ctx.refused()
    if refused:
        return refused
    for path, error in ctx.errors():
        if error is not None and (not paths or path in paths):
            return f"{path}() raised {_describe(error)}"
    return None


def _error_body(body: str) -> bool:
    """Whether a 2xx body is a JSON error document rather than an answer."""
    try:
        document = json.loads(body)
    except ValueError:
        return False
    entries = document if isinstance(document, list) else [document]
    return any(
        isinstance(e, dict)
        and (e.get("error") or e.get("object") == "error" or e.get("type") == "error")
        for e in entries
    )


def _texts(events: list[StreamEvent], kind: type[TextDelta | ThinkingDelta]) -> str:
    return "".join(e.text for e in events if isinstance(e, kind))


# -- grammar -----------------------------------------------------------------------------------


@check("grammar.connected-first")
def _connected_first(ctx: Context) -> str | None:
    if "stream" not in ctx.outcome.ran:
        return NOT_EXERCISED
    connected = [i for i, e in enumerate(ctx.events) if isinstance(e, Connected)]
    if ctx.before_2xx():
        return f"{len(ctx.events)} event(s) yielded before a 2xx response" if ctx.events else None
    if not ctx.events and ctx.outcome.stream_error is not None:
        return None  # a failure before Connected raises and yields nothing
    if connected != [0]:
        return f"Connected at positions {connected}, expected exactly once at 0"
    return None


@check("grammar.terminal-sequence")
def _terminal(ctx: Context) -> str | None:
    if ctx.failure_expected():
        if ctx.outcome.stream_error is None:
            return NOT_EXERCISED  # no error at all: the error clause reports the missing raise
        ended = [type(e).__name__ for e in ctx.events if isinstance(e, MessageDelta | Usage | Done)]
        return f"a failing stream still yielded {ended}" if ended else None
    if "stream" not in ctx.outcome.ran:
        return NOT_EXERCISED
    if ctx.outcome.stream_error is not None:
        # It did not finish: what the raise broke (text, calls, the stop) is blamed there.
        return NOT_EXERCISED
    tail = [type(e).__name__ for e in ctx.events[-3:]]
    counts = {k.__name__: len(ctx.of(k)) for k in (MessageDelta, Usage, Done)}
    if tail != ["MessageDelta", "Usage", "Done"] or set(counts.values()) != {1}:
        return f"stream ends with {tail}, counts {counts}; expected one each, in order, last"
    return None


_TERMINAL = (MessageDelta, Usage, Done)


@check("grammar.blocks")
def _blocks(ctx: Context) -> str | None:
    """Judges the content blocks only: where Connected sits is grammar.connected-first's and
    the end of the stream grammar.terminal-sequence's, so both are put in canonical form."""
    if not ctx.events:
        return None
    head: list[StreamEvent] = [Connected(provider="", model="")]
    content = [e for e in ctx.events if not isinstance(e, (Connected, *_TERMINAL))]
    tail = [found[0] for kind in _TERMINAL if (found := ctx.of(kind))]
    raised = ctx.outcome.stream_error is not None
    # Done after an error, or an end never reached, is how the stream ended, not a block.
    ending = {"error-after-done"} | ({"incomplete"} if len(tail) < len(_TERMINAL) else set())
    found = [v for v in violations(head + content + tail, raised=raised) if v.rule not in ending]
    return "; ".join(map(str, found[:3])) or None


# -- content -----------------------------------------------------------------------------------


AnswerCheck = Callable[[Context, Answer], str | None]


def on_answer(
    clause_id: str, *, judged_after_a_raise: bool = True
) -> Callable[[AnswerCheck], AnswerCheck]:
    """Register a check that judges stream()'s events against what the vendor answered.

    When stream() raised anyway, a clause about content judges what was yielded (a raise
    that lost text is text.fidelity's); a clause about the end (`judged_after_a_raise=False`)
    has nothing to judge, since no end came.
    """

    def register(function: AnswerCheck) -> AnswerCheck:
        def checked(ctx: Context) -> str | None:
            answer = ctx.observed("stream")
            if answer is None:
                return _succeeded(ctx, "stream") or "no stream() response was recorded"
            if ctx.outcome.stream_error is not None and not judged_after_a_raise:
                return NOT_EXERCISED
            return function(ctx, answer)

        CHECKS[clause_id] = checked
        return function

    return register


@on_answer("text.fidelity")
def _text(ctx: Context, answer: Answer) -> str | None:
    expected, got = "".join(answer.text), _texts(ctx.events, TextDelta)
    return None if got == expected else f"text {got!r} != sent {expected!r}"


@on_answer("thinking.deltas")
def _thinking(ctx: Context, answer: Answer) -> str | None:
    expected, got = "".join(answer.thinking), _texts(ctx.events, ThinkingDelta)
    if not expected:
        return NOT_EXERCISED
    # Reasoning leaking into the answer is text.fidelity's to report: one fault, one clause.
    return None if got == expected else f"thinking {got!r} != sent {expected!r}"


Call = tuple[str, str, Any]


def _as_named(sent: Answer, got: list[Call]) -> list[Call]:
    """`got` with the ids of calls the vendor sent without one blanked: a vendor may send no
    id (or ""), and the provider then names the call itself."""
    ids = [c.id for c in sent.tool_calls]
    return [(g[0] if i >= len(ids) or ids[i] else "", g[1], g[2]) for i, g in enumerate(got)]


def _same_calls(sent: Answer, got: list[Call]) -> str | None:
    expected = [(c.id, c.name, c.input) for c in sent.tool_calls]
    got = _as_named(sent, got)
    return None if got == expected else f"tool calls {got} != sent {expected}"


def _same_calls_as(sent: Answer, one: list[Call], other: list[Call]) -> bool:
    return _as_named(sent, one) == _as_named(sent, other)


def _tool_blocks(ctx: Context, answer: Answer, minimum: int) -> str | None:
    offered = [tool.name for tool in ctx.case.scenario.request.tools]
    if not answer.tool_calls:
        if not offered:
            return NOT_EXERCISED  # a recording whose request offered no tools
        # The model declined: a server that ignores tools is caught where a call is forced.
        return NotExercised(f"the model answered without calling the offered tools {offered}")
    if len(answer.tool_calls) < minimum:
        return NOT_EXERCISED  # a model may choose fewer calls than the scenario invites
    return _same_calls(answer, [(e.id, e.name, e.input) for e in ctx.of(ToolUseEnd)])


def _kept_apart(sent: Answer, got: list[Call]) -> str | None:
    """Whether each call came out as its own block: as many blocks as calls, in order, each
    with a part (id, name or input) that is never another call's. How one call's fragments
    are assembled is tools.single's to judge."""
    expected = [(c.id, c.name, c.input) for c in sent.tool_calls]
    got = _as_named(sent, got)
    if len(got) != len(expected):
        return f"{len(got)} tool blocks for the {len(expected)} calls sent: {got}"
    ids = [call[0] for call in got if call[0]]
    if len(set(ids)) != len(ids):
        return f"tool blocks share an id: {ids}"
    for position, call in enumerate(got):
        others = expected[:position] + expected[position + 1 :]
        for part, name in enumerate(("id", "name", "input")):
            if call[part] != expected[position][part] and any(
                call[part] == other[part] for other in others
            ):
                return f"block {position} carries another call's {name}: {got} != sent {expected}"
    return None


def _parallel_blocks(ctx: Context, answer: Answer) -> str | None:
    found = _tool_blocks(ctx, answer, minimum=2)
    if found in (None, NOT_EXERCISED) or len(answer.tool_calls) < 2:
        return found
    return _kept_apart(answer, [(e.id, e.name, e.input) for e in ctx.of(ToolUseEnd)])


def _single_blocks(ctx: Context, answer: Answer) -> str | None:
    found = _tool_blocks(ctx, answer, minimum=1)
    if found is not None:
        return found
    sent = [call.joined for call in answer.tool_calls]
    texts = [end.arguments for end in ctx.of(ToolUseEnd)]
    if texts != sent:
        return f"arguments {texts} are not the text the vendor sent, {sent}"
    return None


def _refused_malformed(ctx: Context, answer: Answer) -> str | None:
    """Whether every path refused an answer whose calls break the documented rule (arguments
    that are no JSON object) with MalformedResponseError, as providers promise."""
    call = answer.malformed_calls[0]
    for path, error in ctx.errors():
        if not isinstance(error, error_types.MalformedResponseError):
            return (
                f"{path}() gave {_describe(error)}, expected MalformedResponseError: the "
                f"vendor's call {call.name!r} has arguments {call.joined[:60]!r}, no JSON object"
            )
    return None


def _judging_malformed(clause_id: str) -> None:
    """Put a check of tool calls behind the rule for malformed ones: such an answer is judged
    by the refusal it calls for, on whichever path ran; any other by the check itself."""
    judge = CHECKS[clause_id]

    def checked(ctx: Context) -> str | None:
        answer = ctx.observed(ctx.judged_path())
        if answer is not None and answer.malformed_calls:
            return _refused_malformed(ctx, answer)
        return judge(ctx)

    CHECKS[clause_id] = checked


on_answer("tools.single")(_single_blocks)
on_answer("tools.parallel")(_parallel_blocks)
_judging_malformed("tools.single")
_judging_malformed("tools.parallel")


# -- stop reasons ------------------------------------------------------------------------------


#: Why no stop reason can follow the map: the answer came without a finish value.
_NO_FINISH = (
    "the vendor sent no finish reason (no chunk carried a non-empty one), so the stream cannot "
    "end with a stop reason: the answer reads as cut off"
)


@check("stop.mapping")
def _stop_mapping(ctx: Context) -> str | None:
    if ctx.case.scenario.fault is not None:
        return NOT_EXERCISED
    answer = ctx.observed("stream")
    if answer is None:
        return _succeeded(ctx, "stream") or "no stream() response was recorded"
    if answer.finish is None:
        return ctx.refused() or _NO_FINISH
    expected = ctx.expected_stop(answer)
    if expected in STOP_FAILURES:
        return _raised(ctx, STOP_FAILURES[str(expected)])
    error = ctx.outcome.stream_error
    if error is not None:
        if expected == StopReason.MAX_TOKENS or not ctx.content_complete(answer):
            # The raise cut the content short: the clause of what was lost reports it, and
            # a cap reached is stop.max-tokens' to judge.
            return NOT_EXERCISED
        return (
            f"stream() raised {_describe(error)} where the vendor finished with {answer.finish!r}"
        )
    deltas = ctx.of(MessageDelta)
    if expected == StopReason.MAX_TOKENS:  # its stop_reason is stop.max-tokens' to judge
        raw = [d.raw_stop_reason for d in deltas]
        right = raw and set(raw) == {answer.finish}
        return None if right else f"raw_stop_reason {raw} != [{answer.finish!r}]"
    wanted = MessageDelta(stop_reason=StopReason(str(expected)), raw_stop_reason=answer.finish)
    # How many MessageDelta events is grammar.terminal-sequence's: each one must be right.
    if not deltas or any(d != wanted for d in deltas):
        return f"got {[d.model_dump() for d in deltas]}, expected {wanted.model_dump()}"
    return None


@check("stop.max-tokens")
def _max_tokens(ctx: Context) -> str | None:
    answer = ctx.observed("stream")
    if answer is None:
        return _succeeded(ctx, "stream") or "no stream() response was recorded"
    if answer.finish is None:
        # No stop at all is stop.mapping's to report; a cap overrun still shows here.
        return _limit_ignored(ctx, answer) or NOT_EXERCISED
    if ctx.expected_stop(answer) != StopReason.MAX_TOKENS:
        return _limit_ignored(ctx, answer) or NOT_EXERCISED  # finished before the limit
    error = ctx.outcome.stream_error
    if error is not None:
        cap = answer.finish
        return f"stream() raised {_describe(error)} where the vendor stopped at the cap ({cap!r})"
    reasons = [d.stop_reason for d in ctx.of(MessageDelta)]
    if not reasons or set(reasons) != {StopReason.MAX_TOKENS}:
        return f"stop reasons {reasons}, expected [max_tokens] for finish {answer.finish!r}"
    return None


def _limit_ignored(ctx: Context, answer: Answer) -> str | None:
    """Why the server evidently ignored the request's max-tokens cap, if it did."""
    cap = ctx.case.scenario.request.max_tokens
    if cap is None or answer.usage == "none":
        return None
    used = answer.usage.completion
    # Exactly at the cap is no evidence: vLLM counts the end token, so a model that ends on
    # the last allowed token finishes `stop` with completion_tokens == cap.
    if used > cap:
        return f"the server ignored the max-tokens cap: {used} completion tokens for a cap of {cap}"
    return None


# -- usage -------------------------------------------------------------------------------------


def _counted(usage: Usage) -> tuple[int, int, int, int, bool]:
    return (
        usage.input_tokens,
        usage.output_tokens,
        usage.cache_read_tokens,
        usage.cache_write_tokens,
        usage.estimated,
    )


def _usage_matches(usage: Usage, answer: Answer) -> str | None:
    if answer.usage == "none":
        return None if usage.estimated else "no usage was sent, yet Usage is not estimated"
    got = _counted(usage)
    sent = answer.usage
    want = (sent.prompt, sent.completion, sent.cache_read, sent.cache_write, False)
    if got == want:
        return None
    return f"Usage (in, out, cache read, cache write, estimated) {got} != reported {want}"


@on_answer("usage.reported", judged_after_a_raise=False)
def _usage(ctx: Context, answer: Answer) -> str | None:
    usages = ctx.of(Usage)
    if not usages:
        return "no Usage was yielded"
    # How many Usage events, and where, is grammar.terminal-sequence's: this judges the last.
    return _usage_matches(usages[-1], answer)


def _against_stream(ctx: Context) -> tuple[CompletionResponse, Answer] | str:
    """complete()'s response and what the vendor sent to it, when there is something to
    compare: stream() answered too (or was not run, as for a recorded complete())."""
    if ctx.outcome.stream_error is not None:
        return NOT_EXERCISED  # nothing to compare with; stream()'s failure is judged apart
    reason = _succeeded(ctx, "complete")
    answer, response = ctx.observed("complete"), ctx.outcome.response
    if reason or answer is None or response is None:
        return reason or "no complete() response was recorded"
    return response, answer


def _departs(wrong_against_vendor: str | None, same_as_stream: bool, ctx: Context) -> str | None:
    """complete()'s difference, blamed on complete() only where stream() did not share it: a
    fault both paths share is the stream clause's to report."""
    if wrong_against_vendor is None or (same_as_stream and "stream" in ctx.outcome.ran):
        return None
    return wrong_against_vendor


@check("usage.consistent")
def _usage_consistent(ctx: Context) -> str | None:
    if ctx.outcome.complete_error is not None:
        return NOT_EXERCISED  # complete.agrees reports a complete() that raised
    compared = _against_stream(ctx)
    if isinstance(compared, str):
        return compared
    response, answer = compared
    got, streamed = response.usage, ctx.of(Usage)
    same = [_counted(u) for u in streamed] == [_counted(got)]
    found = _departs(_usage_matches(got, answer), same, ctx)
    return f"complete(): {found}" if found else None


def _stop_of(ctx: Context, answer: Answer) -> tuple[Any, str] | None:
    """The stop the vendor's finish means, as (stop_reason, raw_stop_reason)."""
    return None if answer.finish is None else (ctx.expected_stop(answer), answer.finish)


@check("complete.agrees")
def _complete_agrees(ctx: Context) -> str | None:
    compared = _against_stream(ctx)
    if isinstance(compared, str):
        return compared
    response, answer = compared
    problems = []
    streamed_text, sent_text = _texts(ctx.events, TextDelta), "".join(answer.text)
    text = None if response.text == sent_text else f"text {response.text!r} != sent {sent_text!r}"
    problems.append(_departs(text, response.text == streamed_text, ctx))
    got = [(c.id, c.name, c.input) for c in response.tool_calls]
    streamed = [(e.id, e.name, e.input) for e in ctx.of(ToolUseEnd)]
    problems.append(_departs(_same_calls(answer, got), _same_calls_as(answer, got, streamed), ctx))
    wanted = _stop_of(ctx, answer)
    stop = (response.stop_reason, response.raw_stop_reason)
    if wanted is not None and stop != wanted:
        streamed_stop = [(d.stop_reason, d.raw_stop_reason) for d in ctx.of(MessageDelta)]
        problems.append(
            _departs(
                f"stop {stop[0]}/{stop[1]!r} for finish {answer.finish!r}",
                streamed_stop == [stop],
                ctx,
            )
        )
    return "; ".join(filter(None, problems)) or None


# -- what we send ------------------------------------------------------------------------------


@check("request.shape")
def _request_shape(ctx: Context) -> str | None:
    """Judged by the vendor's documented rules, not by sameness with our own builder."""
    protocol = protocol_for(ctx.profile)
    problems = [
        problem
        for body in ctx.outcome.sent
        for problem in protocol.judge_request(body, ctx.case.scenario.request)
    ]
    if not ctx.outcome.sent:
        problems.append("no request was recorded")
    return "; ".join(sorted(set(problems))) or None


# -- errors ------------------------------------------------------------------------------------


#: What it means when a live endpoint answers 2xx to a request meant to fail.
_ACCEPTED = {
    "bad_key": "the server accepted an invalid key",
    "bad_model": "the server accepted a model that does not exist",
}


def _judged_errors(ctx: Context) -> list[tuple[str, Exception | None]] | NotExercised:
    """(path, error) for each path whose request reached the scenario; not exercised when
    the vendor refused every path's request for its shape."""
    refused = {path: ctx.shape_refused(path) for path, _ in ctx.errors()}
    judged = [(path, error) for path, error in ctx.errors() if not refused[path]]
    if ctx.errors() and not judged:
        said = next(filter(None, refused.values()))
        return NotExercised(
            f"the server refused the request for its shape ({said}) before the scenario could "
            "play: request.shape judges what was sent"
        )
    return judged


def _raised(ctx: Context, expected: type[Exception], *, retries: bool = True) -> str | None:
    """Why the case did not raise `expected` as the scenario says; with `retries=False` how
    retryable it is and how often it was sent are left to another clause."""
    expect = ctx.case.scenario.expect
    judged = _judged_errors(ctx)
    if isinstance(judged, NotExercised):
        return judged
    if ctx.fault_missed() and ctx.case.scenario.live in OVER_LIMITS:
        return _empty_instead_of_refused(ctx) or NotExercised(OVER_LIMITS[ctx.case.scenario.live])
    if ctx.fault_missed():
        fault = ctx.case.scenario.fault
        assert fault is not None
        what = _ACCEPTED.get(ctx.case.scenario.live, f"it did not answer {fault.status}")
        return f"{what} (it answered {ctx.served_status()} instead)"
    problems = []
    for path, error in judged:
        if not isinstance(error, expected):
            problems.append(f"{path}() gave {_describe(error)}, expected {expected.__name__}")
            continue
        if not retries:
            continue
        retryable = getattr(error, "retryable", None)
        if expect.retryable is not None and retryable is not expect.retryable:
            problems.append(f"{path}(): retryable={retryable}, expected {expect.retryable}")
        if expect.retry_after is not None and getattr(error, "retry_after", None) != (
            expect.retry_after
        ):
            problems.append(
                f"{path}(): retry_after={getattr(error, 'retry_after', None)}, "
                f"expected {expect.retry_after}"
            )
    if ctx.of(Done):
        problems.append("Done was yielded although the stream failed")
    if retries:
        problems.extend(_retries(ctx))
    return "; ".join(problems) or None


def _empty_instead_of_refused(ctx: Context) -> str | None:
    """A request over the limits answered 2xx with nothing at all (no text, reasoning or
    call): not a larger window but a failure passed off as an empty answer."""
    answer = ctx.observed("stream")
    if answer is None or "".join(answer.text) or "".join(answer.thinking) or answer.tool_calls:
        return None
    fault = ctx.case.scenario.fault
    assert fault is not None
    return (
        f"the server answered {ctx.served_status()} with an empty answer where it should have "
        f"refused the request ({fault.status}): a failure passed off as an answer"
    )


def _retries(ctx: Context) -> list[str]:
    """What the request journal shows against the scenario: more requests than calls (a
    retry) for an error that is not retryable, or retries sooner than the server's
    Retry-After. Each call sends one request unless it retries; the gaps between calls are
    not retries, so only as many gaps as there were retries must be long enough."""
    fault = ctx.case.scenario.fault
    sent = [exchange for exchange in ctx.outcome.exchanges if exchange.status >= 400]
    retries = len(sent) - len(ctx.outcome.ran)
    if fault is None or retries <= 0 or ctx.fault_missed():
        return []
    if ctx.case.scenario.expect.retryable is False:
        return [
            f"{len(sent)} requests for {len(ctx.outcome.ran)} call(s): a {fault.status} is not "
            "retryable, so it must be sent once"
        ]
    waits = [
        later.at - earlier.at
        for earlier, later in itertools.pairwise(sent)
        if earlier.at is not None and later.at is not None
    ]
    waited = sum(wait >= fault.retry_after for wait in waits) if fault.retry_after else retries
    if waits and waited < retries:
        return [
            f"{retries} retr{'y' if retries == 1 else 'ies'}, {retries - waited} sooner than the "
            f"Retry-After: {fault.retry_after} the {fault.status} asked for"
        ]
    return []


def _error_check(clause_id: str, expected: type[Exception]) -> None:
    check(clause_id)(lambda ctx: _raised(ctx, expected))


_error_check("errors.authentication", error_types.AuthenticationError)
_error_check("errors.rate-limit", error_types.RateLimitError)


def _vendor_messages(body: str) -> list[str]:
    """The explanations a vendor's error body carries (`message`, `msg`, `detail` strings)."""
    try:
        document = json.loads(body)
    except ValueError:
        return [body.strip()] if body.strip() else []
    found: list[str] = []
    pending = [document]
    while pending:
        item = pending.pop()
        if isinstance(item, dict):
            for key, value in item.items():
                if key in ("message", "msg", "detail") and isinstance(value, str) and value:
                    found.append(value)
                else:
                    pending.append(value)
        elif isinstance(item, list):
            pending.extend(item)
    return found


#: The statuses of a request the vendor refuses as invalid.
_INVALID_STATUSES = (400, 422)


@check("errors.invalid-request")
def _invalid_request(ctx: Context) -> str | None:
    status = ctx.served_status()
    specific = ctx.case.scenario.expect.error not in (None, "InvalidRequestError")
    if specific and status is not None and status not in _INVALID_STATUSES:
        # The answer the scenario expects instead is its own error clause's to judge
        # (errors.context-length): one fault, one clause.
        statuses = " or ".join(map(str, _INVALID_STATUSES))
        return NotExercised(
            f"the server answered {status}, not {statuses}: the case's own error clause "
            f"({ctx.case.scenario.expect.error} expected) judges it"
        )
    # Whether the more specific error may be retried is its own clause's to judge.
    wrong = _raised(ctx, error_types.InvalidRequestError, retries=not specific)
    if wrong:
        return wrong
    messages = [
        m for e in ctx.outcome.exchanges if e.status >= 400 for m in _vendor_messages(e.body)
    ]
    judged = _judged_errors(ctx)
    assert not isinstance(judged, NotExercised), "_raised answered for that"
    for path, error in judged:
        shown = str(error)
        if messages and not any(message in shown for message in messages):
            return f"{path}() dropped the vendor's message {messages[0]!r}: it says {shown!r}"
    return None


_error_check("errors.context-length", error_types.ContextLengthError)
_error_check("errors.model-not-found", error_types.ModelNotFoundError)
_error_check("errors.unavailable", error_types.ProviderUnavailableError)


@check("errors.mid-stream")
def _mid_stream(ctx: Context) -> str | None:
    """The error the vendor sent is raised, as itself: its message kept, never passed off as a
    cut stream; and what came before it is yielded first (its exact text is text.fidelity's)."""
    wrong = _raised(ctx, error_types.StreamError)
    if wrong:
        return wrong
    error = ctx.outcome.stream_error
    if isinstance(error, error_types.StreamTruncatedError):
        return f"the vendor sent an error payload, but stream() raised {_describe(error)}"
    sent = ctx.case.answer.error if ctx.case.answer else None
    if error is not None and sent and sent not in str(error):
        return f"stream() dropped the vendor's message {sent!r}: it says {str(error)!r}"
    answer = ctx.observed("stream")
    if answer is not None and "".join(answer.text) and not ctx.of(TextDelta):
        return f"the vendor sent {''.join(answer.text)!r} before the error, but no text was yielded"
    return None


_error_check("stream.truncation", error_types.StreamTruncatedError)


# -- secrets -----------------------------------------------------------------------------------


@check("secrets.never-shown")
def _secrets(ctx: Context) -> str | None:
    if not ctx.outcome.secret:
        return NotExercised("no key to hide: the endpoint takes none, or it is too short to scrub")
    shown = [
        ("events", repr(ctx.events)),
        ("response", repr(ctx.outcome.response)),
        ("cassette", ctx.outcome.cassette_text),
    ]
    for path, error in ctx.errors():
        if error is not None:
            shown.append((f"{path}() error", f"{error} {error!r}"))
    leaks = [where for where, text in shown if ctx.outcome.secret in text]
    return f"the API key appears in: {', '.join(leaks)}" if leaks else None


# The request-feature checks register themselves into CHECKS.
from contracts import checks_features  # noqa: E402, F401
