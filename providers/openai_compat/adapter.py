"""Chunk -> event adapter: turns any vendor's chunk order into the one event grammar.

    stream := Connected block* MessageDelta Usage Done
    block  := TextDelta | ThinkingDelta | ToolUseStart ToolInputDelta* ToolUseEnd

The adapter sees parsed chunk dicts (streamed, or one synthetic chunk built from a non-streamed
response) and emits everything after `Connected`. Vendor differences it must absorb are listed
in vendor-wire-facts.md; the ones that vary by vendor come from the profile, never from a
vendor name.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from providers.errors import (
    MalformedResponseError,
    ProviderUnavailableError,
    StreamError,
    StreamTruncatedError,
)
from providers.openai_compat.error_mapping import ErrorMapper
from providers.types import (
    Done,
    MessageDelta,
    StopReason,
    StreamEvent,
    TextDelta,
    ThinkingDelta,
    ToolInputDelta,
    ToolUseEnd,
    ToolUseStart,
    Usage,
    tool_input_from_arguments,
)
from providers.vendors import StopMapping, VendorProfile

_TEXT = "text"
_THINKING = "thinking"


@dataclass(slots=True)
class _ToolCall:
    id: str = ""
    name: str = ""
    parts: list[str] = field(default_factory=list)
    block_index: int = -1

    @property
    def started(self) -> bool:
        return self.block_index >= 0


@dataclass(slots=True)
class _HeldText:
    kind: str
    text: str


def usage_from_report(report: dict[str, Any]) -> Usage:
    """A vendor usage object -> Usage. Missing or null counts read as 0."""
    prompt_details = report.get("prompt_tokens_details") or {}
    completion_details = report.get("completion_tokens_details") or {}
    return Usage(
        input_tokens=report.get("prompt_tokens") or 0,
        output_tokens=report.get("completion_tokens") or 0,
        cache_read_tokens=prompt_details.get("cached_tokens") or 0,
        reasoning_tokens=completion_details.get("reasoning_tokens") or 0,
    )


class StreamAdapter:
    """Stateful: one instance per response. `feed` each chunk, then `finish` once."""

    def __init__(
        self, profile: VendorProfile, errors: ErrorMapper, estimated_input_tokens: int
    ) -> None:
        self._errors = errors
        self._stop_mapping: dict[str, StopMapping] = profile.stop_mapping()
        self._reasoning_fields = profile.wire.reasoning_fields
        self._tool_calls_imply_tool_use = profile.wire.tool_calls_imply_tool_use
        self._estimated_input_tokens = estimated_input_tokens
        self._tools: dict[int, _ToolCall] = {}
        self._last_tool_key: int | None = None
        self._open_tool: int | None = None
        # While a tool block is open, later content waits here so that blocks never interleave.
        self._held: list[_HeldText | int] = []
        self._block_index = -1
        self._block_kind: str | None = None
        self._output_chars = 0
        self._finish_reason: str | None = None
        self._usage_report: dict[str, Any] | None = None

    @property
    def finished(self) -> bool:
        """A finish reason arrived: ending the body now is a normal end."""
        return self._finish_reason is not None

    def feed(self, chunk: Any) -> list[StreamEvent]:
        if not isinstance(chunk, dict):
            raise MalformedResponseError(
                f"expected a JSON object chunk, got {type(chunk).__name__}",
                provider=self._errors.provider,
            )
        if chunk.get("error"):
            raise self._errors.from_stream_payload(chunk)
        usage = chunk.get("usage")
        if usage:
            self._usage_report = usage
        out: list[StreamEvent] = []
        for choice in chunk.get("choices") or ():
            if choice.get("index", 0) != 0:
                continue  # n > 1 is not requested; a stray choice must not mix into the answer
            delta = choice.get("delta") or choice.get("message")
            if delta:
                self._delta(delta, out)
            finish = choice.get("finish_reason")
            if finish:
                self._finish_reason = finish
        return out

    def finish(self) -> list[StreamEvent]:
        """Close open blocks and emit MessageDelta, Usage, Done, or raise why we cannot."""
        if self._finish_reason is None:
            raise StreamTruncatedError(
                "the stream ended before the vendor sent a finish reason: the answer is "
                "incomplete; retry the request",
                provider=self._errors.provider,
            )
        out: list[StreamEvent] = []
        if self._open_tool is not None:
            self._close_tool(self._open_tool, out)
            self._open_tool = None
        for item in self._held:
            if isinstance(item, _HeldText):
                self._text(item.kind, item.text, out)
            else:
                self._close_tool(item, out)
        self._held.clear()
        out.append(self._message_delta(self._finish_reason))
        out.append(self._usage())
        out.append(Done())
        return out

    # -- content ------------------------------------------------------------------------------

    def _delta(self, delta: dict[str, Any], out: list[StreamEvent]) -> None:
        for name in self._reasoning_fields:
            reasoning = delta.get(name)
            if reasoning:
                self._content(_THINKING, reasoning, out)
                break
        content = delta.get("content")
        if content:
            if isinstance(content, str):
                self._content(_TEXT, content, out)
            else:
                self._content_parts(content, out)
        tool_calls = delta.get("tool_calls")
        if tool_calls:
            for fragment in tool_calls:
                self._tool_fragment(fragment, out)

    def _content_parts(self, parts: Any, out: list[StreamEvent]) -> None:
        """Typed content parts (Mistral's reasoning models): text and nested thinking parts."""
        if not isinstance(parts, list):
            raise MalformedResponseError(
                f"delta.content must be a string or a list of parts, got {type(parts).__name__}",
                provider=self._errors.provider,
            )
        for part in parts:
            kind = part.get("type") if isinstance(part, dict) else None
            if kind == "text" and part.get("text"):
                self._content(_TEXT, part["text"], out)
            elif kind == "thinking":
                for inner in part.get("thinking") or ():
                    if isinstance(inner, dict) and inner.get("text"):
                        self._content(_THINKING, inner["text"], out)

    def _content(self, kind: str, text: str, out: list[StreamEvent]) -> None:
        if self._open_tool is None:
            self._text(kind, text, out)
        else:
            self._held.append(_HeldText(kind, text))

    def _text(self, kind: str, text: str, out: list[StreamEvent]) -> None:
        if self._block_kind != kind:
            self._block_kind = kind
            self._block_index += 1
        self._output_chars += len(text)
        model = TextDelta if kind == _TEXT else ThinkingDelta
        out.append(model.model_construct(index=self._block_index, text=text))

    # -- tool calls ---------------------------------------------------------------------------

    def _tool_fragment(self, fragment: dict[str, Any], out: list[StreamEvent]) -> None:
        function = fragment.get("function") or {}
        call_id = fragment.get("id") or ""
        name = function.get("name") or ""
        arguments = function.get("arguments") or ""
        if not (call_id or name or arguments):
            return  # metadata only (Gemini's standalone thought_signature deltas)
        key = self._tool_key(fragment.get("index"), call_id, starts_call=bool(call_id or name))
        call = self._tools.get(key)
        if call is None:
            call = self._tools[key] = _ToolCall()
            if self._open_tool is None and not self._held:
                self._open_tool = key
            else:
                self._held.append(key)
        if call_id and not call.id:
            call.id = call_id
        if name and not call.name:
            call.name = name
        if arguments:
            if not isinstance(arguments, str):
                raise MalformedResponseError(
                    "tool-call arguments must be a JSON string", provider=self._errors.provider
                )
            call.parts.append(arguments)
            self._output_chars += len(arguments)
        if key == self._open_tool:
            if call.started:
                if arguments:
                    out.append(
                        ToolInputDelta.model_construct(
                            index=call.block_index, partial_json=arguments
                        )
                    )
            elif call.name:
                self._start_tool(call, out)

    def _tool_key(self, index: Any, call_id: str, *, starts_call: bool) -> int:
        """The vendor's tool index; index-less fragments (Gemini) start a call when named.

        An index reused with a different id is a new call: some gateways number every
        parallel call 0, and joining them would corrupt both.
        """
        if isinstance(index, int):
            known = self._tools.get(index)
            reused = known is not None and call_id and known.id and known.id != call_id
            key = max(self._tools) + 1 if reused else index
        elif starts_call or self._last_tool_key is None:
            key = max(self._tools, default=-1) + 1
        else:
            key = self._last_tool_key
        self._last_tool_key = key
        return key

    def _start_tool(self, call: _ToolCall, out: list[StreamEvent]) -> None:
        self._block_index += 1
        self._block_kind = None
        call.block_index = self._block_index
        if not call.id:
            call.id = f"call_{call.block_index}"
        out.append(ToolUseStart(index=call.block_index, id=call.id, name=call.name))
        if call.parts:
            out.append(ToolInputDelta(index=call.block_index, partial_json="".join(call.parts)))

    def _close_tool(self, key: int, out: list[StreamEvent]) -> None:
        call = self._tools[key]
        if not call.started:
            if not call.name:
                raise MalformedResponseError(
                    f"tool call {key} never received a function name",
                    provider=self._errors.provider,
                )
            self._start_tool(call, out)
        arguments = "".join(call.parts)
        try:
            parsed = tool_input_from_arguments(arguments)
        except ValueError as exc:
            raise MalformedResponseError(
                f"tool call {call.name!r} ({call.id}) has invalid JSON arguments: {exc}",
                provider=self._errors.provider,
            ) from None
        out.append(
            ToolUseEnd(
                index=call.block_index,
                id=call.id,
                name=call.name,
                arguments=arguments,
                input=parsed,
            )
        )

    # -- the end ------------------------------------------------------------------------------

    def _message_delta(self, raw: str) -> MessageDelta:
        mapped = self._stop_mapping.get(raw, StopReason.OTHER)
        if mapped == "error":
            raise StreamError(
                f"the vendor ended the stream with finish_reason {raw!r}: generation failed",
                provider=self._errors.provider,
            )
        if mapped == "retryable_error":
            raise ProviderUnavailableError(
                f"the vendor ended the stream with finish_reason {raw!r}: inference was "
                "interrupted; retry the request",
                provider=self._errors.provider,
            )
        stop = StopReason(mapped)
        if stop is StopReason.END_TURN and self._tools and self._tool_calls_imply_tool_use:
            stop = StopReason.TOOL_USE
        return MessageDelta(stop_reason=stop, raw_stop_reason=raw)

    def _usage(self) -> Usage:
        if self._usage_report is not None:
            return usage_from_report(self._usage_report)
        return Usage(
            input_tokens=self._estimated_input_tokens,
            output_tokens=math.ceil(self._output_chars / 4),
            estimated=True,
        )
