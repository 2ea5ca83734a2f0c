"""Blocks that build many objects and no garbage cycles, without the cyclic garbage collector."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def without_collection() -> Iterator[None]:
    """Pause the cyclic garbage collector for a block that builds many objects and no cycles:
    an SDK's import builds thousands of classes and leaves almost no garbage, yet the
    collector's passes over that growing heap cost 5-9% of the import's CPU (before a command's
    first line, in the worker that imports a second SDK); a long recording's parsed payloads
    cost the collector as much as their parsing."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
