"""All performance figures in one run, as ratios measured in this process.

    python bench/run.py            # peers included when the `bench` extra is installed
    python bench/run.py --quick    # fewer repetitions

Every contender reads the same SSE bytes from an in-memory httpx2 transport, one event per
read. Wall times are printed for orientation only; the ratios are the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Awaitable, Callable
from pathlib import Path

import anthropic
import httpx2
import openai

sys.path.insert(0, str(Path(__file__).parent))
from streams import (
    ANTHROPIC_MODEL,
    MODEL,
    messages_text_stream,
    serving,
    text_stream,
    tool_stream,
)

from providers import (
    AnthropicProvider,
    CompletionRequest,
    OpenAiCompatibleProvider,
    UserMessage,
    available_vendors,
)

REPO = Path(__file__).resolve().parent.parent
REQUEST = CompletionRequest(messages=(UserMessage(content="hi"),))
Consumer = Callable[[list[bytes]], Awaitable[None]]


def _client(pieces: list[bytes]) -> httpx2.AsyncClient:
    return httpx2.AsyncClient(transport=serving(pieces))


async def ours(pieces: list[bytes]) -> None:
    provider = OpenAiCompatibleProvider.from_vendor(
        "openai", api_key="k", http_client=_client(pieces)
    )
    async for _ in provider.stream(REQUEST):
        pass


async def raw_sdk(pieces: list[bytes]) -> None:
    client = openai.AsyncOpenAI(api_key="k", http_client=_client(pieces))
    stream = await client.chat.completions.create(
        model=MODEL,
        messages=[{"role": "user", "content": "hi"}],
        stream=True,
        stream_options={"include_usage": True},
    )
    async for _ in stream:
        pass


async def ours_anthropic(pieces: list[bytes]) -> None:
    provider = AnthropicProvider.from_vendor("anthropic", api_key="k", http_client=_client(pieces))
    async for _ in provider.stream(REQUEST):
        pass


async def raw_anthropic_sdk(pieces: list[bytes]) -> None:
    client = anthropic.AsyncAnthropic(api_key="k", http_client=_client(pieces))
    stream = await client.messages.create(
        model=ANTHROPIC_MODEL,
        max_tokens=1024,
        messages=[{"role": "user", "content": "hi"}],
        stream=True,
    )
    async for _ in stream:
        pass


async def pydantic_ai(pieces: list[bytes]) -> None:
    from pydantic_ai.messages import ModelRequest, UserPromptPart
    from pydantic_ai.models import ModelRequestParameters
    from pydantic_ai.models.openai import OpenAIChatModel
    from pydantic_ai.providers.openai import OpenAIProvider

    client = openai.AsyncOpenAI(api_key="k", http_client=_client(pieces))
    model = OpenAIChatModel(MODEL, provider=OpenAIProvider(openai_client=client))
    async with model.request_stream(
        [ModelRequest(parts=[UserPromptPart("hi")])], None, ModelRequestParameters()
    ) as stream:
        async for _ in stream:
            pass


async def langchain_openai(pieces: list[bytes]) -> None:
    from langchain_openai import ChatOpenAI

    chat = ChatOpenAI(
        model=MODEL, api_key="k", http_async_client=_client(pieces), stream_usage=True
    )
    async for _ in chat.astream("hi"):
        pass


def _available(name: str) -> bool:
    try:
        __import__(name)
    except ImportError:
        return False
    return True


def seconds_per_run(consume: Consumer, pieces: list[bytes], repeats: int) -> float:
    """Median of `repeats` timed runs, after one warm-up."""

    async def timed() -> list[float]:
        await consume(pieces)
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            await consume(pieces)
            times.append(time.perf_counter() - start)
        return times

    return statistics.median(asyncio.run(timed()))


def first_event_seconds(repeats: int, pieces: list[bytes]) -> tuple[float, float]:
    """Time to the first content event: ours (first TextDelta) vs the SDK (first chunk)."""

    async def ours_first() -> float:
        provider = OpenAiCompatibleProvider.from_vendor(
            "openai", api_key="k", http_client=_client(pieces)
        )
        start = time.perf_counter()
        async for event in provider.stream(REQUEST):
            if event.type == "text_delta":
                return time.perf_counter() - start
        raise AssertionError("no text")

    async def sdk_first() -> float:
        client = openai.AsyncOpenAI(api_key="k", http_client=_client(pieces))
        start = time.perf_counter()
        stream = await client.chat.completions.create(
            model=MODEL, messages=[{"role": "user", "content": "hi"}], stream=True
        )
        async for item in stream:
            if item.choices and item.choices[0].delta.content:
                return time.perf_counter() - start
        raise AssertionError("no text")

    async def both() -> tuple[float, float]:
        ours_times, sdk_times = [], []
        for _ in range(repeats):
            ours_times.append(await ours_first())
            sdk_times.append(await sdk_first())
        return statistics.median(ours_times), statistics.median(sdk_times)

    return asyncio.run(both())


def peak_bytes(chunks: int) -> int:
    asyncio.run(ours(text_stream(10)))  # imports and first-use caches are not per-stream cost
    pieces = text_stream(chunks)
    tracemalloc.start()
    tracemalloc.reset_peak()
    baseline = tracemalloc.get_traced_memory()[0]
    asyncio.run(ours(pieces))
    peak = tracemalloc.get_traced_memory()[1] - baseline
    tracemalloc.stop()
    return peak


def wall(command: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(
        command, cwd=REPO, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer repetitions")
    parser.add_argument(
        "--skip-suite", action="store_true", help="skip timing the default test command"
    )
    args = parser.parse_args()
    repeats = 5 if args.quick else 15

    print(
        f"machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}, "
        f"openai {openai.__version__}, anthropic {anthropic.__version__}\n"
    )
    contenders: list[tuple[str, Consumer]] = [
        ("llm-contracts stream()", ours),
        ("raw AsyncOpenAI stream", raw_sdk),
    ]
    if _available("pydantic_ai"):
        contenders.append(("pydantic-ai request_stream", pydantic_ai))
    if _available("langchain_openai"):
        contenders.append(("langchain-openai astream", langchain_openai))

    print("1. stream overhead (median of runs; ratio to the raw SDK in this run)")
    ratios = {}
    for label, pieces in (
        ("2,000-chunk text", text_stream(2000)),
        ("50 parallel tool calls", tool_stream(50)),
    ):
        timings = {name: seconds_per_run(consume, pieces, repeats) for name, consume in contenders}
        sdk = timings["raw AsyncOpenAI stream"]
        print(f"   {label} ({len(pieces)} SSE events)")
        for name, seconds in timings.items():
            print(
                f"     {name:<28} {seconds * 1e3:8.2f} ms  {seconds / len(pieces) * 1e6:7.1f} "
                f"us/chunk  {seconds / sdk:6.3f}x SDK"
            )
        ratios[label] = timings["llm-contracts stream()"] / sdk
    if len(contenders) == 2:
        print("   (peers not installed: pip install -e '.[bench]' to include them)")
    pieces = messages_text_stream(2000)
    ours_seconds = seconds_per_run(ours_anthropic, pieces, repeats)
    sdk_seconds = seconds_per_run(raw_anthropic_sdk, pieces, repeats)
    label = "Anthropic 2,000-chunk text"
    anthropic_ratio = ours_seconds / sdk_seconds
    print(f"   {label} ({len(pieces)} SSE events)")
    for name, seconds in (
        ("llm-contracts stream()", ours_seconds),
        ("raw AsyncAnthropic stream", sdk_seconds),
    ):
        print(
            f"     {name:<28} {seconds * 1e3:8.2f} ms  {seconds / len(pieces) * 1e6:7.1f} "
            f"us/chunk  {seconds / sdk_seconds:6.3f}x SDK"
        )

    print("\n2. time to first text event (2,000-chunk stream)")
    first_ours, first_sdk = first_event_seconds(repeats, text_stream(2000))
    print(
        f"   llm-contracts {first_ours * 1e3:.2f} ms, raw SDK {first_sdk * 1e3:.2f} ms: "
        f"{first_ours / first_sdk:.3f}x"
    )

    print("\n3. peak allocation while streaming (tracemalloc; input bytes excluded)")
    peaks = {n: peak_bytes(n) for n in (1_000, 10_000, 100_000)}
    for n, peak in peaks.items():
        print(
            f"   {n:>7,} chunks: {peak / 1024:8.1f} KiB  {peak / peaks[1_000]:5.2f}x the "
            "1k-chunk stream"
        )

    print(f"\n4. whole jobs, wall time on {os.cpu_count()} cores")
    print(
        f"   llm-contracts certify ({len(available_vendors())} vendors, offline): "
        f"{wall([sys.executable, '-m', 'contracts', 'certify']):6.1f} s"
    )
    if not args.skip_suite:
        print(
            f"   default test command (pytest):             "
            f"{wall([sys.executable, '-m', 'pytest', '-q', '-p', 'no:cacheprovider']):6.1f} s"
        )

    verdict = all(ratio <= 0.2 for ratio in ratios.values())
    flat = peaks[100_000] <= 1.5 * peaks[1_000]
    print(
        "\nsummary: stream cost vs raw SDK "
        + ", ".join(f"{k} {v:.3f}x" for k, v in ratios.items())
        + f" (goal <= 0.2: {'met' if verdict else 'NOT met'}); memory "
        + ("flat" if flat else "NOT flat")
        + " from 1k to 100k chunks; Anthropic stream cost vs raw AsyncAnthropic "
        + f"{anthropic_ratio:.3f}x (no goal: that SDK's stream is already light)"
    )


if __name__ == "__main__":
    main()
