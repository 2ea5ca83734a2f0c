"""Every performance goal in one run, each figure printed beside its goal.

    python bench/run.py               # peers included when the `bench` extra is installed
    python bench/run.py --quick       # fewer repetitions
    python bench/run.py --skip-suite  # without timing the default test command

Stream figures are per SSE event over the same bytes for every contender, read from an
in-memory httpx2 transport one event per read, in CPU time of the reading thread (the bytes
are in memory, so a read never waits: time spent running other processes is left out). The
cost of an event is what a long body costs more than a short one of the same shape, divided
by how many more events it has: a response's one-off cost (building the request, an SDK's
setup) is printed beside it rather than spread over its events. Contenders take turns within
each round; each figure is the median over the rounds, and each ratio the median of the
ratios within a round, where the contenders ran back to back (a shared host's speed drifts
between rounds, and a ratio within one round is free of that drift). The floor is what no
SSE client can avoid: httpx2, splitting lines, `jiter` per `data:` line. Whole jobs (certify,
import, the test suite) are wall times, with their CPU seconds beside them (closer to what a
quiet machine gives).
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anthropic
import httpx2
import jiter
import openai

sys.path.insert(0, str(Path(__file__).parent))
from streams import (
    ANTHROPIC_MODEL,
    MODEL,
    messages_text_stream,
    messages_tool_stream,
    responses_text_stream,
    responses_tool_stream,
    serving,
    text_stream,
    tool_stream,
)

from contracts.importer import import_file
from providers import CompletionRequest, UserMessage, available_vendors, from_vendor
from providers.protocols import PROTOCOLS

REPO = Path(__file__).resolve().parent.parent
REQUEST = CompletionRequest(messages=(UserMessage(content="hi"),))
#: One consumer bound to one body: awaiting it reads the whole stream once.
Run = Callable[[], Awaitable[object]]
Contender = Callable[[list[bytes]], Run]


@dataclass
class Goal:
    figure: str
    measured: float
    goal: float
    unit: str = "x"

    @property
    def met(self) -> bool:
        return self.measured <= self.goal


def _client(pieces: list[bytes]) -> httpx2.AsyncClient:
    return httpx2.AsyncClient(transport=serving(pieces))


# -- contenders: each builds its client once, then reads the body per run ----------------------


def _floor(read: Callable[[httpx2.Response], AsyncIterator[bytes]]) -> Contender:
    """Split lines and parse each `data:` line with `jiter`, over the pieces `read` gives."""

    def contender(pieces: list[bytes]) -> Run:
        client = _client(pieces)

        async def run() -> None:
            async with client.stream("POST", "http://bench/v1/stream", json={}) as response:
                pending = b""
                async for data in read(response):
                    lines = (pending + data).split(b"\n")
                    pending = lines.pop()
                    for line in lines:
                        if line.startswith(b"data:"):
                            value = line[5:].strip()
                            if value != b"[DONE]":
                                jiter.from_json(value)

        return run

    return contender


def byte_iterator(response: httpx2.Response) -> AsyncIterator[bytes]:
    """The body as httpx2's users read it: the response's byte iterator."""
    return response.aiter_bytes()


def transport_stream(response: httpx2.Response) -> AsyncIterator[bytes]:
    """The body as `stream()` reads one sent without content-encoding: the transport's."""
    return response.stream.__aiter__()  # type: ignore[union-attr]


#: The floor every goal is measured against: httpx2's response byte iterator, lines, jiter.
floor = _floor(byte_iterator)
#: The same over the transport stream: printed beside, for what that read saves.
transport_floor = _floor(transport_stream)


def ours(vendor: str) -> Contender:
    def contender(pieces: list[bytes]) -> Run:
        provider = from_vendor(vendor, api_key="k", http_client=_client(pieces))

        async def run() -> None:
            async for _ in provider.stream(REQUEST):
                pass

        return run

    return contender


Opener = Callable[[], Awaitable[Any]]


def raw_sdk(open_stream: Callable[[httpx2.AsyncClient], Opener]) -> Contender:
    """An SDK's own typed stream: `open_stream` builds the SDK client over the body's HTTP
    client once and returns the coroutine that opens one stream."""

    def contender(pieces: list[bytes]) -> Run:
        opener = open_stream(_client(pieces))

        async def run() -> None:
            async for _ in await opener():
                pass

        return run

    return contender


def _chat(http: httpx2.AsyncClient) -> Opener:
    client = openai.AsyncOpenAI(api_key="k", http_client=http)
    return lambda: client.chat.completions.create(
        model=MODEL,
        messages=[{"role": "user", "content": "hi"}],
        stream=True,
        stream_options={"include_usage": True},
    )


