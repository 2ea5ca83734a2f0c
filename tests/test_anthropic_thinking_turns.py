"""A multi-turn Anthropic tool conversation with extended thinking, over a loopback server
that refuses a tool turn whose thinking was not sent back, as the API does: the thinking
blocks of the answer go back in the next request unchanged, signature and redacted data
byte for byte."""

from __future__ import annotations

import json
from typing import Any

import pytest
from anthropic_wire import (
    KEY,
    block_start,
    block_stop,
    body,
    message_end,
    message_start,
    text_block,
    thinking_block,
    tool_block,
)

from contracts.protocols import protocol_for
from contracts.replica.server import RecordedRequest, ReplicaServer, ScriptedResponse
from providers import (
    AnthropicProvider,
    CompletionRequest,
    InvalidRequestError,
    ThinkingBlock,
    ThinkingConfig,
    ToolDefinition,
    ToolResultMessage,
    UserMessage,
    load_profile,
)

PROFILE = load_profile("anthropic")
#: Opaque to clients; base64 with the characters a re-encoding would touch.
SIGNATURE = "EqQBCgIYAhIM1gbcDa9GJwZA2b3hGgxBdjrkzLoky3dl1pkiMOYds+/AbCdEf=="
REDACTED = "EmwKAhgBEgy3va3pzix/LafPsn4aDFIT2Xlxh0L5L8rLVyIwxtE3rAFBa8cr3qpP"
THOUGHT = ('The user asks about "Zürich" 🌦: ', "call get_weather.\n")
WEATHER = ToolDefinition(
    name="get_weather",
    parameters={"type": "object", "properties": {"city": {"type": "string"}}},
)
THINKING = ThinkingConfig(effort="medium", budget_tokens=2048)
TOOL_USE = {
    "type": "tool_use",
    "id": "toolu_01",
    "name": "get_weather",
    "input": {"city": "Zürich"},
}


def _tool_turn(*, stream: bool) -> ScriptedResponse:
    if not stream:
        content = [
            {"type": "thinking", "thinking": "".join(THOUGHT), "signature": SIGNATURE},
            {"type": "redacted_thinking", "data": REDACTED},
            {
                "type": "tool_use",
                "id": "toolu_01",
                "name": "get_weather",
                "input": {"city": "Zürich"},
            },
        ]
        message = {**message_start()["message"], "content": content, "stop_reason": "tool_use"}
        return ScriptedResponse.json(message, headers={"request-id": "req_1"})
    redacted = [block_start(1, {"type": "redacted_thinking", "data": REDACTED}), block_stop(1)]
    events = [
        message_start(),
        *thinking_block(0, *THOUGHT, signature=SIGNATURE),
        *redacted,
        *tool_block(2, "toolu_01", "get_weather", '{"city": ', '"Zürich"}'),
        *message_end("tool_use"),
    ]
    return ScriptedResponse.sse(body(events), headers={"request-id": "req_1"})


def _final_turn() -> ScriptedResponse:
    events = [message_start(), *text_block(0, "Rain in Zürich."), *message_end()]
    return ScriptedResponse.sse(body(events), headers={"request-id": "req_2"})


class Vendor:
    """Answers the first request with a tool call after thinking; later ones with text, unless
    the request breaks a rule the vendor enforces (then its own error)."""

    def __init__(self) -> None:
        self.protocol = protocol_for(PROFILE)

    def __call__(self, request: RecordedRequest) -> ScriptedResponse:
        sent: dict[str, Any] = request.json()
        rule = self.protocol.suite.rejection(sent, self.protocol.breaks)
        if rule is not None:
            return ScriptedResponse.json(rule.body, rule.status)
        if len(sent["messages"]) == 1:
            return _tool_turn(stream=bool(sent.get("stream")))
        return _final_turn()


def _provider(server: ReplicaServer) -> AnthropicProvider:
    return AnthropicProvider.from_vendor(
        api_key=KEY, base_url=f"http://127.0.0.1:{server.port}", max_retries=0
    )


def _first(question: str) -> CompletionRequest:
    return CompletionRequest(
        messages=(UserMessage(content=question),),
        tools=(WEATHER,),
        thinking=THINKING,
        max_tokens=4096,
    )


async def test_the_thinking_of_a_tool_turn_goes_back_byte_for_byte() -> None:
    with ReplicaServer(Vendor()) as server:
        provider = _provider(server)
        first = _first("Weather in Zürich?")
        answer = await provider.complete(first)
        assert answer.thinking_blocks == (
            ThinkingBlock(text="".join(THOUGHT), signature=SIGNATURE),
            ThinkingBlock(redacted_data=REDACTED),
        )
        follow_up = first.model_copy(
            update={
                "messages": (
                    *first.messages,
                    answer.as_message(),
                    ToolResultMessage(tool_call_id="toolu_01", content="Rain, 9 degrees"),
                )
            }
        )
        events = [event async for event in provider.stream(follow_up)]
        raw = server.requests[-1].body
    assert "".join(getattr(e, "text", "") for e in events) == "Rain in Zürich."
    sent = json.loads(raw)
    assert sent["thinking"] == {"type": "enabled", "budget_tokens": 2048}
    assert sent["messages"][1]["content"] == [
        {"type": "thinking", "thinking": "".join(THOUGHT), "signature": SIGNATURE},
        {"type": "redacted_thinking", "data": REDACTED},
        TOOL_USE,
    ]
    # The opaque values travel as the very bytes the vendor sent.
    assert json.dumps(SIGNATURE).encode() in raw
    assert json.dumps(REDACTED).encode() in raw


async def test_a_tool_turn_that_lost_its_thinking_is_refused_as_the_vendor_refuses_it() -> None:
    """The control: the same conversation with the thinking dropped fails at the vendor."""
    with ReplicaServer(Vendor()) as server:
        provider = _provider(server)
        first = _first("Weather in Zürich?")
        answer = await provider.complete(first)
        forgetful = answer.as_message().model_copy(update={"thinking": ()})
        follow_up = first.model_copy(
            update={
                "messages": (
                    *first.messages,
                    forgetful,
                    ToolResultMessage(tool_call_id="toolu_01", content="Rain, 9 degrees"),
                )
            }
        )
        with pytest.raises(InvalidRequestError, match="must start with a thinking block"):
            async for _ in provider.stream(follow_up):
                pass
