"""The protocol seam: each vendor refuses what it really refuses, request.shape judges by the
vendor's documented rules, the Anthropic replica is read back and drift-compared, and the
contract catches a broken provider of either protocol."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import SecretStr
from tiny_anthropic_provider import TinyAnthropicProvider
from tiny_provider import TinyProvider

from contracts.checks import CHECKS, Context
from contracts.drift import drift, profile_mismatches
from contracts.observed import Exchange
from contracts.protocols import protocol_for
from contracts.replica.server import RecordedRequest
from contracts.runner import run_case
from contracts.spec import Case, Fault, RequestSpec, cases_for, load_scenarios
from contracts.vendors import load_suite_profile
from providers import available_vendors, load_profile
from providers.types import (
    CompletionRequest,
    CompletionResponse,
    LlmProvider,
    StreamEvent,
    TextDelta,
)

SPEC = RequestSpec(messages=({"role": "user", "content": "hi"},), max_tokens=64)


def case(scenario_id: str, vendor: str) -> Case:
    scenario = next(s for s in load_scenarios() if s.id == scenario_id)
    return cases_for(scenario, load_profile(vendor))[0]


def judged(vendor: str, body: dict[str, Any], spec: RequestSpec = SPEC) -> list[str]:
    return protocol_for(load_profile(vendor)).judge_request(body, spec)


def test_every_bundled_vendor_has_suite_facts_its_protocol_accepts() -> None:
    for vendor in available_vendors():
        suite = load_suite_profile(vendor)
        assert suite.name == vendor
        assert suite.finish_values
        protocol_for(load_profile(vendor))  # validates [wire] for the vendor's protocol


def test_the_mistral_replica_refuses_stream_options_with_the_vendors_own_body() -> None:
    body = {"model": "m", "messages": [], "stream": True, "stream_options": {"include_usage": True}}
    request = RecordedRequest("POST", "/v1/chat/completions", {}, json.dumps(body).encode())
    reply = protocol_for(load_profile("mistral")).respond(case("text_basic", "mistral"), request)
    assert reply.status == 422
    detail = json.loads(reply.body)["message"]["detail"][0]
    assert (detail["type"], detail["loc"]) == (
        "extra_forbidden",
        ["body", "stream_options", "include_usage"],
    )


def test_the_glm_replica_refuses_a_second_stop_sequence_but_not_one() -> None:
    protocol = protocol_for(load_profile("glm"))
    answer = case("text_basic", "glm")
    for stop, status in ((["a"], 200), (["a", "b"], 400)):
        body = json.dumps({"model": "m", "messages": [], "stop": stop}).encode()
        reply = protocol.respond(answer, RecordedRequest("POST", "/", {}, body))
        assert reply.status == status


async def test_a_client_sending_what_mistral_refuses_fails_as_in_production() -> None:
    """TinyProvider always sends stream_options and max_completion_tokens."""
    scenario = case("max_tokens", "mistral")
    outcome = await run_case(scenario, load_profile("mistral"), TinyProvider)
    assert outcome.stream_error is not None
    reason = CHECKS["request.shape"](Context(scenario, load_profile("mistral"), outcome))
    assert reason is not None
    assert "stream_options: mistral refuses it (422)" in reason
    assert "max_completion_tokens: mistral refuses it (422)" in reason


def test_max_tokens_to_a_vendor_that_accepts_it_is_not_a_failure() -> None:
    body = {"model": "gpt-4o", "messages": [], "max_tokens": 64}
    assert judged("openai", body) == []
    assert judged("openai", {**body, "max_tokens": 32}) != []


def test_a_cap_sent_where_the_vendor_silently_ignores_it_is_flagged() -> None:
    assert judged("glm", {"messages": [], "max_tokens": 64}) == []
    problems = judged("glm", {"messages": [], "max_completion_tokens": 64})
    assert problems == ["max_tokens=64 not sent in a field glm honours (max_tokens)"]


def test_usage_not_asked_from_a_vendor_that_only_streams_it_when_asked_is_flagged() -> None:
    body = {"messages": [], "max_tokens": 64, "stream": True}
    assert judged("openai", body) == [
        "openai streams usage only when asked: stream_options.include_usage missing"
    ]
    assert judged("gemini", {**body, "stream_options": {"include_usage": True}}) == []


def test_anthropic_request_rules() -> None:
    spec = RequestSpec(
        system="Be brief.",
        messages=({"role": "user", "content": "hi"},),
        tools=({"name": "f", "description": "", "parameters": {"type": "object"}},),
    )
    good = {
        "model": "m",
        "max_tokens": 10,
        "system": [{"type": "text", "text": "Be brief."}],
        "messages": [{"role": "user", "content": "hi"}],
        "tools": [{"name": "f", "input_schema": {"type": "object"}}],
    }
    assert judged("anthropic", good, spec) == []
    missing = {key: value for key, value in good.items() if key != "max_tokens"}
    assert judged("anthropic", missing, spec) == ["no max_tokens: anthropic refuses it (400)"]
    inline = {
        **good,
        "system": None,
        "messages": [{"role": "system", "content": "Be brief."}, *good["messages"]],
    }
    assert "a system message inside messages: the system prompt is top-level" in judged(
        "anthropic", inline, spec
    )
    openai_tools = {**good, "tools": [{"name": "f", "parameters": {"type": "object"}}]}
    assert judged("anthropic", openai_tools, spec) == ["a tool without input_schema"]


def test_anthropic_stream_events_in_order() -> None:
    protocol = protocol_for(load_profile("anthropic"))
    answer = case("tool_single", "anthropic").answer
    assert answer is not None
    reply = protocol.answer_response(answer, {"model": "claude-x", "stream": True})
    kinds = [line[7:] for line in reply.body.decode().splitlines() if line.startswith("event: ")]
    assert kinds[:2] == ["message_start", "ping"]
    assert kinds[2] == "content_block_start"
    assert kinds[-3:] == ["content_block_stop", "message_delta", "message_stop"]
    # tool_single says a sentence before its call: one delta per text piece and per
    # argument fragment.
    assert kinds.count("content_block_delta") == len(answer.text) + len(
        answer.tool_calls[0].arguments
    )
    read = protocol.read(Exchange({}, 200, "text/event-stream", reply.body.decode()))
    assert read is not None
    assert read.finish == "tool_use"
    assert read.tool_calls[0].joined == answer.tool_calls[0].joined


def test_anthropic_error_bodies_and_overload() -> None:
    protocol = protocol_for(load_profile("anthropic"))
    valid = json.dumps({"model": "m", "max_tokens": 5, "messages": []}).encode()
    request = RecordedRequest("POST", "/v1/messages", {}, valid)
    reply = protocol.respond(case("error_rate_limit", "anthropic"), request)
    body = json.loads(reply.body)
    assert (reply.status, body["type"], body["error"]["type"]) == (429, "error", "rate_limit_error")
    assert reply.headers["retry-after"]
    overloaded = protocol.error_response(Fault(status=529, message="Overloaded", code="x"))
    assert json.loads(overloaded.body)["error"]["type"] == "overloaded_error"


def test_anthropic_drift_names_added_fields_and_a_foreign_error_shape() -> None:
    protocol = protocol_for(load_profile("anthropic"))
    answer = case("text_basic", "anthropic").answer
    assert answer is not None
    body = protocol.answer_response(answer, {"model": "m", "stream": True}).body.decode()
    before = Exchange({"stream": True}, 200, "text/event-stream", body)
    after = Exchange(
        {"stream": True},
        200,
        "text/event-stream",
        body.replace('"type": "ping"', '"type": "ping", "extra": 1'),
    )
    assert drift([before], [after], protocol) == ["stream: fields added: ping:extra"]
    openai_style = Exchange({}, 429, "application/json", '{"error": {"message": "x"}}')
    assert profile_mismatches([protocol.wire_shape(openai_style)], protocol) == [
        "error_shape: protocol says 'anthropic', vendor sent 'other'"
    ]


class DropsLastText:
    """A broken provider: loses the last text delta of every stream."""

    def __init__(self, inner: LlmProvider) -> None:
        self._inner = inner
        self.name, self.capabilities = inner.name, inner.capabilities
        self.count_tokens = inner.count_tokens

    async def complete(self, request: CompletionRequest) -> CompletionResponse:
        return await self._inner.complete(request)

    async def stream(self, request: CompletionRequest) -> AsyncIterator[StreamEvent]:
        events = [event async for event in self._inner.stream(request)]
        last = max(i for i, event in enumerate(events) if isinstance(event, TextDelta))
        for event in events[:last] + events[last + 1 :]:
            yield event


async def test_the_contract_catches_a_broken_anthropic_provider() -> None:
    profile = load_profile("anthropic")
    scenario = case("text_basic", "anthropic")
    healthy = await run_case(scenario, profile, TinyAnthropicProvider)
    assert CHECKS["text.fidelity"](Context(scenario, profile, healthy)) is None

    def broken(base_url: str, key: SecretStr) -> LlmProvider:
        return DropsLastText(TinyAnthropicProvider(base_url, key))  # type: ignore[return-value]

    outcome = await run_case(scenario, profile, broken)
    assert CHECKS["text.fidelity"](Context(scenario, profile, outcome)) is not None


async def test_cassettes_name_the_protocols_sdk(tmp_path: Path) -> None:
    await run_case(
        case("text_basic", "anthropic"),
        load_profile("anthropic"),
        TinyAnthropicProvider,
        mode="record-replica",
        cassette_root=tmp_path,
    )
    meta = yaml.safe_load((tmp_path / "anthropic" / "text_basic.yaml").read_text())["meta"]
    assert meta["sdk"].startswith("anthropic ")


def test_suite_files_are_found_in_user_vendor_directories(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "contracts").mkdir()
    (tmp_path / "acme.toml").write_text(
        'name = "acme"\nbase_url = "http://127.0.0.1:1/v1"\ndefault_model = "m"\n'
    )
    (tmp_path / "contracts" / "acme.toml").write_text(
        'name = "acme"\nfinish_values = ["stop", "odd"]\n'
        '[known_defects]\n"stop.mapping" = "maps odd to stop"\n'
    )
    monkeypatch.setenv("LLM_CONTRACTS_VENDOR_DIRS", str(tmp_path))
    suite = load_suite_profile("acme")
    assert suite.known_defects == {"stop.mapping": "maps odd to stop"}
    finish = next(s for s in load_scenarios() if s.id == "finish_values")
    assert [c.id for c in cases_for(finish, load_profile("acme"))] == [
        "finish_values[stop]",
        "finish_values[odd]",
    ]


#: Mistral's chunks as a client printed them (langchain-ai/langchain#27886), values aside; the
#: last one carries finish_reason and usage together, as Mistral documents.
MISTRAL_REAL_CHUNKS = [
    {"role": "assistant", "content": ""},
    {"content": "Hello"},
    {"content": "!"},
]


def test_a_real_mistral_stream_over_the_replica_cassette_shows_no_field_drift() -> None:
    protocol = protocol_for(load_profile("mistral"))
    scenario = case("text_basic", "mistral")
    assert scenario.answer is not None
    replica = protocol.answer_response(
        scenario.answer, {"model": "mistral-small-latest", "stream": True}
    )
    envelope = {"id": "cd77b9748c4e4009ab29dcf89d20c38f", "object": "chat.completion.chunk"}
    envelope |= {"created": 1730735114, "model": "mistral-large"}
    chunks = [
        {**envelope, "choices": [{"index": 0, "delta": d, "finish_reason": None, "logprobs": None}]}
        for d in MISTRAL_REAL_CHUNKS
    ]
    usage = {"prompt_tokens": 10, "total_tokens": 13, "completion_tokens": 3}
    last = {"index": 0, "delta": {"content": ""}, "finish_reason": "stop", "logprobs": None}
    chunks.append({**envelope, "choices": [last], "usage": usage})
    real = "".join(f"data: {json.dumps(chunk)}\n\n" for chunk in chunks) + "data: [DONE]\n\n"
    request = {"stream": True}
    was = Exchange(request, 200, "text/event-stream", replica.body.decode())
    now = Exchange(request, 200, "text/event-stream", real)
    assert drift([was], [now], protocol) == []