def _messages(http: httpx2.AsyncClient) -> Opener:
    client = anthropic.AsyncAnthropic(api_key="k", http_client=http)
    return lambda: client.messages.create(
        model=ANTHROPIC_MODEL,
        max_tokens=1024,
        messages=[{"role": "user", "content": "hi"}],
        stream=True,
    )


def _responses(http: httpx2.AsyncClient) -> Opener:
    client = openai.AsyncOpenAI(api_key="k", http_client=http)
    return lambda: client.responses.create(model=MODEL, input="hi", stream=True)


raw_chat, raw_messages, raw_responses = raw_sdk(_chat), raw_sdk(_messages), raw_sdk(_responses)


def pydantic_ai_chat(pieces: list[bytes]) -> Run:
    from pydantic_ai.messages import ModelRequest, UserPromptPart
    from pydantic_ai.models import ModelRequestParameters
    from pydantic_ai.models.openai import OpenAIChatModel
    from pydantic_ai.providers.openai import OpenAIProvider

    client = openai.AsyncOpenAI(api_key="k", http_client=_client(pieces))
    model = OpenAIChatModel(MODEL, provider=OpenAIProvider(openai_client=client))

    async def run() -> None:
        async with model.request_stream(
            [ModelRequest(parts=[UserPromptPart("hi")])], None, ModelRequestParameters()
        ) as stream:
            async for _ in stream:
                pass

    return run


def _available(name: str) -> bool:
    try:
        __import__(name)
    except ImportError:
        return False
    return True


# -- measurements ------------------------------------------------------------------------------


@dataclass
class Cost:
    """What one contender pays, in seconds: per SSE event, and once per response (sending the
    request, the SDK's setup); and its cost per event over the first contender's (the floor's).
    Each is the median over the rounds (a ratio, of the ratios within each round)."""

    event: float
    response: float
    vs_first: float


def per_event(
    contenders: dict[str, Contender], long: list[bytes], short: list[bytes], rounds: int
) -> dict[str, Cost]:
    """Each contender reads a long body and a short one of the same answer's shape; its cost
    of an event in a round is the difference of the two times over the difference of their
    events, so what a response costs once is not spread over however many events the answer
    has (it is reported beside, and time to first event measures it against the raw SDK; for
    an SDK whose events cost a hundred times its response, that figure is within the noise of
    its events and may come out negative).

    Contenders and bodies are interleaved within each round, so the contenders of one round
    run back to back: a ratio to the first contender is taken within each round, then the
    median over rounds. A machine whose speed drifts between rounds moves both sides of such a
    ratio alike; the fastest round of each contender, taken apart, need not come from the same
    moment (on a shared host, repeated runs of unchanged code gave 1.3x-1.8x the floor that
    way, and 1.6x-1.7x as the median of ratios within rounds)."""

    async def measure() -> dict[str, tuple[list[float], list[float]]]:
        runs = {name: (build(long), build(short)) for name, build in contenders.items()}
        for run_long, run_short in runs.values():
            await run_long()  # warm-up: imports and first-use caches are not per-event cost
            await run_short()
        times: dict[str, tuple[list[float], list[float]]] = {name: ([], []) for name in runs}
        for _ in range(rounds):
            for name, pair in runs.items():
                for run, seconds in zip(pair, times[name], strict=True):
                    start = time.thread_time()
                    await run()
                    seconds.append(time.thread_time() - start)
        return times

    extra = len(long) - len(short)
    times = asyncio.run(measure())
    slopes = {
        name: [(took - took_short) / extra for took, took_short in zip(*pair, strict=True)]
        for name, pair in times.items()
    }
    first = next(iter(slopes.values()))
    costs = {}
    for name, slope in slopes.items():
        once = [took - cost * len(short) for took, cost in zip(times[name][1], slope, strict=True)]
        ratios = [
            cost / base if base > 0 else math.inf for cost, base in zip(slope, first, strict=True)
        ]
        costs[name] = Cost(
            statistics.median(slope), statistics.median(once), statistics.median(ratios)
        )
    return costs


