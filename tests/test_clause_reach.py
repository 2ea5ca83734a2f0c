"""Each clause judges exactly its statement: a fault another clause owns leaves it alone.

Hand-made outcomes, no server: what a provider yielded and raised, and what the server sent.
"""

from __future__ import annotations

import json

from test_checks_answers import HELLO, START, ended, judge, sent
from test_checks_errors import auth_error
from test_checks_errors import judge as judge_error

from contracts.checks import CHECKS, NOT_EXERCISED, Context
from contracts.expected import ExpectedCall
from contracts.observed import Exchange
from contracts.runner import Outcome
from contracts.spec import Case, load_scenarios
from contracts.wire import chunk, sse_body
from providers import errors
from providers.types import (
    CompletionResponse,
    StopReason,
    TextDelta,
    ToolInputDelta,
    ToolUseEnd,
    ToolUseStart,
    Usage,
)
from providers.vendors import load_profile

PROFILE = load_profile("openai")
SCENARIOS = {scenario.id: scenario for scenario in load_scenarios()}
OPENAI_401 = {
    "error": {
        "message": "Incorrect API key provided",
        "type": "invalid_request_error",
        "param": None,
        "code": "invalid_api_key",
    }
}

# -- grammar.connected-first: only after a 2xx ----------------------------------------------------


def _on_status(clause: str, scenario: str, status: int, body: str, error: Exception) -> str | None:
    outcome = Outcome(
        stream_error=error,
        ran=("stream",),
        exchanges=[Exchange(request={}, status=status, content_type="application/json", body=body)],
    )
    case = Case(scenario, SCENARIOS[scenario], "stop" if scenario == "text_basic" else None)
    return CHECKS[clause](Context(case, PROFILE, outcome))


def test_a_request_refused_with_422_needs_no_connected() -> None:
    """A live server refusing a normal request: nothing yielded is what the clause asks."""
    refused = errors.InvalidRequestError("bad", provider="p", status_code=422)
    body = json.dumps({"detail": "bad"})
    assert _on_status("grammar.connected-first", "text_basic", 422, body, refused) is None


def test_an_error_body_with_200_may_raise_before_connected() -> None:
    body = json.dumps(OPENAI_401)
    raised = errors.AuthenticationError("bad key", provider="p", status_code=200)
    assert _on_status("grammar.connected-first", "error_auth", 200, body, raised) is None
    assert _on_status("grammar.connected-first", "text_basic", 200, body, raised) is None


def test_events_before_a_non_2xx_status_fail() -> None:
    verdict = judge_error(
        "grammar.connected-first", "error_auth", error=auth_error(), status=401, events=(START,)
    )
    assert verdict == "1 event(s) yielded before a 2xx response"


# -- errors.authentication: a key rejected inside a 200 body was not accepted ---------------------


def test_a_key_rejected_in_a_200_body_is_judged_by_the_error_raised() -> None:
    body = json.dumps(OPENAI_401)
    right = errors.AuthenticationError("bad key", provider="p", status_code=200)
    assert (
        judge_error("errors.authentication", "error_auth", error=right, status=200, body=body)
        is None
    )
    wrong = errors.InvalidRequestError("bad key", provider="p", status_code=200)
    verdict = judge_error("errors.authentication", "error_auth", error=wrong, status=200, body=body)
    assert verdict == (
        "stream() gave InvalidRequestError: [p HTTP 200] bad key, expected AuthenticationError"
    )


# -- grammar.blocks: where Connected sits is not its business -------------------------------------


def test_a_missing_connected_fails_connected_first_only() -> None:
    events = [TextDelta(index=0, text="hi"), *ended(StopReason.END_TURN, "stop")]
    assert judge("grammar.blocks", "text_basic", HELLO, events) is None
    assert judge("grammar.connected-first", "text_basic", HELLO, events) == (
        "Connected at positions [], expected exactly once at 0"
    )
    twice = [START, TextDelta(index=0, text="hi"), START, *ended(StopReason.END_TURN, "stop")]
    assert judge("grammar.blocks", "text_basic", HELLO, twice) is None


# -- complete.agrees / usage.consistent: complete() against stream() ------------------------------


def _response(stop: StopReason, raw: str, usage: Usage, text: str = "hi") -> CompletionResponse:
    return CompletionResponse(
        model="m", text=text, stop_reason=stop, raw_stop_reason=raw, usage=usage
    )


def test_a_stop_fault_both_paths_share_is_not_complete_s() -> None:
    events = [START, TextDelta(index=0, text="hi"), *ended(StopReason.OTHER, "stop")]
    response = _response(StopReason.OTHER, "stop", Usage(input_tokens=3, output_tokens=2))
    assert judge("complete.agrees", "text_basic", HELLO, events, response) is None
    assert judge("stop.mapping", "text_basic", HELLO, events, response) is not None


def test_a_stop_fault_of_complete_alone_is_complete_s() -> None:
    events = [START, TextDelta(index=0, text="hi"), *ended(StopReason.END_TURN, "stop")]
    response = _response(StopReason.OTHER, "stop", Usage(input_tokens=3, output_tokens=2))
    assert judge("complete.agrees", "text_basic", HELLO, events, response) == (
        "stop other/'stop' for finish 'stop'"
    )


def test_a_usage_fault_both_paths_share_is_not_complete_s() -> None:
    wrong = Usage(input_tokens=3, output_tokens=7)
    events = [START, TextDelta(index=0, text="hi"), *ended(StopReason.END_TURN, "stop")[:1]]
    events += [wrong, *ended(StopReason.END_TURN, "stop")[2:]]
    response = _response(StopReason.END_TURN, "stop", wrong)
    assert judge("usage.consistent", "text_basic", HELLO, events, response) is None
    assert judge("usage.reported", "text_basic", HELLO, events, response) is not None


