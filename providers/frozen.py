"""The immutable pydantic base every settings, profile and value model shares, and the one way
a validation failure is told to a user: each bad field by its path, on one line."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, ValidationError


class Frozen(BaseModel):
    """Immutable and strict about unknown fields: a typo in a setting is an error, not ignored."""

    model_config = ConfigDict(frozen=True, extra="forbid")


def describe_errors(exc: ValidationError, *, prefix: str = "") -> str:
    """`path: problem; path: problem`, each path under `prefix` ("<top>" for the whole value)."""
    return "; ".join(
        f"{prefix}{'.'.join(map(str, err['loc'])) or '<top>'}: {err['msg']}" for err in exc.errors()
    )
