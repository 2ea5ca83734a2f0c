"""Helpers for the project's own tests: a scripted vendor behind a real httpx2 transport."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, field
from typing import Any

import httpx2
import pytest

from contracts.cli import main
from contracts.grammar import violations
from contracts.transport import PieceStream
from contracts.wire import sse_body
from providers import (
    CompletionRequest,
    LlmProvider,
    OpenAiCompatibleProvider,
    StreamEvent,
    UserMessage,
    VendorProfile,
    available_vendors,
    from_vendor,
    load_profile,
)

#: Vendors speaking OpenAI Chat Completions: the chunk strategies and the replica serve these.
OPENAI_CHAT_VENDORS = [v for v in available_vendors() if load_profile(v).protocol == "openai_chat"]

#: Shaped like a real key so that scrubbing is exercised; never valid anywhere.
FAKE_KEY = "sk-proj-FAKEtestKEY0123456789abcdefghij"


@dataclass
class FakeVendor:
    """Answers each request with the next scripted response and keeps what was sent."""

    responses: list[httpx2.Response | Exception] = field(default_factory=list)
    requests: list[httpx2.Request] = field(default_factory=list)
    streams: list[PieceStream] = field(default_factory=list)

    def _handle(self, request: httpx2.Request) -> httpx2.Response:
        self.requests.append(request)
        if not self.responses:
            raise AssertionError(f"unexpected request {request.method} {request.url}")
        response = self.responses.pop(0)
        if isinstance(response, Exception):
            raise response
        return response

    def client(self) -> httpx2.AsyncClient:
        """An HTTP client whose requests this vendor answers."""
        return httpx2.AsyncClient(transport=httpx2.MockTransport(self._handle))

    def provider(self, vendor: str = "openai", **overrides: Any) -> OpenAiCompatibleProvider:
        return OpenAiCompatibleProvider.from_vendor(vendor, **self._settings(overrides))

    def any_provider(self, vendor: str, **overrides: Any) -> LlmProvider:
        """The provider of `vendor`'s own protocol, sending here."""
        return from_vendor(vendor, **self._settings(overrides))

    def _settings(self, overrides: dict[str, Any]) -> dict[str, Any]:
        return {"max_retries": 0, "api_key": FAKE_KEY, "http_client": self.client(), **overrides}

    def sse(
        self,
        chunks: Iterable[dict[str, Any] | str],
        *,
        done: bool = True,
        pieces: list[bytes] | None = None,
        fail_after: int | None = None,
        headers: dict[str, str] | None = None,
    ) -> PieceStream:
        return self.sse_bytes(
            sse_body(chunks, done=done), pieces=pieces, fail_after=fail_after, headers=headers
        )

    def sse_bytes(
        self,
        body: bytes,
        *,
        pieces: list[bytes] | None = None,
        fail_after: int | None = None,
        headers: dict[str, str] | None = None,
    ) -> PieceStream:
        """An event-stream response of these bytes (sent as `pieces` when given)."""
        stream = PieceStream(pieces if pieces is not None else [body], fail_after=fail_after)
        self.streams.append(stream)
        self.responses.append(
            httpx2.Response(
                200,
                headers={"content-type": "text/event-stream", **(headers or {})},
                stream=stream,
            )
        )
        return stream

    def reply(self, payload: Any, status: int = 200, headers: dict[str, str] | None = None) -> None:
        content = payload.encode() if isinstance(payload, str) else json.dumps(payload).encode()
        kind = "text/plain" if isinstance(payload, str) else "application/json"
        self.responses.append(
            httpx2.Response(
                status, headers={"content-type": kind, **(headers or {})}, content=content
            )
        )

    def sent_json(self, number: int = -1) -> Any:
        return json.loads(self.requests[number].content)


def ask(text: str = "hi", **fields: Any) -> CompletionRequest:
    return CompletionRequest(messages=(UserMessage(content=text),), **fields)


async def collect(stream: AsyncIterator[StreamEvent]) -> list[StreamEvent]:
    return [event async for event in stream]


async def collect_until_error(
    stream: AsyncIterator[StreamEvent],
) -> tuple[list[StreamEvent], Exception | None]:
    events: list[StreamEvent] = []
    try:
        async for event in stream:
            events.append(event)
    except Exception as exc:
        return events, exc
    return events, None


def assert_grammar(events: list[StreamEvent], *, raised: bool = False) -> None:
    found = violations(events, raised=raised)
    assert not found, "\n".join(map(str, found))


async def run(provider: LlmProvider, request: CompletionRequest, path: str) -> list[StreamEvent]:
    """Call `complete` or drain `stream`: the two paths must fail the same way."""
    if path == "complete":
        await provider.complete(request)
        return []
    return await collect(provider.stream(request))


def carries_reasoning(profile: VendorProfile) -> bool:
    """Whether the vendor's wire has a place for reasoning: a Chat vendor needs a reasoning
    field; Anthropic Messages has thinking blocks."""
    return profile.protocol != "openai_chat" or bool(profile.wire.reasoning_fields)


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """`llm-contracts ARGV` in process: exit code, stdout, stderr."""
    try:
        code = main(list(argv))
    except SystemExit as exit_info:
        code = int(exit_info.code or 0)
    captured = capsys.readouterr()
    return code, captured.out, captured.err
