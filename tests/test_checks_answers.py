"""The answer-based checks, judged on hand-made outcomes against a frozen expectation (what a
real recording must yield), so no server runs: each way a provider can misreport an answer,
and the exact reason a user then reads."""

from __future__ import annotations

import json
from typing import Any

import pytest

from contracts.checks import CHECKS, NOT_EXERCISED, Context, NotExercised
from contracts.expected import Expected, ExpectedCall, ExpectedUsage
from contracts.observed import Exchange
from contracts.runner import Outcome
from contracts.spec import Answer, Case, Scenario, ToolCallSpec, load_scenarios
from contracts.wire import chunk, sse_body
from providers.types import (
    CompletionResponse,
    Connected,
    Done,
    MessageDelta,
    StopReason,
    TextDelta,
    ToolUseEnd,
    ToolUseStart,
    Usage,
)
from providers.vendors import load_profile

PROFILE = load_profile("openai")
SCENARIOS = {scenario.id: scenario for scenario in load_scenarios()}
START = Connected(provider="p", model="m")


def judge(
    clause: str,
    scenario: str | Scenario,
    expected: Expected,
    events: list[Any],
    response: CompletionResponse | None = None,
) -> str | None:
    """`clause`'s verdict on `events` (and `response`) for a recording that sent `expected`."""
    ran = ("stream", "complete") if response is not None else ("stream",)
    exchange = Exchange(request={}, status=200, content_type="text/event-stream", body="")
    outcome = Outcome(events=events, response=response, ran=ran, exchanges=[exchange])
    if isinstance(scenario, str):
        scenario = SCENARIOS[scenario]
    case = Case(scenario.id, scenario, expected.finish, expected)
    return CHECKS[clause](Context(case, PROFILE, outcome))


def sent(**fields: Any) -> Expected:
    return Expected(path="stream", **fields)


#: A plain "hi", finished normally, with usage.
HELLO = sent(
    text="hi",
    finish="stop",
    stop_reason="end_turn",
    usage=ExpectedUsage(input_tokens=3, output_tokens=2),
)


def ended(stop: StopReason, raw: str, *, tokens: tuple[int, int] = (3, 2)) -> list[Any]:
    return [
        MessageDelta(stop_reason=stop, raw_stop_reason=raw),
        Usage(input_tokens=tokens[0], output_tokens=tokens[1]),
        Done(),
    ]


# -- stop.max-tokens: the cap is judged only when the request set one and usage was sent -----


def test_no_cap_in_the_request_means_nothing_to_judge() -> None:
    capped = SCENARIOS["max_tokens"]
    uncapped = capped.model_copy(
        update={"request": capped.request.model_copy(update={"max_tokens": None})}
    )
    expected = sent(
        finish="stop", stop_reason="end_turn", usage=ExpectedUsage(input_tokens=3, output_tokens=99)
    )
    events = [START, TextDelta(index=0, text="hi"), *ended(StopReason.END_TURN, "stop")]
    assert judge("stop.max-tokens", uncapped, expected, events) == NOT_EXERCISED


def test_a_cap_with_no_usage_sent_cannot_be_judged() -> None:
    assert SCENARIOS["max_tokens"].request.max_tokens is not None
    expected = sent(finish="stop", stop_reason="end_turn")
    events = [START, TextDelta(index=0, text="hi"), *ended(StopReason.END_TURN, "stop")]
    assert judge("stop.max-tokens", "max_tokens", expected, events) == NOT_EXERCISED


# -- what there is to judge against -----------------------------------------------------------


#: text_basic's clauses about what stream() yields (request.shape judges what was sent).
STREAM_CLAUSES = [c for c in SCENARIOS["text_basic"].clauses if c != "request.shape"]


def _verdicts_after_hi_then_a_raise(expected: Expected) -> dict[str, str | None]:
    """Every stream clause's verdict when stream() yielded the text "hi", then raised."""
    exchange = Exchange(request={}, status=200, content_type="text/event-stream", body="")
    outcome = Outcome(
        events=[START, TextDelta(index=0, text="hi")],
        stream_error=ValueError("boom"),
        ran=("stream",),
        exchanges=[exchange],
    )
    case = Case("text_basic", SCENARIOS["text_basic"], "stop", expected)
    return {c: CHECKS[c](Context(case, PROFILE, outcome)) for c in STREAM_CLAUSES}


