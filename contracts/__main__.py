"""`llm-contracts` and `python -m contracts`: the command, or one line naming a missing extra."""

from __future__ import annotations

import sys

from contracts.imports import without_collection
from providers.extras import MissingDependencyError, requires

EXIT_USAGE = 2


def main() -> int:
    try:
        with requires("the llm-contracts command"), without_collection():
            from contracts.cli import main as run  # noqa: PLC0415 - guarded: an optional extra

            return run()
    except MissingDependencyError as exc:
        print(f"llm-contracts: error: {exc}", file=sys.stderr)
        return EXIT_USAGE


if __name__ == "__main__":
    raise SystemExit(main())
