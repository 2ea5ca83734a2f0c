"""What we send, per vendor: the profile's quirks, not vendor names in code, decide it."""

from __future__ import annotations

import pytest
from support import FakeVendor, ask

from contracts.wire import chunk
from providers import (
    AssistantMessage,
    CompletionRequest,
    ImagePart,
    InvalidRequestError,
    JsonSchemaFormat,
    TextPart,
    ThinkingBlock,
    ThinkingConfig,
    ToolCall,
    ToolDefinition,
    ToolResultMessage,
    UserMessage,
)
from providers.vendors import load_profile

WEATHER = ToolDefinition(
    name="weather",
    description="Current weather",
    parameters={"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
)


async def sent_stream_body(
    vendor: FakeVendor, vendor_name: str, request: CompletionRequest
) -> dict[str, object]:
    vendor.sse([chunk({"content": "x"}), chunk(finish="stop")])
    async for _ in vendor.provider(vendor_name).stream(request):
        pass
    body: dict[str, object] = vendor.sent_json()
    return body


@pytest.mark.parametrize(
    ("vendor_name", "max_param", "stream_options"),
    [
        ("openai", "max_completion_tokens", True),
        ("gemini", "max_tokens", True),
        ("mistral", "max_tokens", False),
        ("glm", "max_tokens", False),
        ("claude_subscription", "max_tokens", False),
    ],
)
async def test_max_tokens_parameter_and_stream_options_follow_the_profile(
    vendor: FakeVendor, vendor_name: str, max_param: str, stream_options: bool
) -> None:
    body = await sent_stream_body(vendor, vendor_name, ask(max_tokens=64))
    assert body[max_param] == 64
    other = {"max_tokens", "max_completion_tokens"} - {max_param}
    assert not other & body.keys()
    assert body["stream"] is True
    assert ("stream_options" in body) is stream_options
    if stream_options:
        assert body["stream_options"] == {"include_usage": True}


async def test_system_first_then_conversation_with_tool_round_trip(vendor: FakeVendor) -> None:
    request = CompletionRequest(
        system="Be brief.",
        messages=(
            UserMessage(content="Weather in Oslo?"),
            AssistantMessage(
                tool_calls=(
                    ToolCall(
                        id="call_abc",
                        name="weather",
                        arguments='{"city":"Oslo"}',
                        input={"city": "Oslo"},
                    ),
                )
            ),
            ToolResultMessage(tool_call_id="call_abc", content="-3C"),
        ),
        tools=(WEATHER,),
        temperature=0.3,
        stop=("\n\n",),
    )
    body = await sent_stream_body(vendor, "openai", request)
    assert body["messages"] == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Weather in Oslo?"},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "call_abc",
                    "type": "function",
                    "function": {"name": "weather", "arguments": '{"city":"Oslo"}'},
                }
            ],
        },
        {"role": "tool", "tool_call_id": "call_abc", "content": "-3C"},
    ]
    assert body["tools"] == [
        {
            "type": "function",
            "function": {
                "name": "weather",
                "description": "Current weather",
                "parameters": WEATHER.parameters,
            },
        }
    ]
    assert body["temperature"] == 0.3
    assert body["stop"] == ["\n\n"]
    assert body["model"] == "gpt-4o"


async def test_mistral_tool_call_ids_are_rewritten_to_nine_alnum_consistently(
    vendor: FakeVendor,
) -> None:
    request = CompletionRequest(
        messages=(
            UserMessage(content="q"),
            AssistantMessage(
                tool_calls=(
                    ToolCall(id="call_0123456789abcdef", name="f", arguments="{}", input={}),
                )
            ),
            ToolResultMessage(tool_call_id="call_0123456789abcdef", content="r"),
        )
    )
    body = await sent_stream_body(vendor, "mistral", request)
    messages = body["messages"]
    assert isinstance(messages, list)
    sent_id = messages[1]["tool_calls"][0]["id"]
    assert len(sent_id) == 9
    assert sent_id.isalnum()
    assert messages[2]["tool_call_id"] == sent_id