def test_a_raise_after_the_whole_answer_is_blamed_on_the_stop_alone() -> None:
    """The text came out whole, then stream() raised where the vendor finished: the stop
    never came (stop.mapping); the text is faithful and no end was reached to judge."""
    expected = sent(text="hi", finish="stop", stop_reason="end_turn")
    verdicts = _verdicts_after_hi_then_a_raise(expected)
    assert verdicts["stop.mapping"] == (
        "stream() raised ValueError: boom where the vendor finished with 'stop'"
    )
    assert {c for c, v in verdicts.items() if v not in (None, NOT_EXERCISED)} == {"stop.mapping"}
    assert verdicts["grammar.terminal-sequence"] == NOT_EXERCISED
    assert verdicts["usage.reported"] == NOT_EXERCISED


def test_a_raise_that_loses_text_is_blamed_on_the_text_alone() -> None:
    expected = sent(text="hi there", finish="stop", stop_reason="end_turn")
    verdicts = _verdicts_after_hi_then_a_raise(expected)
    assert {c for c, v in verdicts.items() if v not in (None, NOT_EXERCISED)} == {"text.fidelity"}


def test_a_complete_path_that_returned_nothing_has_nothing_to_judge() -> None:
    expected = HELLO
    exchange = Exchange(request={}, status=200, content_type="application/json", body="")
    outcome = Outcome(ran=("stream", "complete"), exchanges=[exchange])
    case = Case("text_basic", SCENARIOS["text_basic"], "stop", expected)
    verdict = CHECKS["usage.consistent"](Context(case, PROFILE, outcome))
    assert verdict == "no complete() response was recorded"


def test_the_last_exchange_is_the_complete_path_s() -> None:
    exchanges = [
        Exchange(request={}, status=status, content_type="application/json", body="")
        for status in (401, 500, 200)
    ]
    outcome = Outcome(ran=("stream", "complete"), exchanges=exchanges)
    context = Context(Case("error_auth", SCENARIOS["error_auth"], None), PROFILE, outcome)
    assert (context.served_status("stream"), context.served_status("complete")) == (401, 200)
    assert Context(context.case, PROFILE, Outcome(ran=("stream",))).served_status() is None
    assert Context(context.case, PROFILE, Outcome(exchanges=exchanges)).served_status() is None


@pytest.mark.parametrize(
    ("scenario", "status", "expected"),
    [
        ("error_auth", 401, True),  # the fault happened
        ("error_auth", 200, False),  # the server accepted the bad key: no failure to judge
        ("midstream_error", 200, True),  # an error inside a 200 stream
        ("text_basic", 200, False),
    ],
)
def test_a_failure_is_expected_when_the_scenario_s_error_happened(
    scenario: str, status: int, expected: bool
) -> None:
    exchange = Exchange(request={}, status=status, content_type="text/event-stream", body="")
    outcome = Outcome(ran=("stream",), exchanges=[exchange])
    frozen = sent(text="hi", finish="stop", stop_reason="end_turn")
    case = Case(scenario, SCENARIOS[scenario], "stop", frozen)
    assert Context(case, PROFILE, outcome).failure_expected() is expected


def test_a_finish_value_that_maps_to_an_error_expects_a_failure() -> None:
    exchange = Exchange(request={}, status=200, content_type="text/event-stream", body="")
    outcome = Outcome(ran=("stream",), exchanges=[exchange])
    failing = sent(text="hi", finish="network_error", stop_reason="error")
    case = Case("finish_values", SCENARIOS["finish_values"], "network_error", failing)
    assert Context(case, PROFILE, outcome).failure_expected() is True
    unfinished = sent(text="hi", error="StreamError")
    case = Case("finish_values", SCENARIOS["finish_values"], None, unfinished)
    assert Context(case, PROFILE, outcome).failure_expected() is False


# -- tool calls: the provider must hand over the calls the vendor sent -----------------------


def call(id: str, name: str = "get_weather", arguments: str = '{"city":"Paris"}') -> ExpectedCall:
    return ExpectedCall(id=id, name=name, arguments=arguments, input=None)


def tool_events(*calls: tuple[str, str, str]) -> list[Any]:
    events: list[Any] = [START]
    for index, (id, name, arguments) in enumerate(calls):
        parsed = json.loads(arguments or "{}")
        events += [
            ToolUseStart(index=index, id=id, name=name),
            ToolUseEnd(index=index, id=id, name=name, arguments=arguments, input=parsed),
        ]
    return [*events, *ended(StopReason.TOOL_USE, "tool_calls")]


def tools_verdict(calls: tuple[ExpectedCall, ...], *got: tuple[str, str, str]) -> str | None:
    expected = sent(finish="tool_calls", stop_reason="tool_use", tool_calls=calls)
    return judge("tools.single", "tool_single", expected, tool_events(*got))


