"""The immutable pydantic base every settings, profile and value model shares, and the one way
a validation failure is told to a user: each bad field by its path, on one line."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError


class Frozen(BaseModel):
    """Immutable and strict about unknown fields: a typo in a setting is an error, not ignored."""

    model_config = ConfigDict(frozen=True, extra="forbid")


def describe_errors(exc: ValidationError, *, prefix: str = "") -> str:
    """`path: problem; path: problem`, each path under `prefix` ("<top>" for the whole value)."""
    return "; ".join(
        f"{prefix}{'.'.join(map(str, err['loc'])) or '<top>'}: {err['msg']}" for err in exc.errors()
    )


_M = TypeVar("_M", bound=BaseModel)


def trusted_constructor(model: type[_M]) -> Callable[..., _M]:
    """`model.model_construct` for values this library built itself, at a fraction of its cost.

    For models built once per stream event: no validation (a user building the model still
    gets it), and no per-call walk over the fields for aliases and default factories, which
    these models do not have; the defaults are copied from a template made once.
    """
    fields = model.model_fields
    if model.__pydantic_post_init__ or any(
        field.alias or field.default_factory for field in fields.values()
    ):
        raise TypeError(f"{model.__name__} needs model_construct: it has aliases or factories")
    template = {name: field.default for name, field in fields.items()}
    new = model.__new__
    # The slot descriptors themselves: setting through them skips a lookup along the MRO
    # that object.__setattr__ would make for each of the four.
    slots = vars(BaseModel)
    set_state = slots["__dict__"].__set__
    set_fields_set = slots["__pydantic_fields_set__"].__set__
    set_extra = slots["__pydantic_extra__"].__set__
    set_private = slots["__pydantic_private__"].__set__

    def construct(**values: Any) -> _M:
        instance = new(model)
        set_state(instance, {**template, **values})
        set_fields_set(instance, set(values))
        set_extra(instance, None)
        set_private(instance, None)
        return instance

    return construct
