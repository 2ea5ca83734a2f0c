"""from_vendor("mistral") against a real loopback HTTP server speaking Mistral's stream shape."""

from __future__ import annotations

from support import ask, assert_grammar

from contracts.replica import ReplicaServer, Script, ScriptedResponse
from contracts.wire import chunk, split_at, sse_body, tool_delta, usage_report
from providers import (
    MessageDelta,
    OpenAiCompatibleProvider,
    StopReason,
    TextDelta,
    ToolDefinition,
    ToolUseEnd,
    Usage,
)

MISTRAL_TEXT = sse_body(
    [
        chunk({"role": "assistant", "content": ""}),
        chunk({"content": "Bonjour"}),
        chunk({"content": " le monde"}, finish="stop", usage=usage_report(10, 4)),
    ]
)
MISTRAL_TOOLS = sse_body(
    [
        chunk({"role": "assistant", "content": ""}),
        chunk(
            {
                "tool_calls": [
                    tool_delta(0, call_id="D681PevKs", name="weather", arguments='{"city": "Lyon"}')
                ]
            },
            finish="tool_calls",
            usage=usage_report(30, 12),
        ),
    ]
)


async def test_mistral_from_vendor_streams_text_tools_and_usage_over_loopback() -> None:
    script = Script(
        ScriptedResponse.sse(split_at(MISTRAL_TEXT, range(0, len(MISTRAL_TEXT), 13))),
        ScriptedResponse.sse(MISTRAL_TOOLS),
    )
    with ReplicaServer(script) as server:
        provider = OpenAiCompatibleProvider.from_vendor(
            "mistral", api_key="x", base_url=server.base_url
        )
        text_events = [e async for e in provider.stream(ask(max_tokens=50))]
        tool_events = [
            e
            async for e in provider.stream(
                ask(
                    tools=(
                        ToolDefinition(
                            name="weather",
                            parameters={
                                "type": "object",
                                "properties": {"city": {"type": "string"}},
                            },
                        ),
                    )
                )
            )
        ]
    assert_grammar(text_events)
    assert_grammar(tool_events)
    assert "".join(e.text for e in text_events if isinstance(e, TextDelta)) == "Bonjour le monde"
    assert Usage(input_tokens=10, output_tokens=4) in text_events
    (end,) = (e for e in tool_events if isinstance(e, ToolUseEnd))
    assert (end.id, end.name, end.input) == ("D681PevKs", "weather", {"city": "Lyon"})
    assert (
        MessageDelta(stop_reason=StopReason.TOOL_USE, raw_stop_reason="tool_calls") in tool_events
    )
    assert Usage(input_tokens=30, output_tokens=12) in tool_events
    sent = server.requests[0]
    assert (sent.method, sent.path) == ("POST", "/v1/chat/completions")
    assert sent.json()["max_tokens"] == 50
    assert "stream_options" not in sent.json()
    assert sent.headers["authorization"] == "Bearer x"