def first_event(rounds: int, pieces: list[bytes]) -> tuple[float, float]:
    """Time to the first text: ours (first TextDelta) vs the raw SDK (first chunk with text),
    each from sending the request, alternating; the fastest round of each, in CPU time of the
    thread like the stream figures (the body is in memory: nothing is waited for)."""
    provider = from_vendor("openai", api_key="k", http_client=_client(pieces))
    client = openai.AsyncOpenAI(api_key="k", http_client=_client(pieces))

    async def ours_first() -> float:
        start = time.thread_time()
        async for event in provider.stream(REQUEST):
            if event.type == "text_delta":
                return time.thread_time() - start
        raise AssertionError("no text")

    async def sdk_first() -> float:
        start = time.thread_time()
        stream = await client.chat.completions.create(
            model=MODEL, messages=[{"role": "user", "content": "hi"}], stream=True
        )
        async for item in stream:
            if item.choices and item.choices[0].delta.content:
                return time.thread_time() - start
        raise AssertionError("no text")

    async def both() -> tuple[float, float]:
        await ours_first()
        await sdk_first()
        ours_times, sdk_times = [], []
        for _ in range(rounds):
            ours_times.append(await ours_first())
            sdk_times.append(await sdk_first())
        return min(ours_times), min(sdk_times)

    return asyncio.run(both())


def peak_bytes(chunks: int) -> int:
    asyncio.run(ours("openai")(text_stream(10))())  # first-use caches are not per-stream cost
    run = ours("openai")(text_stream(chunks))
    tracemalloc.start()
    tracemalloc.reset_peak()
    baseline = tracemalloc.get_traced_memory()[0]
    asyncio.run(run())
    peak = tracemalloc.get_traced_memory()[1] - baseline
    tracemalloc.stop()
    return peak