def test_a_stream_fault_is_not_complete_s() -> None:
    """stream() lost the text; complete() is right: only text.fidelity fails."""
    events = [START, *ended(StopReason.END_TURN, "stop")]
    response = _response(StopReason.END_TURN, "stop", Usage(input_tokens=3, output_tokens=2))
    assert judge("complete.agrees", "text_basic", HELLO, events, response) is None


def test_a_raising_stream_leaves_nothing_to_compare() -> None:
    exchange = Exchange(request={}, status=200, content_type="text/event-stream", body="")
    response = _response(StopReason.END_TURN, "stop", Usage(input_tokens=3, output_tokens=2))
    outcome = Outcome(
        stream_error=ValueError("boom"),
        response=response,
        ran=("stream", "complete"),
        exchanges=[exchange, exchange],
    )
    case = Case("text_basic", SCENARIOS["text_basic"], "stop", HELLO)
    for clause in ("complete.agrees", "usage.consistent"):
        assert CHECKS[clause](Context(case, PROFILE, outcome)) == NOT_EXERCISED


# -- stop.mapping / stop.max-tokens after a raise -------------------------------------------------

TWO_CALLS = sent(
    tool_calls=(
        ExpectedCall(
            id="a", name="get_weather", arguments='{"city":"Paris"}', input={"city": "Paris"}
        ),
        ExpectedCall(id="b", name="get_time", arguments='{"zone":"UTC"}', input={"zone": "UTC"}),
    ),
    finish="tool_calls",
    stop_reason="tool_use",
)


def _raised_after(expected: object, events: list[object], scenario: str, clause: str) -> str | None:
    exchange = Exchange(request={}, status=200, content_type="text/event-stream", body="")
    outcome = Outcome(
        events=list(events),  # type: ignore[arg-type]
        stream_error=errors.MalformedResponseError("bad tool call", provider="p"),
        ran=("stream",),
        exchanges=[exchange],
    )
    case = Case(scenario, SCENARIOS[scenario], expected.finish, expected)  # type: ignore[attr-defined]
    return CHECKS[clause](Context(case, PROFILE, outcome))


def test_a_tool_assembly_raise_is_the_tools_clause_s_not_the_stop_s() -> None:
    first = [
        START,
        ToolUseStart(index=0, id="a", name="get_weather"),
        ToolInputDelta(index=0, partial_json='{"city":"Paris"}'),
        ToolUseEnd(
            index=0,
            id="a",
            name="get_weather",
            arguments='{"city":"Paris"}',
            input={"city": "Paris"},
        ),
    ]
    assert _raised_after(TWO_CALLS, first, "tool_parallel", "stop.mapping") == NOT_EXERCISED
    assert _raised_after(TWO_CALLS, first, "tool_parallel", "tools.parallel") is not None
    assert _raised_after(TWO_CALLS, first, "tool_parallel", "complete.agrees") == NOT_EXERCISED


def test_a_raise_at_the_cap_says_so() -> None:
    capped = sent(
        text="Once upon",
        finish="length",
        stop_reason="max_tokens",
        usage=HELLO.usage,
    )
    events = [START, TextDelta(index=0, text="Once upon")]
    assert _raised_after(capped, events, "max_tokens", "stop.max-tokens") == (
        "stream() raised MalformedResponseError: [p] bad tool call where the vendor stopped at "
        "the cap ('length')"
    )
    assert _raised_after(capped, events, "max_tokens", "stop.mapping") == NOT_EXERCISED


# -- errors.mid-stream: the vendor's error, as itself ---------------------------------------------
MESSAGE = SCENARIOS["midstream_error"].answer.error  # type: ignore[union-attr]
#: What the vendor sent: some text, then its error payload.
MIDSTREAM_BODY = sse_body(
    [chunk({"content": "Partial answer"}), {"error": {"message": MESSAGE}}], done=False
).decode()


def _mid_stream(error: Exception, events: list[object]) -> str | None:
    exchange = Exchange(
        request={}, status=200, content_type="text/event-stream", body=MIDSTREAM_BODY
    )
    outcome = Outcome(
        events=list(events),  # type: ignore[arg-type]
        stream_error=error,
        ran=("stream",),
        exchanges=[exchange],
    )
    scenario = SCENARIOS["midstream_error"]
    return CHECKS["errors.mid-stream"](Context(Case(scenario.id, scenario, None), PROFILE, outcome))


def test_mangled_text_before_the_error_is_not_the_error_clause_s() -> None:
    error = errors.StreamError(f"the vendor reported an error mid-stream: {MESSAGE}", provider="p")
    assert _mid_stream(error, [START, TextDelta(index=0, text="PARTIAL")]) is None
    assert _mid_stream(error, [START]) == (
        "the vendor sent 'Partial answer' before the error, but no text was yielded"
    )


def test_an_error_payload_passed_off_as_a_cut_stream_fails() -> None:
    cut = errors.StreamTruncatedError(f"cut short {MESSAGE}", provider="p")
    verdict = _mid_stream(cut, [START, TextDelta(index=0, text="Partial answer")])
    assert verdict is not None
    assert "but stream() raised StreamTruncatedError" in verdict


def test_the_vendor_s_message_must_be_kept() -> None:
    error = errors.StreamError("something went wrong", provider="p")
    assert _mid_stream(error, [START, TextDelta(index=0, text="Partial answer")]) == (
        f"stream() dropped the vendor's message {MESSAGE!r}: it says '[p] something went wrong'"
    )
