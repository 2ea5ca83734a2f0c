"""The request vocabulary's own checks: a request that cannot be right is refused when it is
built, with a message that says what to change."""

from __future__ import annotations

import base64

import pytest
from pydantic import ValidationError

from providers import (
    AssistantMessage,
    CompletionRequest,
    CompletionResponse,
    ImagePart,
    JsonSchemaFormat,
    StopReason,
    TextPart,
    ThinkingBlock,
    ThinkingConfig,
    ThinkingDelta,
    ToolCall,
    ToolDefinition,
    Usage,
    UserMessage,
)

PIXEL = base64.b64encode(b"\x89PNG\r\n\x1a\n").decode()
WEATHER = ToolDefinition(name="weather")


def request(**fields: object) -> CompletionRequest:
    return CompletionRequest.model_validate(
        {"messages": [{"role": "user", "content": "hi"}], **fields}
    )


@pytest.mark.parametrize("choice", ["auto", "none", "required", "weather"])
def test_tool_choice_takes_a_mode_or_a_tool_given(choice: str) -> None:
    built = request(tools=[WEATHER], tool_choice=choice)
    assert built.tool_choice == choice
    assert built.forced_tool == ("weather" if choice == "weather" else None)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"tool_choice": "auto"}, "tool_choice='auto' needs tools"),
        ({"tools": [WEATHER], "tool_choice": "clock"}, "nor the name of a tool given"),
        ({"parallel_tool_calls": False}, "parallel_tool_calls needs tools"),
        ({"top_p": 1.5}, "less than or equal to 1"),
    ],
)
def test_tool_options_and_ranges_are_checked_when_built(
    fields: dict[str, object], message: str
) -> None:
    with pytest.raises(ValidationError, match=message):
        request(**fields)


def test_a_json_schema_format_must_be_a_valid_object_schema() -> None:
    schema = {"type": "object", "properties": {"city": {"type": "string"}}}
    assert JsonSchemaFormat(name="city", json_schema=schema, strict=True).strict
    with pytest.raises(ValidationError, match="not a valid JSON Schema"):
        JsonSchemaFormat(name="city", json_schema={"type": "object", "properties": 3})
    with pytest.raises(ValidationError, match="must describe an object"):
        JsonSchemaFormat(name="cities", json_schema={"type": "array"})
    with pytest.raises(ValidationError, match="name"):
        JsonSchemaFormat(name="has space", json_schema=schema)


def test_response_format_is_read_from_plain_data_by_its_type() -> None:
    built = request(response_format={"type": "json_object"})
    assert built.response_format is not None
    assert built.response_format.type == "json_object"


def test_thinking_needs_an_effort_or_a_budget_and_none_means_off() -> None:
    assert ThinkingConfig(effort="low", budget_tokens=2048).budget_tokens == 2048
    with pytest.raises(ValidationError, match="needs effort= or budget_tokens="):
        ThinkingConfig()
    with pytest.raises(ValidationError, match="drop budget_tokens"):
        ThinkingConfig(effort="none", budget_tokens=1024)


def test_image_parts_by_url_or_by_base64_with_a_media_type() -> None:
    message = UserMessage(
        content=(
            TextPart(text="What is "),
            ImagePart(url="https://example.com/cat.png"),
            TextPart(text="this?"),
            ImagePart(data=PIXEL, media_type="image/png"),
        )
    )
    assert message.text == "What is this?"
    assert len(message.images) == 2
    assert UserMessage(content="plain").images == ()


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({}, "exactly one of url= or data="),
        ({"url": "https://e.com/a.png", "data": PIXEL}, "exactly one of url= or data="),
        ({"url": "file:///etc/passwd"}, "must be an http"),
        ({"url": "https://e.com/a.png", "media_type": "image/png"}, "goes with data="),
        ({"data": PIXEL}, "needs media_type="),
        ({"data": "data:image/png;base64," + PIXEL, "media_type": "image/png"}, "base64"),
        ({"data": PIXEL, "media_type": "image/tiff"}, "media_type"),
    ],
)
def test_a_bad_image_part_says_what_to_change(fields: dict[str, str], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        ImagePart.model_validate(fields)


def test_a_user_message_of_no_parts_is_refused() -> None:
    with pytest.raises(ValidationError, match="empty sequence"):
        UserMessage(content=())


def test_thinking_blocks_and_deltas_carry_something() -> None:
    with pytest.raises(ValidationError, match="only redacted_data"):
        ThinkingBlock(text="x", redacted_data="RW5j")
    with pytest.raises(
        ValidationError, match="needs text, a signature, redacted_data or provider_data"
    ):
        ThinkingDelta(index=0)
    assert ThinkingDelta(index=0, signature="c2ln").closes_block
    assert not ThinkingDelta(index=0, text="hm").closes_block


def test_a_response_becomes_the_next_turn_with_its_thinking() -> None:
    blocks = (ThinkingBlock(text="hm", signature="c2ln"), ThinkingBlock(redacted_data="RW5j"))
    call = ToolCall(id="toolu_1", name="weather", arguments="{}", input={})
    response = CompletionResponse(
        text="Calling.",
        thinking="hm",
        thinking_blocks=blocks,
        tool_calls=(call,),
        stop_reason=StopReason.TOOL_USE,
        raw_stop_reason="tool_use",
        usage=Usage(input_tokens=1, output_tokens=1),
        model="m",
    )
    assert response.as_message() == AssistantMessage(
        content="Calling.", tool_calls=(call,), thinking=blocks
    )