async def test_model_override_per_request(vendor: FakeVendor) -> None:
    body = await sent_stream_body(vendor, "gemini", ask(model="gemini-2.5-pro"))
    assert body["model"] == "gemini-2.5-pro"


async def test_requests_go_to_the_profile_base_url_with_bearer_auth(vendor: FakeVendor) -> None:
    await sent_stream_body(vendor, "glm", ask())
    sent = vendor.requests[-1]
    assert str(sent.url) == "https://api.z.ai/api/paas/v4/chat/completions"
    assert sent.headers["authorization"].startswith("Bearer ")


async def test_image_parts_go_as_image_url_parts_inline_ones_as_data_urls(
    vendor: FakeVendor,
) -> None:
    content = (
        TextPart(text="Compare"),
        ImagePart(url="https://example.com/a.png"),
        ImagePart(data="iVBORw0KGgo=", media_type="image/png"),
    )
    body = await sent_stream_body(
        vendor, "openai", CompletionRequest(messages=(UserMessage(content=content),))
    )
    assert body["messages"] == [
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "Compare"},
                {"type": "image_url", "image_url": {"url": "https://example.com/a.png"}},
                {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}},
            ],
        }
    ]


async def test_reasoning_is_not_sent_back_to_a_chat_completions_vendor(vendor: FakeVendor) -> None:
    """Chat Completions has no field for it; vendors that read it back reject it elsewhere."""
    earlier = AssistantMessage(content="4", thinking=(ThinkingBlock(text="2+2", signature="s"),))
    request = CompletionRequest(
        messages=(UserMessage(content="2+2?"), earlier, UserMessage(content="and 3+3?"))
    )
    body = await sent_stream_body(vendor, "openai", request)
    assert body["messages"] == [
        {"role": "user", "content": "2+2?"},
        {"role": "assistant", "content": "4"},
        {"role": "user", "content": "and 3+3?"},
    ]


CLOCK = ToolDefinition(name="clock", parameters={"type": "object", "properties": {}})
SCHEMA = {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}


@pytest.mark.parametrize(
    ("vendor_name", "fields", "expected"),
    [
        ("openai", {"tool_choice": "required"}, {"tool_choice": "required"}),
        (
            "openai",
            {"tool_choice": "clock", "parallel_tool_calls": False},
            {
                "tool_choice": {"type": "function", "function": {"name": "clock"}},
                "parallel_tool_calls": False,
            },
        ),
        (
            "openai",
            {"response_format": JsonSchemaFormat(name="city", json_schema=SCHEMA, strict=True)},
            {
                "response_format": {
                    "type": "json_schema",
                    "json_schema": {"name": "city", "schema": SCHEMA, "strict": True},
                }
            },
        ),
        (
            "openai",
            {"response_format": {"type": "json_object"}},
            {"response_format": {"type": "json_object"}},
        ),
        ("openai", {"seed": 7, "top_p": 0.5}, {"seed": 7, "top_p": 0.5}),
        ("mistral", {"seed": 7}, {"random_seed": 7}),
        (
            "openai",
            {"model": "o3", "thinking": ThinkingConfig(effort="high", budget_tokens=2048)},
            {"reasoning_effort": "high"},
        ),
        ("gemini", {"thinking": ThinkingConfig(effort="none")}, {"reasoning_effort": "none"}),
        ("glm", {"thinking": ThinkingConfig(effort="low")}, {"thinking": {"type": "enabled"}}),
        ("glm", {"thinking": ThinkingConfig(effort="none")}, {"thinking": {"type": "disabled"}}),
        (
            "openrouter",
            {"thinking": ThinkingConfig(effort="low", budget_tokens=900)},
            {"reasoning": {"effort": "low"}},
        ),
        (
            "openrouter",
            {"thinking": ThinkingConfig(budget_tokens=900)},
            {"reasoning": {"max_tokens": 900}},
        ),
        (
            "anthropic_openai",
            {"thinking": ThinkingConfig(budget_tokens=2048), "max_tokens": 4096},
            {"thinking": {"type": "enabled", "budget_tokens": 2048}},
        ),
    ],
)
async def test_request_features_in_each_vendors_spelling(
    vendor: FakeVendor, vendor_name: str, fields: dict[str, object], expected: dict[str, object]
) -> None:
    request = ask(tools=(WEATHER, CLOCK), **fields) if "tool_choice" in fields else ask(**fields)
    body = await sent_stream_body(vendor, vendor_name, request)
    assert {key: body.get(key) for key in expected} == expected


