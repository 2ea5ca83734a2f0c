"""The request-feature clauses against the replica: it answers as a model would to what the
request really carried, refuses as the vendor does, and each clause says what went wrong."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from contracts.certification import judge
from contracts.checks import not_exercised
from contracts.checks_features import _obeyed, _valid
from contracts.imported import read_case
from contracts.runner import Outcome, refused_before_sending, run_case
from contracts.spec import Case, cases_for, load_scenarios
from contracts.targets import bundled_factory
from contracts.vendors import Rejection, values_at
from providers import errors
from providers.types import (
    CompletionRequest,
    CompletionResponse,
    Connected,
    Done,
    LlmProvider,
    MessageDelta,
    ProviderCapabilities,
    StopReason,
    TokenCount,
    Usage,
)
from providers.vendors import VendorProfile, load_profile

# -- refusals as data --------------------------------------------------------------------------

BODY = {
    "model": "m",
    "max_tokens": 1000,
    "thinking": {"type": "enabled", "budget_tokens": 1024},
    "tool_choice": {"type": "any"},
    "messages": [
        {"role": "user", "content": [{"type": "text"}, {"type": "image_url"}]},
        {"role": "assistant", "content": "plain"},
    ],
}


def test_a_path_steps_into_every_item_of_a_list() -> None:
    assert values_at(BODY, "messages[].content[].type") == ["text", "image_url"]
    assert values_at(BODY, "thinking.budget_tokens") == [1024]
    assert values_at(BODY, "response_format.type") == []


@pytest.mark.parametrize(
    ("rule", "refused"),
    [
        ({"field": "messages[].content[].type", "values": ["image_url"]}, True),
        ({"field": "messages[].content[].type", "values": ["image"]}, False),
        ({"field": "tool_choice.type", "values": ["any"], "when": "thinking.type"}, True),
        (
            {
                "field": "tool_choice.type",
                "values": ["any"],
                "when": "thinking.type",
                "when_values": ["disabled"],
            },
            False,
        ),
        ({"field": "tool_choice.type", "values": ["any"], "when": "stop"}, False),
        ({"field": "thinking.budget_tokens", "below": "max_tokens"}, True),
        ({"field": "max_tokens", "below": "thinking.budget_tokens"}, False),
        ({"field": "seed", "values": [True]}, False),
    ],
)
def test_a_refusal_names_a_value_a_condition_or_a_comparison(
    rule: dict[str, Any], refused: bool
) -> None:
    assert Rejection(status=400, body="no", **rule).refuses(BODY) is refused


def test_a_named_rule_is_the_protocols_to_judge() -> None:
    rule = Rejection(field="messages", rule="thinking_not_first", status=400, body="no")
    assert not rule.refuses(BODY)
    assert rule.refuses(BODY, lambda name, body: name == "thinking_not_first")
    assert rule.describe() == "messages (thinking_not_first)"


# -- the replica and the clauses ---------------------------------------------------------------


def case_of(scenario_id: str, profile: VendorProfile) -> Case:
    scenario = next(s for s in load_scenarios() if s.id == scenario_id)
    return cases_for(scenario, profile)[0]


class Altered:
    """Our provider with the request changed on the way, as a defective provider would."""

    def __init__(self, inner: LlmProvider, **changes: Any) -> None:
        self.inner, self.changes = inner, changes

    name = "altered"

    @property
    def capabilities(self) -> ProviderCapabilities:
        return self.inner.capabilities

    def stream(self, request: CompletionRequest) -> Any:
        return self.inner.stream(request.model_copy(update=self.changes))

    async def complete(self, request: CompletionRequest) -> CompletionResponse:
        return await self.inner.complete(request.model_copy(update=self.changes))

    def count_tokens(self, request: CompletionRequest) -> TokenCount:
        return self.inner.count_tokens(request)


def run(scenario_id: str, vendor: str, **changes: Any) -> tuple[Case, VendorProfile, Outcome]:
    profile = load_profile(vendor)
    inner = bundled_factory(profile)

    def factory(base_url: str, key: SecretStr) -> LlmProvider:
        return Altered(inner(base_url, key), **changes)

    case = case_of(scenario_id, profile)
    return case, profile, asyncio.run(run_case(case, profile, factory))


def verdict(case: Case, clause: str, profile: VendorProfile, outcome: Outcome) -> str | None:
    return judge(case, clause, profile, outcome)[0]


def test_a_named_tool_choice_is_obeyed_and_a_dropped_one_gets_a_free_models_answer() -> None:
    case, profile, outcome = run("tool_choice_named", "openai")
    assert verdict(case, "tools.choice", profile, outcome) is None
    assert [call.name for call in outcome.response.tool_calls] == ["get_time"]  # type: ignore[union-attr]
    case, profile, outcome = run("tool_choice_named", "openai", tool_choice=None)
    assert outcome.response is not None
    assert [call.name for call in outcome.response.tool_calls] == ["get_weather", "get_time"]
    found = verdict(case, "tools.choice", profile, outcome)
    assert found is not None
    assert "was sent as [None, None]" in found


def test_tool_choice_none_keeps_the_model_from_calling() -> None:
    case, profile, outcome = run("tool_choice_none", "mistral")
    assert outcome.response is not None
    assert outcome.response.tool_calls == ()
    assert verdict(case, "tools.choice", profile, outcome) is None


def test_a_dropped_response_format_gets_prose_and_the_clause_says_so() -> None:
    case, profile, outcome = run("structured_output", "gemini")
    assert verdict(case, "structured.output", profile, outcome) is None
    case, profile, outcome = run("structured_output", "gemini", response_format=None)
    assert outcome.response is not None
    assert outcome.response.text == "Paris: 21 degrees Celsius."
    found = verdict(case, "structured.output", profile, outcome)
    assert found is not None
    assert "was not sent in this protocol's spelling" in found


def test_an_answer_that_breaks_the_schema_is_named_by_where() -> None:
    schema = {"type": "object", "properties": {"t": {"type": "number"}}, "required": ["t"]}
    assert _valid('{"t": 1}', schema) is None
    assert _valid('{"t": "warm"}', schema) == (
        "the answer breaks the schema at t: 'warm' is not of type 'number'"
    )
    assert _valid("warm", schema) == "the answer 'warm' is not JSON"
    assert _valid("[1]", None) == "the answer is JSON but no object"
    nested = {"type": "object", "properties": {"at": schema}}
    assert _valid('{"at": {"t": "warm"}}', nested) == (
        "the answer breaks the schema at at/t: 'warm' is not of type 'number'"
    )


@pytest.mark.parametrize(
    ("choice", "calls", "said"),
    [
        ("auto", [], None),
        ("auto", ["get_weather"], None),
        ("none", [], None),
        ("none", ["get_weather"], "tool calls ['get_weather'] came under tool_choice 'none'"),
        ("required", [], "no tool call came under tool_choice 'required'"),
        ("required", ["get_time"], None),
        ("get_time", ["get_time"], None),
        (
            "get_time",
            ["get_weather", "get_time"],
            "['get_weather'] called although tool_choice named 'get_time'",
        ),
    ],
)
def test_a_tool_choice_is_held_to_the_calls_the_vendor_made(
    choice: str, calls: list[str], said: str | None
) -> None:
    assert _obeyed(choice, calls) == said


def test_an_answer_without_a_finish_reason_is_still_judged_on_its_calls(tmp_path: Path) -> None:
    """A server that sends no finish reason: stream() rightly raises a cut stream, and the
    call the vendor did make under `required` still obeys it (the missing finish is
    stop.mapping's to report, not the tool choice's)."""
    profile = load_profile("openai")
    case = case_of("tool_choice_required", profile)
    factory = bundled_factory(profile)
    asyncio.run(run_case(case, profile, factory, mode="record-replica", cassette_root=tmp_path))
    (path,) = tmp_path.rglob("tool_choice_required.yaml")
    text = path.read_text(encoding="utf-8")
    blanked = re.sub(r'"finish_reason": ?"[a-z_]+"', '"finish_reason": null', text)
    assert blanked != text
    path.write_text(blanked, encoding="utf-8")
    outcome = asyncio.run(run_case(case, profile, factory, mode="replay", cassette_root=tmp_path))
    assert isinstance(outcome.stream_error, errors.StreamTruncatedError)
    assert verdict(case, "tools.choice", profile, outcome) is None


def test_an_image_reaches_a_vision_vendor_and_is_refused_before_sending_elsewhere() -> None:
    case, profile, outcome = run("vision_input", "anthropic")
    assert verdict(case, "vision.input", profile, outcome) is None
    assert outcome.sent
    assert all(
        any(block.get("type") == "image" for block in body["messages"][0]["content"])
        for body in outcome.sent
    )
    case, profile, outcome = run("vision_input", "deepseek")
    assert outcome.sent == []
    assert refused_before_sending(outcome)
    assert verdict(case, "vision.input", profile, outcome) is None
    assert verdict(case, "grammar.blocks", profile, outcome) == "not exercised"


def test_a_provider_that_refuses_what_the_vendor_takes_fails_the_clause() -> None:
    class RefusesImages(Altered):
        def stream(self, request: CompletionRequest) -> Any:
            raise errors.InvalidRequestError("no images here", provider="altered")

        async def complete(self, request: CompletionRequest) -> CompletionResponse:
            raise errors.InvalidRequestError("no images here", provider="altered")

    profile = load_profile("openai")
    inner = bundled_factory(profile)
    case = case_of("vision_input", profile)
    outcome = asyncio.run(run_case(case, profile, lambda url, key: RefusesImages(inner(url, key))))
    found = verdict(case, "vision.input", profile, outcome)
    assert found is not None
    assert "no images here" in found


def test_thinking_sent_in_another_vendors_form_is_caught() -> None:
    case, profile, outcome = run("thinking_requested", "glm")
    assert verdict(case, "thinking.requested", profile, outcome) is None
    assert all(body["thinking"] == {"type": "enabled"} for body in outcome.sent)
    case, profile, outcome = run("thinking_requested", "glm", thinking=None)
    found = verdict(case, "thinking.requested", profile, outcome)
    assert found is not None
    assert found.startswith("thinking was asked for, but the request does not carry it in the")


def test_thinking_sent_back_without_its_signature_is_refused_by_the_replica_and_caught() -> None:
    case, profile, outcome = run("thinking_tool_turn", "anthropic")
    assert verdict(case, "thinking.requested", profile, outcome) is None
    spec = case.scenario.request.build()
    unsigned = tuple(
        message.model_copy(update={"thinking": ()}) if message.role == "assistant" else message
        for message in spec.messages
    )
    case, profile, outcome = run("thinking_tool_turn", "anthropic", messages=unsigned)
    assert isinstance(outcome.stream_error, errors.InvalidRequestError)
    assert "must start with a thinking block" in str(outcome.stream_error)
    found = verdict(case, "thinking.requested", profile, outcome)
    assert found is not None
    assert "thinking sent back as [], expected" in found


def test_an_empty_recording_means_nothing_was_sent(tmp_path: Any) -> None:
    profile = load_profile("deepseek")
    case = case_of("vision_input", profile)
    factory = bundled_factory(profile)
    recorded = asyncio.run(
        run_case(case, profile, factory, mode="record-replica", cassette_root=tmp_path)
    )
    assert recorded.exchanges == []
    replayed = asyncio.run(run_case(case, profile, factory, mode="replay", cassette_root=tmp_path))
    assert refused_before_sending(replayed)
    assert verdict(case, "vision.input", profile, replayed) is None


def test_an_imported_recording_is_judged_on_the_features_its_request_asked_for() -> None:
    """pydantic-ai's recording forced a tool (tool_choice "required"): the real answer is held
    to it. The vendor obeyed, so a provider that loses the call on the way fails
    complete.agrees on that real traffic, not tools.choice: one fault, one clause."""
    profile = load_profile("openai")
    path = Path("cassettes/openai/imported/pydantic-ai_test_openai_tool_output_1.yaml")
    case = read_case(path)
    assert case.scenario.request.tool_choice == "required"
    assert "tools.choice" in case.scenario.clauses
    inner = bundled_factory(profile)

    class LosesCalls(Altered):
        async def complete(self, request: CompletionRequest) -> CompletionResponse:
            response = await self.inner.complete(request)
            return response.model_copy(update={"tool_calls": ()})

    healthy = asyncio.run(
        run_case(case, profile, inner, mode="replay", cassette_root=Path("cassettes"))
    )
    assert verdict(case, "tools.choice", profile, healthy) is None
    broken = asyncio.run(
        run_case(
            case,
            profile,
            lambda url, key: LosesCalls(inner(url, key)),
            mode="replay",
            cassette_root=Path("cassettes"),
        )
    )
    assert verdict(case, "tools.choice", profile, broken) is None
    assert verdict(case, "complete.agrees", profile, broken) == (
        "tool calls [] != sent [('call_iXFttys57ap0o16JSlC8yhYo', 'get_user_country', {})] "
        "[events: none]"
    )


def test_an_answer_stopped_at_the_cap_leaves_the_tool_choice_unjudged() -> None:
    """A small live model that runs out of tokens before or inside the forced call: the cap
    stopped it, the choice itself was never refused, so tools.choice says not exercised."""
    profile = load_profile("openai")
    case = case_of("tool_choice_named", profile)
    answer = case.scenario.answer
    assert answer is not None
    assert answer.tool_calls
    cut_call = answer.tool_calls[0].model_copy(update={"arguments": ('{"tz": "Eu',)})
    cut = answer.model_copy(update={"tool_calls": (cut_call,), "finish": "length"})
    case = Case(
        id=case.id, scenario=case.scenario.model_copy(update={"answer": cut}), finish="length"
    )
    outcome = asyncio.run(run_case(case, profile, bundled_factory(profile)))
    found, failure = judge(case, "tools.choice", profile, outcome)
    assert not_exercised(found)
    assert "stopped at the max_tokens cap ('length')" in str(found)
    assert failure is None


class NeverSends:
    """A provider that answers without any request: with `raising`, it fails that way
    instead of answering."""

    name = "never-sends"
    capabilities = ProviderCapabilities(vision=True)

    def __init__(self, raising: Exception | None = None) -> None:
        self.raising = raising

    async def stream(self, request: CompletionRequest) -> Any:
        if self.raising is not None:
            raise self.raising
        yield Connected(provider=self.name, model="m")
        yield MessageDelta(stop_reason=StopReason.END_TURN, raw_stop_reason="stop")
        yield Usage(input_tokens=1, output_tokens=1, estimated=True)
        yield Done()

    async def complete(self, request: CompletionRequest) -> CompletionResponse:
        if self.raising is not None:
            raise self.raising
        usage = Usage(input_tokens=1, output_tokens=1, estimated=True)
        return CompletionResponse(
            text="", stop_reason=StopReason.END_TURN, raw_stop_reason="stop", usage=usage, model="m"
        )

    def count_tokens(self, request: CompletionRequest) -> TokenCount:
        return TokenCount(input_tokens=1)


def test_a_request_the_profile_refuses_must_be_refused_before_sending_and_as_invalid() -> None:
    """DeepSeek reads no images: sending the request anyway, failing another way, or not
    failing at all each say which, with the profile's reason."""
    profile = load_profile("deepseek")
    case = case_of("vision_input", profile)
    why = "deepseek declares no vision: remove the image parts"

    def judged(factory: Any) -> str | None:
        return verdict(case, "vision.input", profile, asyncio.run(run_case(case, profile, factory)))

    sent_anyway = judged(bundled_factory(load_profile("openai")))
    assert sent_anyway is not None
    assert sent_anyway.startswith(f"the profile says the vendor cannot take this ({why}")
    assert ", yet it was sent" in sent_anyway
    overloaded = errors.ProviderUnavailableError("overloaded", provider="never-sends")
    other = judged(lambda url, key: NeverSends(overloaded))
    assert other is not None
    assert other.startswith(
        "stream() gave ProviderUnavailableError, expected InvalidRequestError before sending ("
    )
    silent = judged(lambda url, key: NeverSends())
    assert silent is not None
    assert silent.startswith("stream() gave no error, expected InvalidRequestError before sending")
    refused = errors.InvalidRequestError("no images here", provider="never-sends")
    assert judged(lambda url, key: NeverSends(refused)) is None
    openai = load_profile("openai")
    takes_images = case_of("vision_input", openai)
    outcome = asyncio.run(run_case(takes_images, openai, lambda url, key: NeverSends()))
    assert verdict(takes_images, "vision.input", openai, outcome) == (
        "no request was recorded [events: Connected MessageDelta(end_turn/stop) Usage Done]"
    )
