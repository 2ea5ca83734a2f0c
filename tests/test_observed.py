"""The oracle reads back exactly what the replica's protocols sent, for every vendor."""

from __future__ import annotations

import pytest
from support import carries_reasoning

from contracts.observed import Exchange
from contracts.protocols import WireProtocol, protocol_for
from contracts.spec import Answer, cases_for, load_scenarios
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
