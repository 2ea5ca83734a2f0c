"""A loopback OpenAI-compatible server that is none of the five bundled dialects.

It answers like a tiny model: it echoes the last user message, calls every tool it is
offered, stops at `length` when max_tokens is small, refuses a prompt over its small context
window as OpenAI does, streams `reasoning` deltas, puts usage only inside the finish chunk and
sends no `[DONE]`. `wire` switches its behaviour between
recordings: "v2" moves usage to a separate chunk and adds a field; "no_finish" is a
regression that never sends a finish reason.
"""

from __future__ import annotations

import json
from typing import Any, Literal

from contracts.replica.server import RecordedRequest, ScriptedResponse
from contracts.wire import chunk, sse_event, tool_delta

KEY = "sk-toyvendor-0123456789abcdefghijkl"
MODEL = "toy-1"
#: The toy's context window; a token of this toy is a character. A prompt over it is refused,
#: as a real server refuses one, rather than echoed back a word per chunk.
CONTEXT_WINDOW = 4096


class ToyVendor:
    def __init__(self) -> None:
        self.wire: Literal["v1", "v2", "no_finish"] = "v1"

    def __call__(self, request: RecordedRequest) -> ScriptedResponse:
        if request.headers.get("authorization") != f"Bearer {KEY}":
            return ScriptedResponse.json({"error": {"message": "invalid key", "type": "auth"}}, 401)
        body = request.json()
        if body.get("model") != MODEL:
            return ScriptedResponse.json(
                {"error": {"message": f"model {body.get('model')} not found", "type": "not_found"}},
                404,
            )
        prompt = sum(len(str(message.get("content") or "")) for message in body["messages"])
        if prompt > CONTEXT_WINDOW:
            message = (
                f"This model's maximum context length is {CONTEXT_WINDOW} tokens; "
                f"your messages resulted in {prompt} tokens"
            )
            error = {"message": message, "code": "context_length_exceeded"}
            return ScriptedResponse.json({"error": error}, 400)
        text, calls, finish = self._answer(body)
        usage = {
            "prompt_tokens": 7,
            "completion_tokens": len(text.split()) + len(calls),
            "total_tokens": 7 + len(text.split()) + len(calls),
        }
        if not body.get("stream"):
            message: dict[str, Any] = {
                "role": "assistant",
                "content": text or None,
                "reasoning": "thinking it over",
            }
            if calls:
                message["tool_calls"] = [
                    {
                        "id": f"toy{i}",
                        "type": "function",
                        "function": {"name": name, "arguments": args},
                    }
                    for i, (name, args) in enumerate(calls)
                ]
            return ScriptedResponse.json(
                {
                    "object": "chat.completion",
                    "usage": usage,
                    "choices": [{"index": 0, "message": message, "finish_reason": finish}],
                }
            )
        return ScriptedResponse.sse(self._stream(text, calls, finish, usage))

    @staticmethod
    def _answer(body: dict[str, Any]) -> tuple[str, list[tuple[str, str]], str]:
        tools = [tool["function"]["name"] for tool in body.get("tools") or []]
        choice = body.get("tool_choice")
        if isinstance(choice, dict):  # a named tool: only that one
            tools = [name for name in tools if name == choice["function"]["name"]]
        if tools and choice != "none":
            return "", [(name, json.dumps({"city": "Paris"})) for name in tools], "tool_calls"
        wanted = body.get("response_format") or {}
        if wanted.get("type") in ("json_object", "json_schema"):
            schema = (wanted.get("json_schema") or {}).get("schema") or {}
            samples = {"string": "Paris", "number": 21, "integer": 21, "boolean": True}
            properties = schema.get("properties") or {"city": {"type": "string"}}
            value = {name: samples.get(spec.get("type")) for name, spec in properties.items()}
            return json.dumps(value), [], "stop"
        last = next(m["content"] for m in reversed(body["messages"]) if m["role"] == "user")
        text = f"Echo: {last}"
        limit = body.get("max_tokens") or body.get("max_completion_tokens")
        # A token of this toy is a character, so the suite's smallest cap (16) still cuts.
        if limit is not None and limit < len(text):
            return text[:limit], [], "length"
        return text, [], "stop"

    def _stream(
        self, text: str, calls: list[tuple[str, str]], finish: str, usage: dict[str, int]
    ) -> list[bytes]:
        chunks = [chunk({"role": "assistant", "reasoning": "thinking it over"})]
        words = text.split(" ")
        chunks.extend(
            chunk({"content": w if i == 0 else f" {w}"}) for i, w in enumerate(words) if w
        )
        for i, (name, args) in enumerate(calls):
            chunks.append(
                chunk(
                    {
                        "tool_calls": [
                            tool_delta(i, call_id=f"toy{i}", name=name, arguments=args[:5])
                        ]
                    }
                )
            )
            chunks.append(chunk({"tool_calls": [tool_delta(i, arguments=args[5:])]}))
        if self.wire == "no_finish":
            return [sse_event(json.dumps(c)) for c in chunks]
        if self.wire == "v2":
            for item in chunks:
                item["service_tier"] = "default"
            chunks += [chunk(finish=finish), chunk(usage=usage, choices=False)]
        else:
            chunks.append(chunk(finish=finish, usage=usage))
        return [sse_event(json.dumps(c)) for c in chunks]
