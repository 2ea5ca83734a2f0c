"""Answers that never end, through real loopback servers (and the real CLI where a user meets
them): each ends in its typed error, or its one-line refusal, with peak memory a few times the
documented bound that stopped it. The server stops after `TOTAL` bytes, so without the bound
a run still ends, and its peak shows what it kept."""

from __future__ import annotations

import json
import tracemalloc
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import httpx2
import pytest
from endless import EndlessServer
from support import run_cli

from providers import CompletionRequest, MalformedResponseError, UserMessage, from_vendor

#: The bound each test sets, and what the server would send without one.
CAP = 1024 * 1024
TOTAL = 48 * CAP
#: What a bounded run may hold at its peak: the bound, a copy or two of it on the way (the
#: provider's unfinished line beside the recorder's copy, a read in flight), and the run's
#: own state. An unbounded run holds at least TOTAL.
PEAK = 8 * CAP
REQUEST = CompletionRequest(messages=(UserMessage(content="hi"),), max_tokens=16)
_T = TypeVar("_T")


def _peak(run: Callable[[], _T]) -> tuple[_T, int]:
    """What `run` returned and the most memory Python held at once while it ran."""
    tracemalloc.start()
    try:
        result = run()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return result, peak


async def _apeak(run: Callable[[], Awaitable[_T]]) -> tuple[_T | Exception, int]:
    tracemalloc.start()
    try:
        try:
            result: _T | Exception = await run()
        except Exception as exc:
            result = exc
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return result, peak


def _sse_line(total: int) -> EndlessServer:
    """One SSE event whose data line goes on for `total` bytes."""
    return EndlessServer(
        content_type="text/event-stream", prefix=b'data: {"choices": [{"delta": "', total=total
    )


def _cli_peaks(
    capsys: pytest.CaptureFixture[str], command: Callable[[str, str], list[str]]
) -> tuple[tuple[int, str, str], int]:
    """The CLI's result against an endless line, and by how much its peak memory exceeds the
    same command's against a short line (run first: imports and caches are not the answer's).
    `command` builds the arguments from the base URL and a name for what the run writes."""
    with _sse_line(1024) as short:
        _, baseline = _peak(lambda: run_cli(capsys, *command(short.base_url, "short")))
    with _sse_line(TOTAL) as endless:
        result, peak = _peak(lambda: run_cli(capsys, *command(endless.base_url, "endless")))
        assert endless.requests > 0
    return result, peak - baseline


def _refused_at_the_recording_cap(code: int, err: str) -> None:
    assert code == 2, err
    assert "Traceback" not in err
    assert f"passed the recording cap of {CAP} bytes" in err
    assert "--max-recorded-bytes" in err


