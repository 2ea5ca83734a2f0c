"""The Responses event reader: one SSE event's JSON in, assembler calls out.

    response.created  (response.output_item.added  deltas*  response.output_item.done)*
    response.completed | response.incomplete | response.failed     (error anywhere)

Output items are numbered by `output_index` and streamed one after another. Text comes from
`response.output_text.delta` (and a refusal's words from `response.refusal.delta`); reasoning
from `response.reasoning_summary_text.delta` or `response.reasoning_text.delta`; a function
call opens at its `output_item.added` (call id and name), grows with
`response.function_call_arguments.delta` and closes at its `output_item.done`, whose
arguments stand in when no delta carried any. A reasoning item's `output_item.done` closes the
reasoning block with the item itself (id, summary, encrypted content), kept to be sent back.

The protocol has no finish reason: `response.completed` ends the answer as `completed` (a
tool turn when calls were made), `response.incomplete` as its `incomplete_details.reason`
(`max_output_tokens`, `content_filter`), both with usage; `response.failed` and `error` raise.
`response_events` turns a non-streamed Response into the same events, so `complete()` reads
through this reader too.
"""

from __future__ import annotations

from typing import Any

from providers.error_mapping import ErrorMapper
from providers.streaming import BlockAssembler, BlockKind, ChunkReader, WireJson
from providers.types import StreamEvent, Usage
from providers.vendors import VendorProfile

#: Text-bearing deltas and the kind of block each feeds.
_TEXT_DELTAS: dict[str, BlockKind] = {
    "response.output_text.delta": "text",
    "response.refusal.delta": "text",
    "response.reasoning_summary_text.delta": "thinking",
    "response.reasoning_text.delta": "thinking",
}
#: The item fields that make a reasoning item whole again when sent back.
_REASONING_FIELDS = ("type", "id", "summary", "content", "encrypted_content")


