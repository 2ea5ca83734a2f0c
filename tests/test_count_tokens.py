from __future__ import annotations

import json
import math

from support import FakeVendor

from providers import (
    AssistantMessage,
    CompletionRequest,
    ToolCall,
    ToolDefinition,
    UserMessage,
)


def test_count_tokens_is_chars_over_four_across_system_messages_and_tools(
    vendor: FakeVendor,
) -> None:
    tool = ToolDefinition(name="f", description="d", parameters={"type": "object"})
    request = CompletionRequest(
        system="sys",
        messages=(
            UserMessage(content="hello"),
            AssistantMessage(
                content="ok",
                tool_calls=(ToolCall(id="1", name="f", arguments='{"a":1}', input={"a": 1}),),
            ),
        ),
        tools=(tool,),
    )
    chars = (
        len("sys")
        + len("hello")
        + len("ok")
        + len("f")
        + len('{"a":1}')
        + len("f")
        + len("d")
        + len(json.dumps({"type": "object"}, separators=(",", ":")))
    )
    count = vendor.provider().count_tokens(request)
    assert count.input_tokens == math.ceil(chars / 4)
    assert count.estimated