def test_the_vendor_s_calls_hold() -> None:
    assert tools_verdict((call("c1"),), ("c1", "get_weather", '{"city":"Paris"}')) is None


def test_a_call_the_vendor_sent_without_id_may_take_any_id() -> None:
    assert tools_verdict((call(""),), ("mine", "get_weather", '{"city":"Paris"}')) is None


def test_a_call_whose_vendor_id_was_replaced_fails() -> None:
    verdict = tools_verdict((call("c1"),), ("mine", "get_weather", '{"city":"Paris"}'))
    assert verdict == (
        "tool calls [('mine', 'get_weather', {'city': 'Paris'})] != "
        "sent [('c1', 'get_weather', {'city': 'Paris'})]"
    )


def test_empty_arguments_are_an_empty_input() -> None:
    assert tools_verdict((call("c1", arguments=""),), ("c1", "get_weather", "")) is None


def test_a_call_the_vendor_never_sent_fails() -> None:
    verdict = tools_verdict(
        (call("c1"),), ("c1", "get_weather", '{"city":"Paris"}'), ("c2", "extra", "{}")
    )
    assert verdict == (
        "tool calls [('c1', 'get_weather', {'city': 'Paris'}), ('c2', 'extra', {})] != "
        "sent [('c1', 'get_weather', {'city': 'Paris'})]"
    )


def test_a_model_that_declines_an_offered_tool_does_not_exercise_tool_calls() -> None:
    verdict = judge("tools.single", "tool_single", sent(finish="stop", stop_reason="end_turn"), [])
    offered = [tool.name for tool in SCENARIOS["tool_single"].request.tools]
    assert isinstance(verdict, NotExercised)
    assert verdict == f"the model answered without calling the offered tools {offered}"


def test_a_recording_that_offered_no_tools_does_not_exercise_them() -> None:
    offered = SCENARIOS["tool_single"]
    bare = offered.model_copy(update={"request": offered.request.model_copy(update={"tools": ()})})
    verdict = judge("tools.single", bare, sent(finish="stop", stop_reason="end_turn"), [])
    assert verdict == NOT_EXERCISED


PARIS, ROME = '{"city":"Paris"}', '{"city":"Rome"}'
#: Two parallel calls as the vendor sent them.
TWO_CALLS = (call("c1", "get_weather", PARIS), call("c2", "get_time", ROME))


def parallel_verdict(*got: tuple[str, str, str]) -> str | None:
    expected = sent(finish="tool_calls", stop_reason="tool_use", tool_calls=TWO_CALLS)
    return judge("tools.parallel", "tool_parallel", expected, tool_events(*got))


def test_parallel_calls_kept_apart_hold() -> None:
    assert parallel_verdict(("c1", "get_weather", PARIS), ("c2", "get_time", ROME)) is None


@pytest.mark.parametrize(
    ("got", "said"),
    [
        # each block has its own id, but the names went to the other call
        (
            (("c1", "get_time", PARIS), ("c2", "get_weather", ROME)),
            "block 0 carries another call's name",
        ),
        # the ids went to the other call
        (
            (("c2", "get_weather", PARIS), ("c1", "get_time", ROME)),
            "block 0 carries another call's id",
        ),
        # both blocks under one id
        (
            (("c1", "get_weather", PARIS), ("c1", "get_time", ROME)),
            "tool blocks share an id: ['c1', 'c1']",
        ),
    ],
)
def test_parallel_calls_run_together_say_which_part_went_astray(
    got: tuple[tuple[str, str, str], ...], said: str
) -> None:
    verdict = parallel_verdict(*got)
    assert verdict is not None
    assert verdict.startswith(said)


def test_fewer_parallel_calls_than_invited_do_not_exercise_parallel_calls() -> None:
    expected = sent(finish="tool_calls", stop_reason="tool_use", tool_calls=(call("c1"),))
    events = tool_events(("c1", "get_weather", '{"city":"Paris"}'))
    assert judge("tools.parallel", "tool_parallel", expected, events) == NOT_EXERCISED


# -- usage: reported as sent, estimated only when nothing was sent ---------------------------


def usage_verdict(sent_usage: ExpectedUsage | None, usage: Usage) -> str | None:
    expected = sent(text="hi", finish="stop", stop_reason="end_turn", usage=sent_usage)
    events = [
        START,
        TextDelta(index=0, text="hi"),
        MessageDelta(stop_reason=StopReason.END_TURN, raw_stop_reason="stop"),
        usage,
        Done(),
    ]
    return judge("usage.reported", "text_basic", expected, events)