class ResponsesEventReader(ChunkReader):
    """Stateful: one instance per response. `feed` each event's data, then `finish` once."""

    def __init__(
        self, profile: VendorProfile, errors: ErrorMapper, assembler: BlockAssembler
    ) -> None:
        super().__init__(profile, errors, assembler)
        #: output_index -> whether argument deltas arrived, for each function call item.
        self._calls: dict[int, bool] = {}

    def feed(self, event: Any) -> list[StreamEvent]:
        """The events this one completes; `error` and `response.failed` raise."""
        if type(event) is not dict:
            raise self._json.malformed("the event", "an object", event)
        kind = event.get("type")
        # The usual events first, each field's usual type inline: one runs for most events.
        if kind == "response.function_call_arguments.delta":
            index = event.get("output_index")
            if type(index) is not int:
                index = self._output_index(event, kind)
            if index not in self._calls:
                raise self._json.malformed(f"{kind}.output_index", "a function_call item", index)
            delta = event.get("delta")
            if type(delta) is not str:
                delta = self._json.optional_string(event, "delta", f"{kind}.delta")
            if delta:
                self._calls[index] = True
            return self.assembler.more_arguments(index, delta)
        if type(kind) is not str:
            kind = self._json.optional_string(event, "type", "type")
        block = _TEXT_DELTAS.get(kind)
        if block is not None:
            text = event.get("delta")
            if type(text) is not str:
                text = self._json.optional_string(event, "delta", f"{kind}.delta")
            return self.assembler.more_text(block, text)
        if kind == "response.output_item.added":
            self._item_added(event)
        elif kind == "response.output_item.done":
            self._item_done(event)
        elif kind in ("response.completed", "response.incomplete"):
            self._end(event, kind)
        elif kind == "response.failed":
            response = self._json.optional_object(event, "response", "response.failed.response")
            error = self._json.optional_object(response, "error", "response.failed.response.error")
            raise self._errors.from_stream_payload({"error": error or {"message": "failed"}})
        elif kind == "error":
            raise self._errors.from_stream_payload(event)
        # response.created, in_progress, content parts, *.done, annotations: nothing new to read
        return self.assembler.take()

    # -- events -------------------------------------------------------------------------------

    def _item(self, event: dict[str, Any], kind: str) -> tuple[int, dict[str, Any], str]:
        # Each field's usual type inline (twice per tool call): the path is spelled only for
        # the accessor that names any other.
        item = event.get("item")
        if type(item) is not dict:
            item = self._json.optional_object(event, "item", f"{kind}.item")
        index = event.get("output_index")
        if type(index) is not int:
            index = self._output_index(event, kind)
        item_type = item.get("type")
        if type(item_type) is not str:
            item_type = self._json.optional_string(item, "type", f"{kind}.item.type")
        return index, item, item_type

    def _item_added(self, event: dict[str, Any]) -> None:
        kind = "response.output_item.added"
        index, item, item_type = self._item(event, kind)
        if item_type == "function_call":
            self._calls[index] = False
            call_id, name = item.get("call_id"), item.get("name")
            if type(call_id) is not str:
                call_id = self._json.optional_string(item, "call_id", f"{kind}.item.call_id")
            if type(name) is not str:
                name = self._json.optional_string(item, "name", f"{kind}.item.name")
            self.assembler.tool_fragment(index, call_id, name, "")

    def _item_done(self, event: dict[str, Any]) -> None:
        kind = "response.output_item.done"
        index, item, item_type = self._item(event, kind)
        if item_type == "function_call":
            if index not in self._calls:  # a server that announces a call only when done
                self._item_added(event)
            if not self._calls[index]:
                arguments = self._json.optional_string(item, "arguments", f"{kind}.item.arguments")
                self.assembler.tool_fragment(index, "", "", arguments)
            self.assembler.close_tool(index)
        elif item_type == "reasoning":
            record = {key: item[key] for key in _REASONING_FIELDS if item.get(key) is not None}
            self.assembler.thinking_record(record)

    def _end(self, event: dict[str, Any], kind: str) -> None:
        read = self._json
        response = read.optional_object(event, "response", f"{kind}.response")
        self._usage(read.optional_object(response, "usage", f"{kind}.response.usage"), kind)
        if kind == "response.completed":
            self._stop("completed")
            return
        details = read.optional_object(
            response, "incomplete_details", f"{kind}.response.incomplete_details"
        )
        reason = read.optional_string(details, "reason", f"{kind}.incomplete_details.reason")
        self._stop(reason or "incomplete")

    def _usage(self, usage: dict[str, Any], kind: str) -> None:
        if not usage:
            return
        read = self._json
        path = f"{kind}.response.usage"
        cached = read.optional_object(usage, "input_tokens_details", f"{path}.input_tokens_details")
        reasoning = read.optional_object(
            usage, "output_tokens_details", f"{path}.output_tokens_details"
        )
        self.assembler.usage(
            Usage(
                # Both counts already include their details: cached input, reasoning output.
                input_tokens=read.count(usage, "input_tokens", f"{path}.input_tokens"),
                output_tokens=read.count(usage, "output_tokens", f"{path}.output_tokens"),
                cache_read_tokens=read.count(cached, "cached_tokens", f"{path}.cached_tokens"),
                reasoning_tokens=read.count(
                    reasoning, "reasoning_tokens", f"{path}.reasoning_tokens"
                ),
            )
        )

    def _output_index(self, event: dict[str, Any], kind: str) -> int:
        index = self._json.optional_index(event, "output_index", f"{kind}.output_index")
        if index is None:
            raise self._json.malformed(f"{kind}.output_index", "an integer", None)
        return index


def response_events(body: Any, read: WireJson) -> list[dict[str, Any]]:
    """A non-streamed Response as the events a stream of it would carry, in order."""
    response = read.object(body, "the response")
    events: list[dict[str, Any]] = []
    for index, item in enumerate(read.optional_objects(response, "output", "output")):
        events.append({"type": "response.output_item.added", "output_index": index, "item": item})
        item_type = read.optional_string(item, "type", "output[].type")
        if item_type == "message":
            for part in read.optional_objects(item, "content", "output[].content"):
                part_type = read.optional_string(part, "type", "output[].content[].type")
                text_key = "refusal" if part_type == "refusal" else "text"
                delta = read.optional_string(part, text_key, f"output[].content[].{text_key}")
                events.append({"type": f"response.{part_type}.delta", "delta": delta})
        elif item_type == "reasoning":
            for key, delta_type in (
                ("summary", "reasoning_summary_text"),
                ("content", "reasoning_text"),
            ):
                for part in read.optional_objects(item, key, f"output[].{key}"):
                    delta = read.optional_string(part, "text", f"output[].{key}[].text")
                    events.append({"type": f"response.{delta_type}.delta", "delta": delta})
        events.append({"type": "response.output_item.done", "output_index": index, "item": item})
    status = read.optional_string(response, "status", "status")
    if status == "failed":
        events.append({"type": "response.failed", "response": response})
    elif status == "incomplete":
        events.append({"type": "response.incomplete", "response": response})
    elif status == "completed":
        events.append({"type": "response.completed", "response": response})
    return events
