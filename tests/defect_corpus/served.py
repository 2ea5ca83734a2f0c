"""Realistic defects of an inference *server*, each modelled on a linked bug report: a
loopback server that answers as vLLM does (`vllm_like.VllmLike`) with one fault added, certified
as a user would, `llm-contracts certify --live --base-url URL`. Our provider reads the bytes
faithfully, so whatever fails is the server's: `clause` is the one clause each must fail."""

from __future__ import annotations

import dataclasses
import json
from typing import Any, ClassVar

from vllm_like import MODEL, VllmLike

from contracts.replica.server import RecordedRequest, ScriptedResponse
from contracts.wire import chunk, sse_event


class ServedDefect(VllmLike):
    """A vLLM-like server with one fault; `api_key` is the key it is started with (None:
    keyless, certified with --no-key)."""

    clause: ClassVar[str]
    api_key_started_with: ClassVar[str | None] = None

    def __init__(self) -> None:
        super().__init__(api_key=self.api_key_started_with)


def _with_body(request: RecordedRequest, **changes: Any) -> RecordedRequest:
    """The request with `changes` made to its JSON body."""
    body = {**request.json(), **changes}
    return dataclasses.replace(request, body=json.dumps(body).encode())


def _oversized(request: RecordedRequest) -> bool:
    """Whether the prompt is over the window vLLM-like serves (its context-length case)."""
    refused = VllmLike.__call__(VllmLike(), request)
    return refused.status == 400 and b"maximum context length" in b"".join(refused.pieces)


class GeneratesPastTheTokenCap(ServedDefect):
    """`max_tokens` is not passed to the sampler, so the answer runs past it and still finishes
    `stop`. From https://github.com/vllm-project/vllm-omni/issues/445."""

    clause = "stop.max-tokens"

    def __call__(self, request: RecordedRequest) -> ScriptedResponse:
        cap = (request.json() or {}).get("max_tokens")
        if not cap:
            return super().__call__(request)
        return super().__call__(_with_body(request, max_tokens=cap * 3))


class EmptyFinishReasonOnEveryChunk(ServedDefect):
    """Every chunk says `"finish_reason": ""` and no chunk carries a real one. From
    https://github.com/ollama/ollama/issues/4357."""

    clause = "stop.mapping"

    def __call__(self, request: RecordedRequest) -> ScriptedResponse:
        answer = super().__call__(request)
        if answer.headers.get("content-type") != "text/event-stream":
            return answer
        return dataclasses.replace(answer, pieces=tuple(map(_without_finish, answer.pieces)))


def _without_finish(piece: bytes) -> bytes:
    """The SSE event with every choice's finish reason blanked."""
    data = piece.decode().removeprefix("data: ").strip()
    if not data.startswith("{"):
        return piece
    parsed = json.loads(data)
    for choice in parsed.get("choices") or []:
        choice["finish_reason"] = ""
        choice.pop("stop_reason", None)
    return sse_event(json.dumps(parsed))


class UnknownModelIsAServerError(ServedDefect):
    """A model name it does not serve gets 500 Internal Server Error. From
    https://github.com/open-webui/open-webui/issues/12546."""

    clause = "errors.model-not-found"

    def __call__(self, request: RecordedRequest) -> ScriptedResponse:
        if (request.json() or {}).get("model") != MODEL:
            return ScriptedResponse.json({"detail": "Internal Server Error"}, 500)
        return super().__call__(request)


class UnknownModelAnsweredByTheLoadedOne(ServedDefect):
    """A model name it does not serve is answered by whatever model is loaded, under the name
    asked for. From https://github.com/ddalcu/mlx-serve/issues/257."""

    clause = "errors.model-not-found"

    def __call__(self, request: RecordedRequest) -> ScriptedResponse:
        return super().__call__(_with_body(request, model=MODEL))


class OversizedPromptIsAServerError(ServedDefect):
    """A prompt over the context window is answered 500 `server_error`. From
    https://github.com/ardanlabs/kronk/issues/861."""

    clause = "errors.context-length"

    def __call__(self, request: RecordedRequest) -> ScriptedResponse:
        if _oversized(request):
            message = "unable to process request: the context window is full"
            return ScriptedResponse.json(
                {"error": {"message": message, "type": "server_error", "code": "internal"}}, 500
            )
        return super().__call__(request)


class OversizedPromptAnsweredByAnEmptyStream(ServedDefect):
    """A prompt over the context window gets 200 and a stream with no content at all. From
    https://github.com/lmstudio-ai/lmstudio-bug-tracker/issues/2339."""

    clause = "errors.context-length"

    def __call__(self, request: RecordedRequest) -> ScriptedResponse:
        if not _oversized(request):
            return super().__call__(request)
        usage = {"prompt_tokens": 4096, "completion_tokens": 0, "total_tokens": 4096}
        if not request.json().get("stream"):
            message = {"role": "assistant", "content": ""}
            choice = {"index": 0, "message": message, "finish_reason": "stop"}
            return ScriptedResponse.json({"model": MODEL, "choices": [choice], "usage": usage})
        chunks = [chunk({"role": "assistant", "content": ""}), chunk({}, finish="stop")]
        chunks.append(chunk(choices=False, usage=usage))
        events = [sse_event(json.dumps(c)) for c in chunks]
        return ScriptedResponse.sse([*events, sse_event("[DONE]")])


class RequiredToolChoiceNotEnforced(ServedDefect):
    """`tool_choice: required` is accepted and ignored: the model answers in words. From
    https://github.com/Blaizzy/mlx-vlm/issues/1045."""

    clause = "tools.choice"

    def __call__(self, request: RecordedRequest) -> ScriptedResponse:
        if (request.json() or {}).get("tool_choice") == "required":
            return super().__call__(_with_body(request, tool_choice="auto"))
        return super().__call__(request)


class ToolCalledUnderToolChoiceNone(ServedDefect):
    """`tool_choice: none` does not keep the tool parser from emitting a call. From
    https://github.com/vllm-project/vllm/issues/54808."""

    clause = "tools.choice"

    def __call__(self, request: RecordedRequest) -> ScriptedResponse:
        if (request.json() or {}).get("tool_choice") == "none":
            return super().__call__(_with_body(request, tool_choice="required"))
        return super().__call__(request)


SERVED_DEFECTS: list[type[ServedDefect]] = [
    GeneratesPastTheTokenCap,
    EmptyFinishReasonOnEveryChunk,
    UnknownModelIsAServerError,
    UnknownModelAnsweredByTheLoadedOne,
    OversizedPromptIsAServerError,
    OversizedPromptAnsweredByAnEmptyStream,
    RequiredToolChoiceNotEnforced,
    ToolCalledUnderToolChoiceNone,
]