async def test_features_not_asked_for_are_not_sent(vendor: FakeVendor) -> None:
    body = await sent_stream_body(vendor, "openai", ask(tools=(WEATHER,)))
    absent = {"tool_choice", "parallel_tool_calls", "response_format", "seed", "top_p"}
    assert not absent & body.keys()
    assert not {"reasoning_effort", "reasoning", "thinking"} & body.keys()


@pytest.mark.parametrize(
    ("vendor_name", "fields", "message"),
    [
        ("openai", {"thinking": ThinkingConfig(effort="low")}, "choose a reasoning model"),
        ("openai", {"model": "o3", "temperature": 0.5}, "temperature must be between 1 and 1"),
        (
            "openai",
            {"model": "o3", "thinking": ThinkingConfig(budget_tokens=900)},
            "not a token budget",
        ),
        ("glm", {"tools": (WEATHER,), "tool_choice": "required"}, "takes auto"),
        (
            "cerebras",
            {"tools": (WEATHER,), "parallel_tool_calls": True},
            "refuses parallel_tool_calls",
        ),
        (
            "deepseek",
            {"response_format": JsonSchemaFormat(name="c", json_schema=SCHEMA)},
            'ask for {"type": "json_object"}',
        ),
        (
            "deepseek",
            {
                "model": "deepseek-reasoner",
                "tools": (WEATHER,),
                "tool_choice": "weather",
                "thinking": ThinkingConfig(effort="low"),
            },
            "while thinking",
        ),
        (
            "claude_subscription",
            {"response_format": {"type": "json_object"}},
            "describe the format in the prompt",
        ),
        (
            "gemini",
            {"thinking": ThinkingConfig(effort="minimal")},
            "takes thinking effort none, low",
        ),
    ],
)
def test_what_a_profile_says_the_vendor_cannot_take_is_refused_before_sending(
    vendor: FakeVendor, vendor_name: str, fields: dict[str, object], message: str
) -> None:
    with pytest.raises(InvalidRequestError, match=message):
        vendor.provider(vendor_name).stream(ask(**fields))
    assert vendor.requests == []


def test_an_image_to_a_vendor_without_vision_is_refused_before_sending(vendor: FakeVendor) -> None:
    content = (TextPart(text="What is this?"), ImagePart(url="https://example.com/a.png"))
    request = CompletionRequest(messages=(UserMessage(content=content),))
    with pytest.raises(InvalidRequestError, match="deepseek declares no vision"):
        vendor.provider("deepseek").stream(request)
    assert vendor.requests == []


def test_request_features_in_the_responses_apis_spelling() -> None:
    from providers.openai_responses.features import responses_features

    quirks = load_profile("openai_responses").request.for_model("o4-mini")
    request = ask(
        tools=(WEATHER, CLOCK),
        tool_choice="clock",
        parallel_tool_calls=False,
        response_format=JsonSchemaFormat(name="city", json_schema=SCHEMA, strict=True),
        thinking=ThinkingConfig(effort="low", budget_tokens=900),
        top_p=0.5,
    )
    assert responses_features(request, quirks, provider="p") == {
        "tool_choice": {"type": "function", "name": "clock"},
        "parallel_tool_calls": False,
        "text": {
            "format": {"type": "json_schema", "name": "city", "schema": SCHEMA, "strict": True}
        },
        "reasoning": {"effort": "low"},
        "top_p": 0.5,
    }
    budget_only = ask(thinking=ThinkingConfig(budget_tokens=900))
    with pytest.raises(InvalidRequestError, match="not a token budget"):
        responses_features(budget_only, quirks, provider="p")