def children_cpu() -> float:
    """CPU seconds used so far by finished subprocesses: less sensitive to a busy machine than
    wall time, printed beside it."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def certify_times() -> tuple[float, float, float]:
    """Wall seconds of `certify` (every bundled vendor, offline), to its first vendor's line,
    and its CPU seconds; the command as a user runs it, its output through a pipe."""
    cpu = children_cpu()
    start = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "contracts", "certify"],
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    assert process.stderr is not None
    first_line = process.stderr.readline()
    first = time.perf_counter() - start
    process.stderr.read()
    if process.wait() != 0 or not first_line:
        raise SystemExit("certify failed: run `llm-contracts certify` to see why")
    return time.perf_counter() - start, first, children_cpu() - cpu


def import_seconds(size: int) -> tuple[float, float, int]:
    """`import` of a raw SSE recording of about `size` bytes (one long Chat answer): wall and
    CPU seconds, and the recording's size."""
    pieces = text_stream(size // 190)
    with tempfile.TemporaryDirectory() as scratch:
        recording = Path(scratch) / "recording.sse"
        recording.write_bytes(b"".join(pieces))
        start, cpu = time.perf_counter(), time.process_time()
        import_file(recording, vendor="openai", root=Path(scratch) / "cassettes", form="sse")
        wall_seconds = time.perf_counter() - start
        return wall_seconds, time.process_time() - cpu, recording.stat().st_size


@dataclass
class Job:
    wall: float
    cpu: float
    passed: bool
    #: The job's last line of output (a test run's summary).
    summary: str


def job(command: list[str]) -> Job:
    """Wall and CPU seconds of a subprocess (CPU of all its workers), whether it succeeded, and
    its last line: a failing suite is timed and said, and its time meets no goal."""
    cpu = children_cpu()
    start = time.perf_counter()
    finished = subprocess.run(
        command, cwd=REPO, check=False, capture_output=True, text=True, errors="replace"
    )
    seconds = time.perf_counter() - start
    last = (finished.stdout.strip().splitlines() or [f"exit code {finished.returncode}"])[-1]
    if finished.returncode != 0:
        (REPO / "bench" / "suite-failure.log").write_text(finished.stdout + finished.stderr)
    return Job(seconds, children_cpu() - cpu, finished.returncode == 0, last)


# -- the run -----------------------------------------------------------------------------------


#: One answer shape of one protocol: its label, its body for a size, the long body's size, the
#: vendor our provider reads it as, and the raw SDK's contender.
StreamCase = tuple[str, Callable[[int], list[bytes]], int, str, Contender]


def stream_cases() -> list[StreamCase]:
    """Text and tool answers of every registered protocol (the short body a tenth of the long)."""
    cases: list[StreamCase] = [
        ("OpenAI Chat text", text_stream, 2000, "openai", raw_chat),
        ("OpenAI Chat tools", tool_stream, 100, "openai", raw_chat),
        ("Anthropic text", messages_text_stream, 2000, "anthropic", raw_messages),
        ("Anthropic tools", messages_tool_stream, 100, "anthropic", raw_messages),
    ]
    if "openai_responses" in PROTOCOLS:
        cases += [
            (
                "OpenAI Responses text",
                responses_text_stream,
                2000,
                "openai_responses",
                raw_responses,
            ),
            (
                "OpenAI Responses tools",
                responses_tool_stream,
                100,
                "openai_responses",
                raw_responses,
            ),
        ]
    return cases


def stream_protocols(rounds: int, peers: bool) -> list[Goal]:
    """Per protocol and answer shape: the floor, ours, the raw SDK (and peers), each over the
    same long and short bodies (the short one a tenth of the answer)."""
    goals = []
    print(
        "1. stream(), per SSE event (median of interleaved rounds, long body minus short; "
        "x floor: median of the ratios within each round)"
    )
    for label, body, size, vendor, raw in stream_cases():
        contenders: dict[str, Contender] = {
            "floor": floor,
            "floor, transport stream": transport_floor,
            "llm-contracts stream()": ours(vendor),
            "raw SDK": raw,
        }
        if peers and vendor == "openai":
            contenders["pydantic-ai"] = pydantic_ai_chat
        long, short = body(size), body(size // 10)
        costs = per_event(contenders, long, short, rounds)
        print(f"   {label} ({len(long)} and {len(short)} events)")
        for name, cost in costs.items():
            print(
                f"     {name:<24} {cost.event * 1e6:7.2f} us  {cost.vs_first:6.2f}x floor"
                f"   once per response {cost.response * 1e6:8.0f} us"
            )
        goals.append(
            Goal(f"stream() {label}, vs floor", costs["llm-contracts stream()"].vs_first, 2)
        )
    return goals


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer repetitions")
    parser.add_argument(
        "--skip-suite", action="store_true", help="skip timing the default test command"
    )
    args = parser.parse_args()
    rounds = 7 if args.quick else 25
    peers = _available("pydantic_ai")
    print(
        f"machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}, "
        f"openai {openai.__version__}, anthropic {anthropic.__version__}"
        + ("" if peers else " (pydantic-ai not installed: pip install -e '.[bench]')")
        + "\n"
    )
    goals = stream_protocols(rounds, peers)

    first_ours, first_sdk = first_event(rounds, text_stream(2000))
    print(
        f"\n2. time to first text event: llm-contracts {first_ours * 1e3:.2f} ms, "
        f"raw SDK {first_sdk * 1e3:.2f} ms"
    )
    goals.append(Goal("time to first event, vs raw SDK", first_ours / first_sdk, 1))

    print("\n3. peak allocation while streaming (tracemalloc; input bytes excluded)")
    peaks = {n: peak_bytes(n) for n in (1_000, 10_000, 100_000)}
    for n, peak in peaks.items():
        print(f"   {n:>7,} events: {peak / 1024:8.1f} KiB  {peak / peaks[1_000]:5.2f}x 1k")
    goals.append(Goal("memory, 100k events vs 1k", peaks[100_000] / peaks[1_000], 1.5))

    print(f"\n4. whole jobs, wall time on {os.cpu_count()} cores")
    total, first, cpu = certify_times()
    print(
        f"   certify, {len(available_vendors())} vendors offline: {total:.1f} s wall "
        f"({cpu:.1f} s CPU), first vendor's line after {first:.1f} s"
    )
    goals.append(Goal("certify every vendor, wall", total, 10, " s"))
    goals.append(Goal("certify, first vendor's line", first, 2, " s"))
    seconds, cpu, size = import_seconds(4 * 1024 * 1024)
    print(
        f"   import of a {size / 2**20:.1f} MiB SSE recording: {seconds:.2f} s wall "
        f"({cpu:.2f} s CPU)"
    )
    goals.append(Goal("import of a 4 MiB recording, wall", seconds, 1, " s"))
    # One process on one core: on a quiet machine its wall time is about its CPU time.
    goals.append(Goal("import of a 4 MiB recording, CPU", cpu, 1, " s"))
    if not args.skip_suite:
        command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-n", "auto"]
        # Its wall time is an upper bound on a busy machine: the load average says how busy.
        load_before = os.getloadavg()[0]
        suite = job(command)
        print(
            f"   default test command (pytest -n auto): {suite.wall:.0f} s wall "
            f"({suite.cpu:.0f} s CPU, load average {load_before:.1f} before, "
            f"{os.getloadavg()[0]:.1f} after): {suite.summary}"
            + ("" if suite.passed else " (FAILED: its output is in bench/suite-failure.log)")
        )
        # A run that did not pass proves nothing about the suite's time.
        goals.append(
            Goal("default test suite, wall", suite.wall if suite.passed else math.inf, 120, " s")
        )

    print("\nsummary")
    for goal in goals:
        print(
            f"   {goal.figure:<46} {goal.measured:8.2f}{goal.unit}  "
            f"goal <= {goal.goal:g}{goal.unit}  {'met' if goal.met else 'NOT met'}"
        )


if __name__ == "__main__":
    main()
