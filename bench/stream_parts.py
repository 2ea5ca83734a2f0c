"""Where one SSE event's time goes in `stream()`, per answer shape, beside the floor's.

    python bench/stream_parts.py            # 15 rounds
    python bench/stream_parts.py --quick    # 5 rounds

Every part is measured as `bench/run.py` measures a contender, over the same bodies: the slope
of a long body over a short one, fastest of interleaved rounds, in thread CPU time. The parts
are cumulative where they share the read: the body read alone (httpx2, in both), then our SSE
decoder on it, then `jiter` as the exchange calls it; the protocol's reader, assembler and
event building run on chunks parsed beforehand; what `stream()` costs beyond all of these is
its loop (the deadline's bookkeeping around each read, handing each event to the caller).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jiter

sys.path.insert(0, str(Path(__file__).parent))
from run import REQUEST, Contender, Run, _client, floor, ours, per_event, stream_cases

from providers import from_vendor
from providers.sse import SseDecoder

#: What is done with each piece of the body after it is read.
Step = Callable[[bytes], None]


def reading(make_step: Callable[[], Step]) -> Contender:
    """The body read as the floor reads it, each piece handed to a fresh `make_step()`."""

    def contender(pieces: list[bytes]) -> Run:
        client = _client(pieces)

        async def run() -> None:
            step = make_step()
            async with client.stream("POST", "http://bench/v1/stream", json={}) as response:
                async for data in response.aiter_bytes():
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
    rounds = 5 if parser.parse_args().quick else 15
    print("per SSE event, us: floor = read + lines and jiter; ours = read + the parts below")
    for label, body, size, vendor, _ in stream_cases():
        contenders: dict[str, Contender] = {
            "floor": floor,
            "read": reading(nothing),
            "decode": reading(decoding),
            "parse": reading(parsing),
            "reader": reader_only(vendor),
            "stream": ours(vendor),
        }
        cost = {
            name: found.event * 1e6
            for name, found in per_event(contenders, body(size), body(size // 10), rounds).items()
        }
        print(
            f"   {label:<23} floor {cost['floor']:5.2f} = read {cost['read']:4.2f} + lines and "
            f"jiter {cost['floor'] - cost['read']:4.2f} | stream() {cost['stream']:5.2f} = read "
            f"{cost['read']:4.2f} + decoder {cost['decode'] - cost['read']:4.2f} + jiter "
            f"{cost['parse'] - cost['decode']:4.2f} + reader, assembler, events "
            f"{cost['reader']:4.2f} + loop {cost['stream'] - cost['parse'] - cost['reader']:4.2f}"
            f" | {cost['stream'] / cost['floor']:4.2f}x"
        )


if __name__ == "__main__":
    main()
