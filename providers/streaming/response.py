"""The events of one whole answer -> CompletionResponse, for every provider's `complete()`.

`complete()` reads a non-streamed body through the same chunk reader and assembler as
`stream()`, then folds the events here, so the two paths cannot disagree.
"""

from __future__ import annotations

from providers.types import (
    CompletionResponse,
    MessageDelta,
    StreamEvent,
    TextDelta,
    ThinkingDelta,
    ToolCall,
    ToolUseEnd,
    Usage,
)


def response_from_events(
    events: list[StreamEvent], *, raw_model: str, request_id: str | None
) -> CompletionResponse:
    text: list[str] = []
    thinking: list[str] = []
    tool_calls: list[ToolCall] = []
    finish: MessageDelta | None = None
    usage: Usage | None = None
    for event in events:
        if isinstance(event, TextDelta):
            text.append(event.text)
        elif isinstance(event, ThinkingDelta):
            thinking.append(event.text)
        elif isinstance(event, ToolUseEnd):
            tool_calls.append(
                ToolCall(
                    id=event.id,
                    name=event.name,
                    arguments=event.arguments,
                    input=event.input,
                    provider_data=event.provider_data,
                )
            )
        elif isinstance(event, MessageDelta):
            finish = event
        elif isinstance(event, Usage):
            usage = event
    assert finish is not None, "the assembler always emits a MessageDelta"
    assert usage is not None, "the assembler always emits a Usage"
    return CompletionResponse(
        text="".join(text),
        thinking="".join(thinking),
        tool_calls=tuple(tool_calls),
        stop_reason=finish.stop_reason,
        raw_stop_reason=finish.raw_stop_reason,
        usage=usage,
        model=raw_model,
        request_id=request_id,
    )