def test_record_stops_an_endless_sse_line_at_the_recording_cap(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    def record(url: str, name: str) -> list[str]:
        return [
            *("record", "--vendor", "vllm", "--scenario", "text_basic", "--no-key"),
            *("--base-url", url, "--cassettes", str(tmp_path / name)),
            *("--max-recorded-bytes", str(CAP)),
        ]

    (code, _, err), extra = _cli_peaks(capsys, record)
    _refused_at_the_recording_cap(code, err)
    assert len(err.splitlines()) == 1, err
    assert not list((tmp_path / "endless").rglob("*.yaml")), "nothing is kept from a cut answer"
    assert extra < PEAK, f"{extra / CAP:.1f} MiB over a short answer's peak"


def test_live_certify_stops_an_endless_sse_line_at_the_recording_cap(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    def certify(url: str, name: str) -> list[str]:
        return [
            *("certify", "--base-url", url, "--model", "m"),
            *("--max-recorded-bytes", str(CAP), "--out", str(tmp_path / f"{name}.json")),
        ]

    (code, _, err), extra = _cli_peaks(capsys, certify)
    _refused_at_the_recording_cap(code, err)
    assert extra < PEAK, f"{extra / CAP:.1f} MiB over a short answer's peak"


@pytest.mark.parametrize("client", ["built", "given"])
@pytest.mark.parametrize("vendor", ["openai", "anthropic", "openai_responses"])
async def test_complete_stops_an_endless_json_body_at_max_response_bytes(
    vendor: str, client: str
) -> None:
    """On the provider's own HTTP client and on one the caller gives (which the provider does
    not change): complete() reads the body itself, bounded."""
    given = {"http_client": httpx2.AsyncClient()} if client == "given" else {}
    with EndlessServer(
        content_type="application/json", prefix=b'{"id": "x", "content": "', total=TOTAL
    ) as server:
        provider = from_vendor(
            vendor, api_key="k" * 20, base_url=server.base_url, max_response_bytes=CAP, **given
        )
        error, peak = await _apeak(lambda: provider.complete(REQUEST))
    assert isinstance(error, MalformedResponseError), error
    assert f"larger than max_response_bytes={CAP}" in str(error)
    assert peak < PEAK, f"peak {peak / CAP:.1f} MiB"


@pytest.mark.parametrize("path", ["complete", "stream"])
@pytest.mark.parametrize("vendor", ["openai", "anthropic", "openai_responses"])
async def test_an_endless_error_body_stops_at_max_response_bytes(vendor: str, path: str) -> None:
    """The SDK reads an error body whole itself; on the client the provider builds, the body
    is bounded all the same."""
    with EndlessServer(
        content_type="application/json",
        prefix=b'{"error": {"message": "',
        total=TOTAL,
        status="500 Internal Server Error",
    ) as server:
        provider = from_vendor(
            vendor,
            api_key="k" * 20,
            base_url=server.base_url,
            max_response_bytes=CAP,
            max_retries=0,
        )

        async def call() -> object:
            if path == "complete":
                return await provider.complete(REQUEST)
            return [event async for event in provider.stream(REQUEST)]

        error, peak = await _apeak(call)
    assert isinstance(error, MalformedResponseError), error
    assert f"larger than max_response_bytes={CAP}" in str(error)
    assert peak < PEAK, f"peak {peak / CAP:.1f} MiB"


def _tool_fragment(arguments: str) -> bytes:
    delta = {"tool_calls": [{"index": 0, "function": {"arguments": arguments}}]}
    return f"data: {json.dumps({'choices': [{'index': 0, 'delta': delta}]})}\n\n".encode()


#: Fragments are few characters each: held one object apiece they would cost many times
#: their characters. A smaller bound keeps the event count (and the test) short.
HELD_CAP = 128 * 1024


async def test_small_tool_argument_fragments_stop_at_max_held_chars() -> None:
    start: dict[str, Any] = {
        "tool_calls": [
            {"index": 0, "id": "c1", "type": "function", "function": {"name": "f", "arguments": ""}}
        ]
    }
    prefix = f"data: {json.dumps({'choices': [{'index': 0, 'delta': start}]})}\n\n".encode()

    async def drained(total: int) -> tuple[int | Exception, int]:
        with EndlessServer(
            content_type="text/event-stream",
            prefix=prefix,
            filler=_tool_fragment('"abc'),
            total=total,
        ) as server:
            provider = from_vendor(
                "openai", api_key="k" * 20, base_url=server.base_url, max_held_chars=HELD_CAP
            )

            async def drain() -> int:
                count = 0  # events are counted, not kept: a caller streams to let them go
                async for _ in provider.stream(REQUEST):
                    count += 1
                return count

            return await _apeak(drain)

    # A short stream first: what a first request costs (the SDK's lazy set-up) is not held.
    _, baseline = await drained(4096)
    error, peak = await drained(TOTAL)
    assert isinstance(error, MalformedResponseError), error
    assert f"max_held_chars={HELD_CAP}" in str(error)
    extra = peak - baseline
    assert extra < 4 * HELD_CAP, f"{extra / HELD_CAP:.1f} times max_held_chars over a short stream"
