"""The Anthropic Messages event reader: one SSE event's JSON in, assembler calls out.

    message_start  content_block_start  content_block_delta*  content_block_stop  ...
    message_delta (stop_reason, usage)  message_stop          (ping and error anywhere)

Blocks are numbered by the vendor and never interleave, so a tool block closes at its
`content_block_stop`. A stream is finished only by `message_stop` after a `message_delta`
gave the stop reason; anything less is truncation. Every field goes through the typed
accessors, so a wrong JSON shape is a `MalformedResponseError` naming the field.
`message_events` turns a non-streamed Message into the same events, so `complete()` reads
through this reader too.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from providers.error_mapping import ErrorMapper
from providers.streaming import BlockAssembler, ChunkReader, WireJson
from providers.types import StreamEvent, Usage
from providers.vendors import VendorProfile


@dataclass(slots=True)
class _InputUsage:
    """Input-side counts from message_start; output comes with message_delta."""

    input_tokens: int = 0
    cache_read: int = 0
    cache_write: int = 0


class MessagesEventReader(ChunkReader):
    """Stateful: one instance per response. `feed` each event's data, then `finish` once."""

    def __init__(
        self, profile: VendorProfile, errors: ErrorMapper, assembler: BlockAssembler
    ) -> None:
        super().__init__(profile, errors, assembler)
        self._input = _InputUsage()
        self._stop_reason: str | None = None
        self._tool_blocks: set[int] = set()
        self._started: set[int] = set()
        self._handlers = {
            "message_start": self._message_start,
            "content_block_start": self._block_start,
            "content_block_stop": self._block_stop,
            "message_delta": self._message_delta,
            "message_stop": self._message_stop,
        }

    def feed(self, event: Any) -> list[StreamEvent]:
        """The events this one completes; an `error` event raises its mapped error."""
        if type(event) is not dict:
            raise self._json.malformed("the event", "an object", event)
        kind = event.get("type")
        if kind == "content_block_delta":
            # Most events of a stream: each field's usual type is checked inline, the typed
            # accessor names any other.
            read = self._json
            index = event.get("index")
            if type(index) is not int or index not in self._started:
                index = self._started_index(event, "content_block_delta.index")
            delta = event.get("delta")
            if type(delta) is not dict:
                raise read.malformed("content_block_delta.delta", "an object", delta)
            kind = delta.get("type")
            if kind == "text_delta":
                text = delta.get("text")
                if type(text) is not str:
                    text = read.optional_string(delta, "text", "delta.text")
                return self.assembler.more_text("text", text)
            if kind == "input_json_delta":
                partial = delta.get("partial_json")
                if type(partial) is not str:
                    partial = read.optional_string(delta, "partial_json", "delta.partial_json")
                if index not in self._tool_blocks:
                    raise read.malformed("content_block_delta.index", "a tool_use block", index)
                return self.assembler.more_arguments(index, partial)
            if kind == "thinking_delta":
                text = read.optional_string(delta, "thinking", "delta.thinking")
                return self.assembler.more_text("thinking", text)
            if kind == "signature_delta":
                # Kept byte for byte: the next request of a tool turn must send it back unchanged.
                signature = read.optional_string(delta, "signature", "delta.signature")
                if signature:
                    self.assembler.thinking_signature(signature)
            else:
                read.optional_string(delta, "type", "delta.type")  # a type added later, or none
            return self.assembler.take()
        if type(kind) is not str:
            kind = self._json.optional_string(event, "type", "type")
        if kind == "error":
            raise self._errors.from_stream_payload(event)
        handler = self._handlers.get(kind)
        if handler is not None:  # ping, and event types added later, carry nothing to read
            handler(event)
        return self.assembler.take()

    # -- events -------------------------------------------------------------------------------

    def _message_start(self, event: dict[str, Any]) -> None:
        read = self._json
        message = read.optional_object(event, "message", "message_start.message")
        usage = read.optional_object(message, "usage", "message_start.message.usage")
        self._input = _InputUsage(
            read.count(usage, "input_tokens", "message.usage.input_tokens"),
            read.count(usage, "cache_read_input_tokens", "message.usage.cache_read_input_tokens"),
            read.count(
                usage, "cache_creation_input_tokens", "message.usage.cache_creation_input_tokens"
            ),
        )

    def _block_start(self, event: dict[str, Any]) -> None:
        # Once per block: each field's usual type is checked inline (a stream of many short
        # tool calls has one start in every few events), the typed accessor names any other.
        read = self._json
        index = event.get("index")
        if type(index) is not int:
            index = self._index(event, "content_block_start.index")
        if index in self._started:
            # Each block has its own index; a second start there would merge two blocks
            # (two tool calls into one), dropping one silently.
            raise read.malformed("content_block_start.index", "an index not used before", index)
        self._started.add(index)
        block = event.get("content_block")
        if type(block) is not dict:
            block = read.object(block, "content_block_start.content_block")
        kind = block.get("type")
        if type(kind) is not str:
            kind = read.optional_string(block, "type", "content_block.type")
        if kind == "tool_use":
            self._tool_blocks.add(index)
            call_id, name = block.get("id"), block.get("name")
            if type(call_id) is not str:
                call_id = read.optional_string(block, "id", "content_block.id")
            if type(name) is not str:
                name = read.optional_string(block, "name", "content_block.name")
            self.assembler.tool_fragment(index, call_id, name, "")
        elif kind == "text":
            self.assembler.text("text", read.optional_string(block, "text", "content_block.text"))
        elif kind == "thinking":
            text = read.optional_string(block, "thinking", "content_block.thinking")
            self.assembler.text("thinking", text)
            # A whole Message carries the signature here; a stream sends it as a delta.
            signature = read.optional_string(block, "signature", "content_block.signature")
            if signature:
                self.assembler.thinking_signature(signature)
        elif kind == "redacted_thinking":
            data = read.optional_string(block, "data", "content_block.data")
            self.assembler.redacted_thinking(data)
        # Server-side blocks carry nothing this event grammar shows.

    def _block_stop(self, event: dict[str, Any]) -> None:
        index = event.get("index")
        if type(index) is not int or index not in self._started:
            index = self._started_index(event, "content_block_stop.index")
        if index in self._tool_blocks:
            self.assembler.close_tool(index)

    def _message_delta(self, event: dict[str, Any]) -> None:
        read = self._json
        delta = read.optional_object(event, "delta", "message_delta.delta")
        stop = read.optional_string(delta, "stop_reason", "message_delta.delta.stop_reason")
        if stop:
            self._stop_reason = stop
        usage = read.optional_object(event, "usage", "message_delta.usage")
        cache_read = read.count(
            usage, "cache_read_input_tokens", "message_delta.usage.cache_read_input_tokens"
        )
        cache_write = read.count(
            usage, "cache_creation_input_tokens", "message_delta.usage.cache_creation_input_tokens"
        )
        start = self._input
        uncached = read.count(usage, "input_tokens", "message_delta.usage.input_tokens")
        # A later report of the input side (server tools) replaces message_start's.
        if uncached or cache_read or cache_write:
            start = self._input = _InputUsage(uncached, cache_read, cache_write)
        self.assembler.usage(
            Usage(
                # The protocol counts cached tokens apart from input_tokens; ours include them.
                input_tokens=start.input_tokens + start.cache_read + start.cache_write,
                output_tokens=read.count(
                    usage, "output_tokens", "message_delta.usage.output_tokens"
                ),
                cache_read_tokens=start.cache_read,
                cache_write_tokens=start.cache_write,
            )
        )

    def _message_stop(self, _event: dict[str, Any]) -> None:
        # Finished only now: a stop reason without message_stop is still a cut stream.
        if self._stop_reason is not None:
            self._stop(self._stop_reason)

    def _started_index(self, event: dict[str, Any], path: str) -> int:
        """The index of a block that was started: a delta or a stop for any other would add
        text, or end a call, that no block holds."""
        index = self._index(event, path)
        if index not in self._started:
            raise self._json.malformed(path, "the index of a started block", index)
        return index

    def _index(self, event: dict[str, Any], path: str) -> int:
        index = event.get("index")
        if type(index) is not int:
            raise self._json.malformed(path, "an integer", index)
        return index


def message_events(body: Any, read: WireJson) -> list[dict[str, Any]]:
    """A non-streamed Message as the events a stream of it would carry, in order."""
    message = read.object(body, "the response")
    events: list[dict[str, Any]] = [{"type": "message_start", "message": message}]
    for index, block in enumerate(read.optional_objects(message, "content", "content")):
        kind = read.optional_string(block, "type", "content[].type")
        start = {**block, "input": {}} if kind == "tool_use" else block
        events.append({"type": "content_block_start", "index": index, "content_block": start})
        if kind == "tool_use":
            tool_input = read.optional_object(block, "input", "content[].input")
            delta = {"type": "input_json_delta", "partial_json": json.dumps(tool_input)}
            events.append({"type": "content_block_delta", "index": index, "delta": delta})
        events.append({"type": "content_block_stop", "index": index})
    events.append(
        {
            "type": "message_delta",
            "delta": {"stop_reason": message.get("stop_reason")},
            "usage": message.get("usage"),
        }
    )
    events.append({"type": "message_stop"})
    return events
