"""The SSE decoder is linear: decode time per MB stays flat from 1 MB to 64 MB lines.

    python bench/sse_decoder.py            # 1, 2, 4, ... 64 MB
    python bench/sse_decoder.py --max-mb 16

One `data:` line of N MB arrives in 64 KiB reads, as a socket delivers it; the decoder must
hand back one event. A quadratic decoder (re-joining the partial line on every read) shows a
ratio growing with N; a linear one stays near 1.0x. The figures are ratios to the 1 MB line
measured in this run; wall times are for orientation only.
"""

from __future__ import annotations

import argparse
import statistics
import time

from providers.sse import SseDecoder

READ_SIZE = 64 * 1024


def seconds_to_decode(megabytes: int, repeats: int) -> tuple[float, float]:
    """Median seconds to decode the line, and to copy its bytes once (the memory baseline)."""
    line = b"data: " + b"x" * (megabytes << 20) + b"\n\n"
    pieces = [line[start : start + READ_SIZE] for start in range(0, len(line), READ_SIZE)]
    decode_times, copy_times = [], []
    for _ in range(repeats):
        decoder = SseDecoder(max_event_bytes=len(line))
        start = time.perf_counter()
        events = [event for piece in pieces for event in decoder.feed(piece)]
        decode_times.append(time.perf_counter() - start)
        assert len(events) == 1
        assert len(events[0][0]) == megabytes << 20
        del events
        start = time.perf_counter()
        copied = b"".join(pieces)
        copy_times.append(time.perf_counter() - start)
        del copied
    return statistics.median(decode_times), statistics.median(copy_times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--max-mb", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    sizes = [1 << power for power in range(args.max_mb.bit_length()) if 1 << power <= args.max_mb]
    measured = {size: seconds_to_decode(size, args.repeats) for size in sizes}
    decode = {size: pair[0] / size for size, pair in measured.items()}
    copy = {size: pair[1] / size for size, pair in measured.items()}
    print(f"SSE decode time per MB, one data line in {READ_SIZE // 1024} KiB reads")
    print("   (copy = joining the same bytes once: what the memory system alone costs per MB)")
    for size in sizes:
        print(
            f"   {size:>3} MB line: decode {decode[size] * 1e3:6.2f} ms/MB "
            f"{decode[size] / decode[1]:5.2f}x the 1 MB line; copy {copy[size] / copy[1]:5.2f}x; "
            f"decode = {decode[size] / copy[size]:5.1f} copies"
        )
    worst = max(decode[size] / decode[1] for size in sizes)
    copies = [decode[size] / copy[size] for size in sizes]
    print(
        f"\nsummary: decode per MB at most {worst:.2f}x the 1 MB line (a quadratic decoder "
        f"grows with the line: ~{sizes[-1]}x at {sizes[-1]} MB); decoding costs "
        f"{min(copies):.1f}-{max(copies):.1f} plain copies of the bytes at every size"
    )


if __name__ == "__main__":
    main()
