"""The oracle: what the vendor actually sent, read straight from the recorded bytes.

Checks compare a provider's events with this, not with a scenario's script, so the same
checks hold for replica runs, replayed cassettes and live vendors alike. It is deliberately a
separate, plain reading of the wire, sharing no code with the adapter it judges.
"""

from __future__ import annotations

import contextlib
import json
from dataclasses import dataclass
from typing import Any

from contracts.spec import Answer, ToolCallSpec, UsageSpec
from providers.vendors import VendorProfile


@dataclass(frozen=True)
class Exchange:
    """One request and the response to it, as recorded."""

    request: dict[str, Any] | None
    status: int
    content_type: str
    body: str


def sse_payloads(body: str) -> tuple[list[Any], bool]:
    """The JSON payloads of a recorded SSE body (None for an unparsable one), and whether it
    carried `[DONE]`."""
    payloads: list[Any] = []
    done = False
    for event in body.replace("\r\n", "\n").replace("\r", "\n").split("\n\n"):
        data = [
            line[5:].removeprefix(" ") for line in event.split("\n") if line.startswith("data:")
        ]
        if data == ["[DONE]"]:
            done = True
        elif data:
            try:
                payloads.append(json.loads("\n".join(data)))
            except ValueError:
                payloads.append(None)  # the provider must raise; readers move on
    return payloads, done


class _Reading:
    def __init__(self, profile: VendorProfile) -> None:
        self.reasoning_fields = profile.wire.reasoning_fields
        self.text: list[str] = []
        self.thinking: list[str] = []
        self.calls: dict[int, dict[str, Any]] = {}
        self.finish: str | None = None
        self.usage: dict[str, Any] | None = None

    def message(self, message: dict[str, Any]) -> None:
        for name in self.reasoning_fields:
            if message.get(name):
                self.thinking.append(message[name])
                break
        content = message.get("content")
        if isinstance(content, str):
            self.text.append(content)
        elif isinstance(content, list):
            for part in content:
                if part.get("type") == "text":
                    self.text.append(part.get("text") or "")
                elif part.get("type") == "thinking":
                    self.thinking.extend(p.get("text") or "" for p in part.get("thinking") or [])
        for fragment in message.get("tool_calls") or []:
            self.tool_fragment(fragment)

    def tool_fragment(self, fragment: dict[str, Any]) -> None:
        """Calls keyed by index; no index: a named fragment starts a call, others continue
        the last; an index reused under another id is another call; empty ones carry none."""
        function = fragment.get("function") or {}
        call_id = fragment.get("id") or ""
        if not (call_id or function.get("name") or function.get("arguments")):
            return
        index = fragment.get("index")
        if isinstance(index, int):
            known = self.calls.get(index)
            if known and known["id"] and call_id and known["id"] != call_id:
                index = max(self.calls) + 1
        else:
            named = call_id or function.get("name")
            index = len(self.calls) if named or not self.calls else max(self.calls)
        call = self.calls.setdefault(index, {"id": "", "name": "", "arguments": ""})
        call["id"] = call["id"] or fragment.get("id") or ""
        call["name"] = call["name"] or function.get("name") or ""
        call["arguments"] += function.get("arguments") or ""

    def chunk(self, payload: Any) -> None:
        if not isinstance(payload, dict) or payload.get("error"):
            return
        if payload.get("usage"):
            self.usage = payload["usage"]
        for choice in payload.get("choices") or []:
            self.message(choice.get("delta") or choice.get("message") or {})
            self.finish = choice.get("finish_reason") or self.finish

    def answer(self) -> Answer:
        usage: UsageSpec | str = "none"
        if self.usage:
            usage = UsageSpec(
                prompt=self.usage.get("prompt_tokens") or 0,
                completion=self.usage.get("completion_tokens") or 0,
            )
        return Answer(
            text=("".join(self.text),),
            thinking=("".join(self.thinking),),
            tool_calls=tuple(
                ToolCallSpec(id=c["id"], name=c["name"], arguments=(c["arguments"],))
                for _, c in sorted(self.calls.items())
            ),
            finish=self.finish,
            usage=usage,  # type: ignore[arg-type]
            truncate=self.finish is None,
        )


def observed_answer(exchange: Exchange, profile: VendorProfile) -> Answer | None:
    """What the vendor answered in `exchange`; None for an HTTP error."""
    if exchange.status >= 400:
        return None
    reading = _Reading(profile)
    if "event-stream" in exchange.content_type:
        for payload in sse_payloads(exchange.body)[0]:
            reading.chunk(payload)
    else:
        with contextlib.suppress(ValueError):  # an unparsable body: nothing was answered
            reading.chunk(json.loads(exchange.body))
    return reading.answer()
