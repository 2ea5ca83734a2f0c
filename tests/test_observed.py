"""The oracle reads back exactly what the replica's protocols sent, for every vendor."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st
from support import carries_reasoning

from contracts.observed import (
    Exchange,
    Reading,
    _json_value,
    body_payloads,
    key_paths,
    sse_payloads,
)
from contracts.protocols import WireProtocol, protocol_for
from contracts.spec import Answer, UsageSpec, cases_for, load_scenarios
from providers import available_vendors, load_profile


def normalised(answer: Answer, protocol: WireProtocol, *, usage: bool) -> tuple[object, ...]:
    reported = (answer.usage.prompt, answer.usage.completion) if answer.usage != "none" else None
    return (
        "".join(answer.text),
        "".join(answer.thinking),
        [(c.id, c.name, c.joined) for c in answer.tool_calls],
        protocol.finish_on_wire(answer.finish) if answer.finish else None,
        reported if usage else "unchecked",
    )


def served(protocol: WireProtocol, answer: Answer, request: dict[str, object]) -> Answer | None:
    response = protocol.answer_response(answer, request)
    content_type = response.headers["content-type"]
    return protocol.read(Exchange(request, 200, content_type, response.body.decode()))


@pytest.mark.parametrize("vendor", available_vendors())
def test_oracle_reads_back_every_scenario_answer_in_every_protocol(vendor: str) -> None:
    profile = load_profile(vendor)
    protocol = protocol_for(profile)
    stream = {"model": "m", "stream": True, "stream_options": {"include_usage": True}}
    for scenario in load_scenarios():
        for case in cases_for(scenario, profile):
            answer = case.answer
            if answer is None or answer.error or answer.truncate or answer.disconnect_after:
                continue
            if scenario.requires and not getattr(profile.capabilities, scenario.requires):
                continue
            if answer.thinking and not carries_reasoning(profile):
                continue  # nowhere on this vendor's wire to put it
            # A vendor whose protocol always reports usage reports some where none was scripted.
            usage = answer.usage != "none"
            for request in (stream, {"model": "m"}):
                sent = protocol.as_sent(answer, streamed=bool(request.get("stream")))
                wanted = normalised(sent, protocol, usage=usage)
                read = served(protocol, answer, request)
                assert read is not None
                assert normalised(read, protocol, usage=usage) == wanted, (case.id, request)


def test_an_http_error_has_no_answer() -> None:
    protocol = protocol_for(load_profile("openai"))
    assert protocol.read(Exchange({}, 429, "application/json", "{}")) is None


def test_sse_payloads_reads_each_event_and_notes_done() -> None:
    body = 'data: {"a": 1}\r\n\r\ndata:{"b": 2}\r\rdata: not json\n\ndata: [DONE]\n\n'
    assert sse_payloads(body) == ([{"a": 1}, {"b": 2}, None], True)


def test_sse_payloads_joins_multi_line_data_and_skips_other_fields() -> None:
    body = 'event: x\nid: 1\ndata: {"a":\ndata: 1}\n\n: comment\n\n'
    assert sse_payloads(body) == ([{"a": 1}], False)
    crlf = 'data: {"a":\r\ndata: 1}\r\n\r\n'
    assert sse_payloads(crlf) == ([{"a": 1}], False)


#: Texts near JSON: values with spaces (JSON's and others) around them, and cut or joined ones.
_JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.floats() | st.integers() | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
    max_leaves=8,
).map(json.dumps)
_NEAR_JSON = st.tuples(
    st.sampled_from(["", " ", "\n", "\t\r ", "\x0c", "\xa0", "\ufeff"]),
    _JSON_VALUES | st.text(alphabet='{}[]":,0123456789.eE+-truefalsnNaI \\u'),
    st.sampled_from(["", " ", "\n", "\x0c", "x", ",1", " 2", "}"]),
    st.integers(min_value=0, max_value=3),
).map(lambda parts: parts[0] + parts[1][: len(parts[1]) - parts[3]] + parts[2])


def parsed(parse: Callable[[str], object], text: str) -> object:
    try:
        return ("value", repr(parse(text)))
    except ValueError:
        return "refused"


@given(_NEAR_JSON)
def test_a_payload_is_read_as_json_loads_reads_it(text: str) -> None:
    assert parsed(_json_value, text) == parsed(json.loads, text)


def test_body_payloads_of_a_json_body_and_of_one_that_does_not_parse() -> None:
    assert body_payloads(Exchange(None, 200, "application/json", '{"a": 1}')) == [{"a": 1}]
    assert body_payloads(Exchange(None, 200, "application/json", "<html>")) == []
    streamed = Exchange(None, 200, "text/event-stream; charset=utf-8", 'data: {"a": 1}\n\n')
    assert streamed.streamed
    assert body_payloads(streamed) == [{"a": 1}]


def test_key_paths_name_nested_keys_and_lists_without_values() -> None:
    value = {"a": {"b": 1}, "c": [{"d": 2}, {"e": [3]}]}
    assert key_paths(value, "") == {"a", "a.b", "c", "c[].d", "c[].e"}
    assert key_paths([{"x": 1}], "top") == {"top[].x"}
    assert key_paths(7, "p") == set()


def test_a_reading_without_finish_is_truncated_and_keeps_calls_in_block_order() -> None:
    reading = Reading()
    reading.text += ["He", "llo"]
    reading.calls[2] = {"id": "b", "name": "g", "arguments": "{}"}
    reading.calls[0] = {"id": "a", "name": "f", "arguments": '{"x": 1}'}
    answer = reading.answer()
    assert answer.text == ("Hello",)
    assert answer.thinking == ("",)
    assert [call.id for call in answer.tool_calls] == ["a", "b"]
    assert answer.tool_calls[0].arguments == ('{"x": 1}',)
    assert answer.usage == "none"
    assert answer.truncate


def test_a_reading_with_finish_and_counts_reports_usage() -> None:
    reading = Reading()
    reading.finish = "stop"
    reading.counts = (3, 4)
    answer = reading.answer()
    assert answer.finish == "stop"
    assert not answer.truncate
    assert answer.usage == UsageSpec(prompt=3, completion=4)
