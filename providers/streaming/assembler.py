"""The block assembler: owns the event grammar, whatever protocol the chunks came in.

    stream := Connected block* MessageDelta Usage Done
    block  := TextDelta | ThinkingDelta | ToolUseStart ToolInputDelta* ToolUseEnd

A protocol's chunk reader turns each wire chunk into a few small calls (`text`,
`tool_fragment`, `close_tool`, `usage`, `finish`) and hands on what `take` returns; `end`
closes the stream. Everything the grammar promises lives here once: block numbering, holding
content while a tool block is open so blocks never interleave, buffering a tool call until its
name is known, closing tool calls with parsed input, usage (last report wins, else estimated),
and truncation (no finish reason means `StreamTruncatedError`, never `Done`).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from providers.errors import (
    MalformedResponseError,
    ProviderUnavailableError,
    StreamError,
    StreamTruncatedError,
)
from providers.frozen import trusted_delta, trusted_state
from providers.protocols import StopMapping
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

BlockKind = Literal["text", "thinking"]

# Built for every content event and tool block from values read and checked here: no
# validation on the per-event path.
_DELTAS: dict[BlockKind, Callable[[int, str], TextDelta | ThinkingDelta]] = {
    "text": trusted_delta(TextDelta, "text"),
    "thinking": trusted_delta(ThinkingDelta, "text"),
}
_tool_input_delta = trusted_delta(ToolInputDelta, "partial_json")
_tool_use_start = trusted_state(ToolUseStart, "index", "id", "name")
_tool_use_end = trusted_state(
    ToolUseEnd, "index", "id", "name", "arguments", "input", "provider_data"
)


#: Fragments of one call's arguments joined into one string at a time: each fragment held
#: alone costs an object (~60 bytes) however few its characters, so max_held_chars would not
#: bound memory; joined in runs, the held arguments cost about their characters (in linear
#: time: only the newest run is joined, never the whole).
_JOIN_EVERY = 256


@dataclass(slots=True)
class _ToolCall:
    id: str = ""
    name: str = ""
    parts: list[str] = field(default_factory=list)
    #: How many leading `parts` are already joins of many fragments (see _JOIN_EVERY).
    joined: int = 0
    block_index: int = -1
    provider_data: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class _HeldText:
    kind: BlockKind
    text: str
    signature: str | None = None
    redacted_data: str | None = None
    provider_data: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class _Finish:
    raw: str
    mapped: StopMapping


class BlockAssembler:
    """Stateful: one instance per response. Drive it, `take` events as they are ready, `end`."""

    def __init__(
        self,
        provider: str,
        *,
        estimated_input_tokens: int,
        tool_calls_imply_tool_use: bool = True,
        max_tool_calls: int | None = None,
        max_held_chars: int | None = None,
    ) -> None:
        self.provider = provider
        self._max_tool_calls = max_tool_calls
        self._max_held_chars = max_held_chars
        self._held_limit = math.inf if max_held_chars is None else max_held_chars
        self._held_chars = 0
        self._estimated_input_tokens = estimated_input_tokens
        self._tool_calls_imply_tool_use = tool_calls_imply_tool_use
        self._out: list[StreamEvent] = []
        self._tools: dict[int, _ToolCall] = {}
        self._open_tool: int | None = None
        # While a tool block is open, later content waits here so that blocks never interleave.
        self._held: list[_HeldText | int] = []
        # Whitespace-only answer text before any block (GLM's "\n" ahead of its reasoning):
        # it joins the first real text instead of opening a block of its own.
        self._leading_space = ""
        self._block_index = -1
        self._block_kind: BlockKind | None = None
        #: Text given out, for the usage estimate when no report comes (arguments count at the end).
        self._output_chars = 0
        self._finish: _Finish | None = None
        self._usage: Usage | None = None

    @property
    def finished(self) -> bool:
        """A finish reason arrived: ending the body now is a normal end."""
        return self._finish is not None

    def take(self) -> list[StreamEvent]:
        """The events completed since the last call, in order."""
        out, self._out = self._out, []
        return out

    # -- input from a chunk reader --------------------------------------------------------------

    def text(self, kind: BlockKind, text: str) -> None:
        """Text or reasoning; consecutive pieces of one kind share a block."""
        if not text:
            return
        if kind == "text" and (self._block_index < 0 or self._leading_space):
            if self._block_index < 0 and text.isspace():
                self._leading_space += text
                return
            if self._leading_space:
                text, self._leading_space = self._leading_space + text, ""
        if self._open_tool is None:
            self._emit_text(kind, text)
        else:
            self._hold(len(text), "text held while a tool call is open")
            self._held.append(_HeldText(kind, text))

    def thinking_signature(self, signature: str) -> None:
        """The signature that closes the current reasoning block; it must go back with it."""
        self._closing_thinking(_HeldText("thinking", "", signature=signature))

    def redacted_thinking(self, data: str) -> None:
        """A reasoning block the vendor encrypted: a block of its own, to be sent back."""
        self._closing_thinking(_HeldText("thinking", "", redacted_data=data))

    def thinking_record(self, data: dict[str, Any]) -> None:
        """The protocol's record that closes the current reasoning block (a Responses reasoning
        item), to be sent back unchanged."""
        self._closing_thinking(_HeldText("thinking", "", provider_data=data))

    def _closing_thinking(self, piece: _HeldText) -> None:
        if self._open_tool is None:
            self._emit_closing_thinking(piece)
        else:
            self._held.append(piece)

    def tool_fragment(self, key: int, call_id: str, name: str, arguments: str) -> None:
        """A piece of tool call `key` (the reader's own numbering): identity and/or arguments.

        The first non-empty id and name win; arguments are concatenated in arrival order.
        """
        call = self._tools.get(key)
        if call is None:
            if self._max_tool_calls is not None and len(self._tools) >= self._max_tool_calls:
                raise MalformedResponseError(
                    f"the answer holds more than max_tool_calls={self._max_tool_calls} tool "
                    "calls; raise max_tool_calls= if this is expected",
                    provider=self.provider,
                )
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
            self._keep_arguments(call, arguments)
        if key == self._open_tool:
            if call.block_index >= 0:  # started
                if arguments:
                    self._out.append(_tool_input_delta(call.block_index, arguments))
            elif call.name:
                self._start_tool(call)

    def more_text(self, kind: BlockKind, text: str) -> list[StreamEvent]:
        """`text`, then `take()`: more of the open block of its kind, the usual piece of a
        stream, is one delta made here, with no other state to look at."""
        if kind == self._block_kind and text and self._open_tool is None and not self._out:
            self._output_chars += len(text)
            return [_DELTAS[kind](self._block_index, text)]
        self.text(kind, text)
        return self.take()

    def more_arguments(self, key: int, arguments: str) -> list[StreamEvent]:
        """`tool_fragment` with arguments alone, then `take()`: more arguments for the open
        call already started, the usual fragment, are one delta made here."""
        if key == self._open_tool and arguments and not self._out:
            call = self._tools[key]
            if call.block_index >= 0:
                self._keep_arguments(call, arguments)
                return [_tool_input_delta(call.block_index, arguments)]
        self.tool_fragment(key, "", "", arguments)
        return self.take()

    def _keep_arguments(self, call: _ToolCall, arguments: str) -> None:
        """Keep a fragment of `call`'s arguments, within max_held_chars."""
        self._held_chars += len(arguments)
        if self._held_chars > self._held_limit:
            raise self._held_too_much("tool-call arguments")
        parts = call.parts
        parts.append(arguments)
        if len(parts) - call.joined >= _JOIN_EVERY:
            parts[call.joined :] = ["".join(parts[call.joined :])]
            call.joined += 1

    def _hold(self, chars: int, what: str) -> None:
        """Count characters this answer keeps in memory; past the bound, a typed error."""
        self._held_chars += chars
        if self._held_chars > self._held_limit:
            raise self._held_too_much(what)

    def _held_too_much(self, what: str) -> MalformedResponseError:
        return MalformedResponseError(
            f"the answer holds more than max_held_chars={self._max_held_chars} characters "
            f"({what}); raise max_held_chars= if this is expected",
            provider=self.provider,
        )

    def tool_data(self, key: int, data: dict[str, Any]) -> None:
        """Vendor fields that travel with tool call `key` and go back with it (a signature)."""
        if key in self._tools:
            self._tools[key].provider_data.update(data)

    def close_tool(self, key: int) -> None:
        """The protocol says tool call `key` is complete: close it now if it is the open block.

        Held content then flows again, up to the next held tool call, which becomes the open
        block. A call that is not the open block closes at the end, in order.
        """
        if key != self._open_tool:
            return
        self._close(key)
        self._open_tool = None
        while self._held and self._open_tool is None:
            item = self._held.pop(0)
            if isinstance(item, _HeldText):
                self._emit_held(item)
            else:
                self._open_tool = item
                call = self._tools[item]
                if call.name:
                    self._start_tool(call)

    def usage(self, usage: Usage) -> None:
        """A usage report; the last one wins."""
        self._usage = usage

    def finish(self, raw: str, mapped: StopMapping) -> None:
        """The vendor's stop value and what the protocol and profile map it to; the last wins.

        A mapping to a failure raises only at `end`, after the events already produced.
        """
        self._finish = _Finish(raw, mapped)

    def end(self) -> list[StreamEvent]:
        """Close open blocks and emit MessageDelta, Usage, Done, or raise why we cannot."""
        if self._finish is None:
            raise StreamTruncatedError(
                "the stream ended before the vendor sent a finish reason: the answer is "
                "incomplete; retry the request",
                provider=self.provider,
            )
        if self._open_tool is not None:
            self._close(self._open_tool)
            self._open_tool = None
        if self._leading_space:
            self._held.append(_HeldText("text", self._leading_space))
        for item in self._held:
            if isinstance(item, _HeldText):
                self._emit_held(item)
            else:
                self._close(item)
        self._held.clear()
        self._out.append(self._message_delta(self._finish))
        self._out.append(self._final_usage())
        self._out.append(Done())
        return self.take()

    # -- blocks -------------------------------------------------------------------------------

    def _emit_text(self, kind: BlockKind, text: str) -> None:
        if self._block_kind != kind:
            self._block_kind = kind
            self._block_index += 1
        self._output_chars += len(text)
        self._out.append(_DELTAS[kind](self._block_index, text))

    def _emit_held(self, piece: _HeldText) -> None:
        if piece.signature is None and piece.redacted_data is None and piece.provider_data is None:
            self._emit_text(piece.kind, piece.text)
        else:
            self._emit_closing_thinking(piece)

    def _emit_closing_thinking(self, piece: _HeldText) -> None:
        """A signature closes the open reasoning block; redacted data is a block of its own.
        Either way the next reasoning opens a new block."""
        if self._block_kind != "thinking" or piece.redacted_data is not None:
            self._block_index += 1
        self._block_kind = None
        self._out.append(
            ThinkingDelta.model_construct(
                index=self._block_index,
                text="",
                signature=piece.signature,
                redacted_data=piece.redacted_data,
                provider_data=piece.provider_data,
            )
        )

    def _start_tool(self, call: _ToolCall) -> None:
        self._block_index += 1
        self._block_kind = None
        call.block_index = self._block_index
        if not call.id:
            call.id = f"call_{call.block_index}"
        self._out.append(
            _tool_use_start(
                {
                    "type": "tool_use_start",
                    "index": call.block_index,
                    "id": call.id,
                    "name": call.name,
                }
            )
        )
        if call.parts:
            self._out.append(_tool_input_delta(call.block_index, "".join(call.parts)))

    def _close(self, key: int) -> None:
        call = self._tools[key]
        if call.block_index < 0:  # not started
            if not call.name:
                raise MalformedResponseError(
                    f"tool call {key} never received a function name", provider=self.provider
                )
            self._start_tool(call)
        arguments = "".join(call.parts)
        try:
            parsed = tool_input_from_arguments(arguments)
        except ValueError as exc:
            raise MalformedResponseError(
                f"tool call {call.name!r} ({call.id}) has invalid JSON arguments: {exc}",
                provider=self.provider,
            ) from None
        self._out.append(
            _tool_use_end(
                {
                    "type": "tool_use_end",
                    "index": call.block_index,
                    "id": call.id,
                    "name": call.name,
                    "arguments": arguments,
                    "input": parsed,
                    # A copy: the event must not change if the call's data grows after it.
                    "provider_data": dict(call.provider_data) if call.provider_data else None,
                }
            )
        )

    # -- the end ------------------------------------------------------------------------------

    def _message_delta(self, finish: _Finish) -> MessageDelta:
        if finish.mapped == "error":
            raise StreamError(
                f"the vendor ended the stream with finish_reason {finish.raw!r}: generation failed",
                provider=self.provider,
            )
        if finish.mapped == "retryable_error":
            raise ProviderUnavailableError(
                f"the vendor ended the stream with finish_reason {finish.raw!r}: inference was "
                "interrupted; retry the request",
                provider=self.provider,
            )
        stop = StopReason(finish.mapped)
        if stop is StopReason.END_TURN and self._tools and self._tool_calls_imply_tool_use:
            stop = StopReason.TOOL_USE
        return MessageDelta(stop_reason=stop, raw_stop_reason=finish.raw)

    def _final_usage(self) -> Usage:
        if self._usage is not None:
            return self._usage
        # Arguments are counted here, once, rather than with every fragment.
        arguments = sum(len(part) for call in self._tools.values() for part in call.parts)
        return Usage(
            input_tokens=self._estimated_input_tokens,
            output_tokens=math.ceil((self._output_chars + arguments) / 4),
            estimated=True,
        )
