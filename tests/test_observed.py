"""The oracle reads back exactly what the replica's dialects sent, for every vendor."""

from __future__ import annotations

import json

import pytest

from contracts.observed import Exchange, observed_answer
from contracts.replica.dialect import VendorDialect
from contracts.spec import Answer, cases_for, load_scenarios
from providers import available_vendors, load_profile


def normalised(answer: Answer) -> tuple[object, ...]:
    usage = (
        answer.usage if answer.usage == "none" else (answer.usage.prompt, answer.usage.completion)
    )
    return (
        "".join(answer.text),
        "".join(answer.thinking),
        [(c.id, c.name, c.joined) for c in answer.tool_calls],
        answer.finish,
        usage,
    )


@pytest.mark.parametrize("vendor", available_vendors())
def test_oracle_reads_back_every_scenario_answer_in_every_dialect(vendor: str) -> None:
    profile = load_profile(vendor)
    dialect = VendorDialect(profile)
    for scenario in load_scenarios():
        for case in cases_for(scenario, profile):
            answer = case.answer
            if answer is None or answer.error or answer.truncate or answer.disconnect_after:
                continue
            if scenario.requires and not getattr(profile.capabilities, scenario.requires):
                continue
            body = b"".join(dialect.stream_events(answer, usage_asked=True)).decode()
            streamed = observed_answer(
                Exchange({"stream": True}, 200, "text/event-stream", body), profile
            )
            completed = observed_answer(
                Exchange({}, 200, "application/json", json.dumps(dialect.completion(answer))),
                profile,
            )
            assert streamed is not None
            assert completed is not None
            assert normalised(streamed) == normalised(answer), case.id
            assert normalised(completed) == normalised(answer), case.id


def test_an_http_error_has_no_answer() -> None:
    profile = load_profile("openai")
    assert observed_answer(Exchange({}, 429, "application/json", "{}"), profile) is None
