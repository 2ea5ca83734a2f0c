"""The OpenAI Chat Completions chunk reader: one chunk dict in, assembler calls out.

It reads what this protocol puts where (choices, delta or message, reasoning fields, typed
content parts, tool calls with or without an index, usage, finish_reason, an in-stream
`error`) through typed accessors, so any other JSON shape at any of these fields is a
`MalformedResponseError` naming the field. The grammar itself is the assembler's job.
"""

from __future__ import annotations

from typing import Any

from providers.error_mapping import ErrorMapper
from providers.streaming import BlockAssembler, ChunkReader
from providers.types import StreamEvent, Usage
from providers.vendors import VendorProfile


class ChatChunkReader(ChunkReader):
    """Stateful: one instance per response. `feed` each chunk, then `finish` once."""

    def __init__(
        self, profile: VendorProfile, errors: ErrorMapper, assembler: BlockAssembler
    ) -> None:
        super().__init__(profile, errors, assembler)
        self._reasoning_fields = profile.wire.reasoning_fields
        self._reasoning_keys = frozenset(self._reasoning_fields)
        # Each usage path as its keys, each key with the path to it (for the error message).
        self._usage_paths = tuple(
            tuple((key, ".".join(keys[:depth])) for depth, key in enumerate(keys, start=1))
            for keys in (path.split(".") for path in profile.wire.usage_paths)
        )
        #: The first key of each usage path: a chunk with none of them carries no usage.
        self._usage_roots = tuple(dict.fromkeys(steps[0][0] for steps in self._usage_paths))
        self._tool_data_fields = profile.wire.tool_call_data_fields
        self._reasoning_in_completion = profile.wire.reasoning_in_completion
        # Tool-call key -> the first id the vendor gave it (empty until one arrives).
        self._tool_ids: dict[int, str] = {}
        self._last_tool_key: int | None = None

    def feed(self, chunk: Any) -> list[StreamEvent]:
        """The events this chunk completes; raises the mapped error for an error payload.

        Each field is type-checked inline where it has the usual shape (this runs for every
        chunk of every stream); any other shape goes through the typed accessor, which
        accepts what the protocol allows and names the field it does not.
        """
        read = self._json
        if type(chunk) is not dict:
            raise read.malformed("the chunk", "an object", chunk)
        if chunk.get("error") or chunk.get("object") == "error":
            # {"error": {...}}, or vLLM's and Mistral's top-level {"object": "error", ...}
            raise self._errors.from_stream_payload(chunk)
        for root in self._usage_roots:
            if chunk.get(root) is not None:
                report = self._usage_report(chunk)
                if report:
                    self.assembler.usage(self._usage(report))
                break
        choices = chunk.get("choices")
        if type(choices) is not list:
            choices = read.optional_objects(chunk, "choices", "choices")
        for choice in choices:
            if type(choice) is not dict:
                raise read.malformed("choices[]", "an object", choice)
            index = choice.get("index")
            if index is not None:
                if type(index) is not int:
                    raise read.malformed("choices[].index", "an integer", index)
                if index != 0:
                    continue  # n > 1 is not requested; a stray choice must not mix in
            delta = choice.get("delta")
            if type(delta) is not dict or not delta:
                delta = read.optional_object(choice, "delta", "choices[].delta") or (
                    read.optional_object(choice, "message", "choices[].message")
                )
            finish = choice.get("finish_reason")
            if finish is None and len(choices) == 1:
                usual = self._usual_delta(delta)
                if usual is not None:
                    return usual
            if delta:
                self._delta(delta)
            if finish is not None:
                if type(finish) is not str:
                    raise read.malformed("choices[].finish_reason", "a string", finish)
                if finish:
                    self._stop(finish)
        return self.assembler.take()

    def check_error_event(self, payload: Any) -> None:
        """An `event: error` (Groq style, over HTTP 200) is an error, whatever its data's shape."""
        body = payload if isinstance(payload, dict) and "error" in payload else {"error": payload}
        raise self._errors.from_stream_payload(body)

    # -- content ------------------------------------------------------------------------------

    def _delta(self, delta: dict[str, Any]) -> None:
        read = self._json
        # Most deltas hold content alone: one look at their keys instead of one per field.
        if not self._reasoning_keys.isdisjoint(delta):
            for name in self._reasoning_fields:
                reasoning = delta.get(name)
                if reasoning is not None:
                    if type(reasoning) is not str:
                        raise read.malformed(f"delta.{name}", "a string", reasoning)
                    if reasoning:
                        self.assembler.text("thinking", reasoning)
                        break
        content = delta.get("content")
        if type(content) is str:
            self.assembler.text("text", content)
        elif content is not None:
            self._content_parts(content)
        fragments = delta.get("tool_calls")
        if fragments is not None:
            if type(fragments) is not list:
                fragments = read.optional_objects(delta, "tool_calls", "delta.tool_calls")
            for fragment in fragments:
                if type(fragment) is not dict:
                    raise read.malformed("delta.tool_calls[]", "an object", fragment)
                self._tool_fragment(fragment)

    def _usual_delta(self, delta: dict[str, Any]) -> list[StreamEvent] | None:
        """The events of the usual delta, made at once: more text alone, or more arguments
        alone for the call the last fragment fed. None for any other delta (reasoning, a new
        call, vendor data, an unusual type), which goes the whole way."""
        if not self._reasoning_keys.isdisjoint(delta):
            return None
        content = delta.get("content")
        if type(content) is str:
            return None if "tool_calls" in delta else self.assembler.more_text("text", content)
        fragments = delta.get("tool_calls")
        if content is not None or type(fragments) is not list or len(fragments) != 1:
            return None
        fragment = fragments[0]
        if self._tool_data_fields or type(fragment) is not dict or "id" in fragment:
            return None
        function = fragment.get("function")
        if type(function) is not dict or "name" in function:
            return None
        arguments, index = function.get("arguments"), fragment.get("index")
        if type(arguments) is not str or type(index) is not int or index != self._last_tool_key:
            return None
        return self.assembler.more_arguments(index, arguments)

    def _content_parts(self, parts: Any) -> None:
        """Typed content parts (Mistral's reasoning models): text and nested thinking parts.

        Parts of other types are skipped: a vendor may add kinds this protocol never carried.
        """
        read = self._json
        if type(parts) is not list:
            raise read.malformed("delta.content", "a string or an array of parts", parts)
        for part in (read.object(item, "delta.content[]") for item in parts):
            kind = read.optional_string(part, "type", "delta.content[].type")
            if kind == "text":
                self.assembler.text(
                    "text", read.optional_string(part, "text", "delta.content[].text")
                )
            elif kind == "thinking":
                for inner in read.optional_objects(part, "thinking", "delta.content[].thinking"):
                    text = read.optional_string(inner, "text", "delta.content[].thinking[].text")
                    self.assembler.text("thinking", text)

    # -- tool calls ---------------------------------------------------------------------------

    def _tool_fragment(self, fragment: dict[str, Any]) -> None:
        read = self._json
        # Inline where a field has its usual type; the accessor otherwise (null, or an error).
        function = fragment.get("function")
        if type(function) is not dict:
            function = read.optional_object(fragment, "function", "delta.tool_calls[].function")
        # A fragment after a call's first names neither its id nor its function.
        call_id = fragment.get("id")
        if call_id is None:
            call_id = ""
        elif type(call_id) is not str:
            call_id = read.optional_string(fragment, "id", "delta.tool_calls[].id")
        name = function.get("name")
        if name is None:
            name = ""
        elif type(name) is not str:
            name = read.optional_string(function, "name", "delta.tool_calls[].function.name")
        arguments = function.get("arguments")
        if type(arguments) is not str:
            arguments = read.optional_string(
                function, "arguments", "delta.tool_calls[].function.arguments"
            )
        data = (
            {field: fragment[field] for field in self._tool_data_fields if field in fragment}
            if self._tool_data_fields
            else None
        )
        if not (call_id or name or arguments):
            # Metadata only (Gemini's standalone thought_signature): it belongs to the last call.
            if data and self._last_tool_key is not None:
                self.assembler.tool_data(self._last_tool_key, data)
            return
        index = fragment.get("index")
        if index is not None and type(index) is not int:
            index = read.optional_index(fragment, "index", "delta.tool_calls[].index")
        if call_id or name or index is None or index != self._last_tool_key:
            key = self._tool_key(index, call_id, starts_call=bool(call_id or name))
            if call_id and not self._tool_ids.get(key):
                self._tool_ids[key] = call_id
        else:  # the next arguments of the call the last fragment fed: the usual case
            key = index
        self.assembler.tool_fragment(key, call_id, name, arguments)
        if data:
            self.assembler.tool_data(key, data)

    def _tool_key(self, index: int | None, call_id: str, *, starts_call: bool) -> int:
        """The vendor's tool index; index-less fragments (Gemini) start a call when named.

        An index reused with a different id is a new call: some gateways number every
        parallel call 0, and joining them would corrupt both.
        """
        known = self._tool_ids
        if index is not None:
            reused = call_id and known.get(index) and known[index] != call_id
            key = max(known) + 1 if reused else index
        elif starts_call or self._last_tool_key is None:
            key = max(known, default=-1) + 1
        else:
            key = self._last_tool_key
        known.setdefault(key, "")
        self._last_tool_key = key
        return key

    # -- usage --------------------------------------------------------------------------------

    def _usage_report(self, chunk: dict[str, Any]) -> dict[str, Any] | None:
        """The first usage object at one of the profile's paths (`x_groq.usage`, ...)."""
        for steps in self._usage_paths:
            report = chunk
            for key, path in steps:
                report = self._json.optional_object(report, key, path)
            if report:
                return report
        return None

    def _usage(self, report: dict[str, Any]) -> Usage:
        """A vendor usage object -> Usage. Missing or null counts read as 0."""
        read = self._json
        prompt = read.optional_object(
            report, "prompt_tokens_details", "usage.prompt_tokens_details"
        )
        completion = read.optional_object(
            report, "completion_tokens_details", "usage.completion_tokens_details"
        )
        reasoning = read.count(
            completion, "reasoning_tokens", "usage.completion_tokens_details.reasoning_tokens"
        )
        output = read.count(report, "completion_tokens", "usage.completion_tokens")
        return Usage(
            input_tokens=read.count(report, "prompt_tokens", "usage.prompt_tokens"),
            output_tokens=output if self._reasoning_in_completion else output + reasoning,
            cache_read_tokens=read.count(
                prompt, "cached_tokens", "usage.prompt_tokens_details.cached_tokens"
            ),
            reasoning_tokens=reasoning,
        )