def test_usage_as_sent_holds() -> None:
    assert (
        usage_verdict(
            ExpectedUsage(input_tokens=3, output_tokens=2), Usage(input_tokens=3, output_tokens=2)
        )
        is None
    )
    assert usage_verdict(None, Usage(input_tokens=0, output_tokens=0, estimated=True)) is None


def test_usage_unlike_what_was_sent_fails() -> None:
    verdict = usage_verdict(
        ExpectedUsage(input_tokens=3, output_tokens=2), Usage(input_tokens=3, output_tokens=3)
    )
    assert verdict == (
        "Usage (in, out, cache read, cache write, estimated) (3, 3, 0, 0, False)"
        " != reported (3, 2, 0, 0, False)"
    )


def test_sent_usage_marked_estimated_fails() -> None:
    verdict = usage_verdict(
        ExpectedUsage(input_tokens=3, output_tokens=2),
        Usage(input_tokens=3, output_tokens=2, estimated=True),
    )
    assert verdict == (
        "Usage (in, out, cache read, cache write, estimated) (3, 2, 0, 0, True)"
        " != reported (3, 2, 0, 0, False)"
    )


def test_cache_counts_dropped_from_a_report_fail() -> None:
    reported = ExpectedUsage(
        input_tokens=40, output_tokens=2, cache_read_tokens=30, cache_write_tokens=8
    )
    verdict = usage_verdict(reported, Usage(input_tokens=40, output_tokens=2))
    assert verdict == (
        "Usage (in, out, cache read, cache write, estimated) (40, 2, 0, 0, False)"
        " != reported (40, 2, 30, 8, False)"
    )
    kept = Usage(input_tokens=40, output_tokens=2, cache_read_tokens=30, cache_write_tokens=8)
    assert usage_verdict(reported, kept) is None


def test_usage_invented_when_none_was_sent_must_say_estimated() -> None:
    verdict = usage_verdict(None, Usage(input_tokens=3, output_tokens=2))
    assert verdict == "no usage was sent, yet Usage is not estimated"


def test_the_complete_path_s_usage_is_named() -> None:
    expected = HELLO
    response = CompletionResponse(
        model="m",
        text="hi",
        stop_reason=StopReason.END_TURN,
        raw_stop_reason="stop",
        usage=Usage(input_tokens=3, output_tokens=9),
    )
    verdict = judge("usage.consistent", "text_basic", expected, [], response)
    assert (
        verdict == "complete(): Usage (in, out, cache read, cache write, estimated)"
        " (3, 9, 0, 0, False) != reported (3, 2, 0, 0, False)"
    )


# -- read from the bytes: the stream's exchange is the first, complete()'s the last ------------


def test_each_path_is_judged_against_its_own_exchange() -> None:
    streamed = sse_body([chunk({"content": "streamed"}), chunk(finish="stop")]).decode()
    completed = {
        "object": "chat.completion",
        "choices": [{"index": 0, "message": {"content": "completed"}, "finish_reason": "length"}],
    }
    exchanges = [
        Exchange(request={}, status=200, content_type="text/event-stream", body=streamed),
        Exchange(request={}, status=200, content_type="application/json", body="{}"),
        Exchange(
            request={}, status=200, content_type="application/json", body=json.dumps(completed)
        ),
    ]
    case = Case("text_basic", SCENARIOS["text_basic"], "stop")
    context = Context(case, PROFILE, Outcome(ran=("stream", "complete"), exchanges=exchanges))
    stream, complete = context.observed("stream"), context.observed("complete")
    assert stream is not None
    assert complete is not None
    assert (stream.text, stream.finish) == (("streamed",), "stop")
    assert (complete.text, complete.finish) == (("completed",), "length")
    not_run = Context(case, PROFILE, Outcome(ran=("stream",), exchanges=exchanges))
    assert not_run.observed("complete") is None


def test_a_plain_finish_with_tool_calls_means_tool_use_where_the_vendor_says_so() -> None:
    assert PROFILE.wire.tool_calls_imply_tool_use
    context = Context(Case("tool_single", SCENARIOS["tool_single"], "stop"), PROFILE, Outcome())
    called = Answer(finish="stop", tool_calls=(ToolCallSpec(id="c", name="f", arguments=()),))
    assert context.expected_stop(called) == StopReason.TOOL_USE
    assert context.expected_stop(Answer(finish="stop")) == StopReason.END_TURN
