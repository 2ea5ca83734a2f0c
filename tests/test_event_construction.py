"""The stream builds its per-event models without validation; what it builds must be the same
value a validated construction gives, and users building events keep their validation."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from providers.frozen import trusted_constructor
from providers.types import TextDelta, ThinkingDelta, ToolDefinition, ToolInputDelta, Usage

CASES: list[tuple[type[BaseModel], dict[str, Any]]] = [
    (TextDelta, {"index": 0, "text": "héllo"}),
    (ThinkingDelta, {"index": 2, "text": "hmm"}),
    (ToolInputDelta, {"index": 1, "partial_json": '{"a": '}),
    (Usage, {"input_tokens": 3, "output_tokens": 4}),
]


@pytest.mark.parametrize(("model", "values"), CASES, ids=lambda c: getattr(c, "__name__", ""))
def test_trusted_construction_equals_validated(
    model: type[BaseModel], values: dict[str, Any]
) -> None:
    built = trusted_constructor(model)(**values)
    validated = model(**values)
    assert type(built) is model
    assert built == validated
    assert built.model_dump() == validated.model_dump()
    assert built.model_fields_set == validated.model_fields_set
    assert hash(built) == hash(validated)
    assert repr(built) == repr(validated)


def test_instances_do_not_share_state() -> None:
    build = trusted_constructor(TextDelta)
    first, second = build(index=0, text="a"), build(index=1, text="b")
    assert (first.index, first.text) == (0, "a")
    assert (second.index, second.text) == (1, "b")
    with pytest.raises(ValidationError):
        first.text = "changed"  # still frozen


def test_models_with_default_factories_are_refused() -> None:
    with pytest.raises(TypeError, match="model_construct"):
        trusted_constructor(ToolDefinition)


def test_users_building_events_are_still_validated() -> None:
    with pytest.raises(ValidationError):
        TextDelta(index=0, text="")
