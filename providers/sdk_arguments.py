"""A request body as the arguments of an SDK's `create()`.

A few fields every release of the SDK takes as typed arguments go as such; everything else
travels in `extra_body`, which the SDK merges into the JSON unchanged. So a vendor field the
SDK never heard of (Mistral's `random_seed`, OpenRouter's `reasoning`) is still sent, and a
release that drops a typed parameter cannot make a body field vanish or fail the call.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any


def sdk_arguments(body: dict[str, Any], typed: Iterable[str]) -> dict[str, Any]:
    """`body` split into the typed arguments named in `typed` and an `extra_body`."""
    names = set(typed)
    arguments = {key: value for key, value in body.items() if key in names}
    extra = {key: value for key, value in body.items() if key not in names}
    return {**arguments, "extra_body": extra} if extra else arguments
