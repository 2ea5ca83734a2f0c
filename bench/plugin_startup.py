"""pytest start-up with the llm-contracts plugin loaded vs not loaded: the plugin is loaded in
every project that has the package installed, so it must cost next to nothing.

    python bench/plugin_startup.py [runs]

Prints the median wall time of `pytest --collect-only` on an empty folder both ways, and the
ratio (1.00 = free). `-p no:llm_contracts` stands for "not installed": it is the only thing
the package adds to a pytest run.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time


def _median_seconds(extra: list[str], runs: int, folder: str) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(
            [
                sys.executable,
                "-m",
                "pytest",
                "--collect-only",
                "-q",
                "-p",
                "no:cacheprovider",
                *extra,
            ],
            cwd=folder,
            capture_output=True,
            check=False,
        )
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 7
    with tempfile.TemporaryDirectory() as folder:
        without = _median_seconds(["-p", "no:llm_contracts"], runs, folder)
        loaded = _median_seconds([], runs, folder)
    print(f"pytest start-up, median of {runs}: without plugin {without:.3f} s, with {loaded:.3f} s")
    print(f"ratio with/without: {loaded / without:.2f}")


if __name__ == "__main__":
    main()
