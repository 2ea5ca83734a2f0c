"""Where one SSE event's time goes in `stream()`, per answer shape, beside the floor's.

    python bench/stream_parts.py            # 25 rounds
    python bench/stream_parts.py --quick    #  7 rounds

Every part is measured as `bench/run.py` measures a contender, over the same bodies: the slope
of a long body over a short one, the median of interleaved rounds, in thread CPU time. The parts
are cumulative where they share the read: the body read alone (httpx2: the response's byte
iterator for the floor, the transport stream as `stream()` reads it), then our SSE
decoder on it, then `jiter` as the exchange calls it; the protocol's reader, assembler and
event building run on chunks parsed beforehand; what `stream()` costs beyond all of these is
its loop (the deadline's bookkeeping around each read, handing each event to the caller).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx2
import jiter

sys.path.insert(0, str(Path(__file__).parent))
from run import (
    REQUEST,
    Contender,
    Run,
    _client,
    byte_iterator,
    floor,
    ours,
    per_event,
    stream_cases,
    transport_stream,
)

from providers import from_vendor
from providers.sse import SseDecoder

#: What is done with each piece of the body after it is read.
Step = Callable[[bytes], None]
#: How the body's pieces are read from the response.
Read = Callable[[httpx2.Response], AsyncIterator[bytes]]


def reading(make_step: Callable[[], Step], read: Read = transport_stream) -> Contender:
    """The body read as `stream()` reads it (or by `read`), each piece handed to a fresh
    `make_step()`."""

    def contender(pieces: list[bytes]) -> Run:
        client = _client(pieces)

        async def run() -> None:
            step = make_step()
            async with client.stream("POST", "http://bench/v1/stream", json={}) as response:
                async for data in read(response):
                    step(data)

        return run

    return contender


def nothing() -> Step:
    return lambda _: None


def decoding() -> Step:
    feed = SseDecoder(1 << 25).feed

    def step(data: bytes) -> None:
        for _ in feed(data):
            pass

    return step


def parsing() -> Step:
    feed = SseDecoder(1 << 25).feed

    def step(data: bytes) -> None:
        for payload, _ in feed(data):
            if payload != b"[DONE]":
                jiter.from_json(payload, cache_mode="keys")

    return step


def chunks(pieces: list[bytes]) -> list[Any]:
    decoder = SseDecoder()
    parsed = (payload for piece in pieces for payload, _ in decoder.feed(piece))
    return [jiter.from_json(payload) for payload in parsed if payload != b"[DONE]"]


def reader_only(vendor: str) -> Contender:
    """The protocol's reader, the assembler and the events, on chunks parsed beforehand."""
    provider = from_vendor(vendor, api_key="k")

    def contender(pieces: list[bytes]) -> Run:
        parsed = chunks(pieces)

        async def run() -> None:
            reader = provider._reader(REQUEST)  # type: ignore[attr-defined]
            for chunk in parsed:
                for _ in reader.feed(chunk):
                    pass
            reader.finish()

        return run

    return contender


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer repetitions")
    rounds = 7 if parser.parse_args().quick else 25
    print(
        "per SSE event, us: floor = read (the response's byte iterator) + lines and jiter; "
        "ours = read (the transport stream) + the parts below"
    )
    for label, body, size, vendor, _ in stream_cases():
        contenders: dict[str, Contender] = {
            "floor": floor,
            "floor read": reading(nothing, byte_iterator),
            "read": reading(nothing),
            "decode": reading(decoding),
            "parse": reading(parsing),
            "reader": reader_only(vendor),
            "stream": ours(vendor),
        }
        found = per_event(contenders, body(size), body(size // 10), rounds)
        cost = {name: each.event * 1e6 for name, each in found.items()}
        ratio = found["stream"].vs_first
        print(
            f"   {label:<23} floor {cost['floor']:5.2f} = read {cost['floor read']:4.2f} + lines "
            f"and jiter {cost['floor'] - cost['floor read']:4.2f} | stream() {cost['stream']:5.2f}"
            " = read "
            f"{cost['read']:4.2f} + decoder {cost['decode'] - cost['read']:4.2f} + jiter "
            f"{cost['parse'] - cost['decode']:4.2f} + reader, assembler, events "
            f"{cost['reader']:4.2f} + loop {cost['stream'] - cost['parse'] - cost['reader']:4.2f}"
            f" | {ratio:4.2f}x"
        )


if __name__ == "__main__":
    main()
