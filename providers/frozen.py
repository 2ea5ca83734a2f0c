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


# BaseModel's slot descriptors themselves: setting through them skips the lookup along the MRO
# that object.__setattr__ makes for each of the four.
_set_state, _set_fields_set, _set_extra, _set_private = (
    vars(BaseModel)[slot].__set__
    for slot in (
        "__dict__",
        "__pydantic_fields_set__",
        "__pydantic_extra__",
        "__pydantic_private__",
    )
)


def _defaults(model: type[BaseModel]) -> dict[str, Any]:
    """The field defaults of a model these constructors can build: one without aliases,
    default factories or a post-init, which `model_construct` would have to honour."""
    fields = model.model_fields
    if model.__pydantic_post_init__ or any(
        field.alias or field.default_factory for field in fields.values()
    ):
        raise TypeError(f"{model.__name__} needs model_construct: it has aliases or factories")
    return {name: field.default for name, field in fields.items()}


def trusted_state(model: type[_M], *given: str) -> Callable[[dict[str, Any]], _M]:
    """`model.model_construct` for a state this library wrote out itself, at a fraction of its
    cost: the whole state, every field in the model's order (`type` first), as a dict display,
    which costs less than merging keyword arguments into the defaults.

    For models built once per tool call: no validation (a user building the model still gets
    it). `given` names the fields a validated construction from the same values records as set.
    """
    _defaults(model)  # refuses a model whose construction has more to honour
    copy_given = set(given).copy
    new = model.__new__

    def construct(state: dict[str, Any]) -> _M:
        instance = new(model)
        _set_state(instance, state)
        _set_fields_set(instance, copy_given())
        _set_extra(instance, None)
        _set_private(instance, None)
        return instance

    return construct


def trusted_delta(model: type[_M], field: str) -> Callable[[int, str], _M]:
    """As `trusted_state`, for the shape built for nearly every stream event: a block index and
    one string `field`, positional, the other fields' defaults copied from a template."""
    copy_template = _defaults(model).copy
    new = model.__new__
    copy_given = {"index", field}.copy

    def construct(index: int, value: str) -> _M:
        instance = new(model)
        state = copy_template()
        state["index"] = index
        state[field] = value
        _set_state(instance, state)
        _set_fields_set(instance, copy_given())
        _set_extra(instance, None)
        _set_private(instance, None)
        return instance

    return construct
