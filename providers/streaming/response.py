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
    ThinkingBlock,
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
    blocks: dict[int, list[ThinkingDelta]] = {}
    tool_calls: list[ToolCall] = []
    finish: MessageDelta | None = None
    usage: Usage | None = None
    for event in events:
        if isinstance(event, TextDelta):
            text.append(event.text)
        elif isinstance(event, ThinkingDelta):
            thinking.append(event.text)
            blocks.setdefault(event.index, []).append(event)
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
        thinking_blocks=tuple(_thinking_block(deltas) for deltas in blocks.values()),
        tool_calls=tuple(tool_calls),
        stop_reason=finish.stop_reason,
        raw_stop_reason=finish.raw_stop_reason,
        usage=usage,
        model=raw_model,
        request_id=request_id,
    )


def _thinking_block(deltas: list[ThinkingDelta]) -> ThinkingBlock:
    """One reasoning block from its deltas: the text joined, the signature, redacted data or
    protocol record from the delta that closed it."""
    last = deltas[-1]
    return ThinkingBlock(
        text="".join(delta.text for delta in deltas),
        signature=last.signature,
        redacted_data=last.redacted_data,
        provider_data=last.provider_data,
    )
