"""The stream builds its per-event models without validation; what it builds must be the same
value a validated construction gives, and users building events keep their validation."""

from __future__ import annotations

import pickle
from collections.abc import Callable

import httpx2
import pytest
from pydantic import BaseModel, ValidationError
from support import ask

from contracts.protocols.anthropic_messages import AnthropicMessages
from contracts.protocols.openai_chat import OpenAiChat
from contracts.protocols.openai_responses import OpenAiResponses
from contracts.spec import Answer, ToolCallSpec, UsageSpec
from contracts.transport import PieceStream
from contracts.vendors import load_suite_profile
from providers import from_vendor, load_profile
from providers.frozen import trusted_delta, trusted_state
from providers.types import (
    StreamEvent,
    TextDelta,
    ThinkingDelta,
    ToolDefinition,
    ToolInputDelta,
    ToolUseStart,
)

DELTAS: list[tuple[type[BaseModel], str, str]] = [
    (TextDelta, "text", "héllo"),
    (ThinkingDelta, "text", "hmm"),
    (ToolInputDelta, "partial_json", '{"a": '),
]


def _same_value(built: BaseModel, validated: BaseModel) -> None:
    assert type(built) is type(validated)
    assert built == validated
    assert built.model_dump() == validated.model_dump()
    assert built.model_fields_set == validated.model_fields_set
    assert hash(built) == hash(validated)
    assert repr(built) == repr(validated)


@pytest.mark.parametrize(
    ("model", "field", "value"), DELTAS, ids=lambda c: getattr(c, "__name__", "")
)
def test_a_trusted_delta_equals_the_validated_one(
    model: type[BaseModel], field: str, value: str
) -> None:
    _same_value(trusted_delta(model, field)(2, value), model(index=2, **{field: value}))


def test_a_trusted_state_equals_the_validated_model() -> None:
    state = {"type": "tool_use_start", "index": 1, "id": "call_1", "name": "f"}
    built = trusted_state(ToolUseStart, "index", "id", "name")(state)
    _same_value(built, ToolUseStart(index=1, id="call_1", name="f"))


def test_instances_do_not_share_state() -> None:
    build = trusted_delta(TextDelta, "text")
    first, second = build(0, "a"), build(1, "b")
    assert (first.index, first.text) == (0, "a")
    assert (second.index, second.text) == (1, "b")
    assert first.model_fields_set is not second.model_fields_set
    with pytest.raises(ValidationError):
        first.text = "changed"  # still frozen


def test_models_with_default_factories_are_refused() -> None:
    with pytest.raises(TypeError, match="model_construct"):
        trusted_state(ToolDefinition, "name")
    with pytest.raises(TypeError, match="model_construct"):
        trusted_delta(ToolDefinition, "name")


def test_users_building_events_are_still_validated() -> None:
    with pytest.raises(ValidationError):
        TextDelta(index=0, text="")


# -- every event kind as a stream builds it ---------------------------------------------------

MODEL = "model-1"
ANSWER = Answer(
    thinking=("let me ", "see"),
    text=("one ", "two"),
    tool_calls=(ToolCallSpec(id="call_1", name="f", arguments=('{"a":', " 1}")),),
    finish="tool_calls",
    usage=UsageSpec(prompt=3, completion=5),
)
BODIES: dict[str, Callable[[], list[bytes]]] = {
    "deepseek": lambda: OpenAiChat(
        load_profile("deepseek"), load_suite_profile("deepseek")
    ).stream_events(ANSWER, MODEL, usage_asked=True),
    "anthropic": lambda: AnthropicMessages(
        load_profile("anthropic"), load_suite_profile("anthropic")
    ).stream_events(ANSWER, MODEL),
    "openai_responses": lambda: OpenAiResponses(
        load_profile("openai_responses"), load_suite_profile("openai_responses")
    ).stream_events(ANSWER, MODEL, encrypted=False),
}


async def _streamed(vendor: str) -> list[StreamEvent]:
    pieces = BODIES[vendor]()

    def handle(_: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(
            200, headers={"content-type": "text/event-stream"}, stream=PieceStream(pieces)
        )

    client = httpx2.AsyncClient(transport=httpx2.MockTransport(handle))
    provider = from_vendor(vendor, api_key="k", http_client=client)
    return [event async for event in provider.stream(ask())]


@pytest.mark.parametrize("vendor", sorted(BODIES))
async def test_every_event_a_stream_builds_equals_its_validated_twin(vendor: str) -> None:
    events = await _streamed(vendor)
    kinds = {type(event).__name__ for event in events}
    assert kinds == {
        "Connected",
        "ThinkingDelta",
        "TextDelta",
        "ToolUseStart",
        "ToolInputDelta",
        "ToolUseEnd",
        "MessageDelta",
        "Usage",
        "Done",
    }
    for event in events:
        validated = type(event)(**{name: getattr(event, name) for name in event.model_fields_set})
        assert event == validated
        assert event.model_dump() == validated.model_dump()
        assert event.model_fields_set == validated.model_fields_set
        assert repr(event) == repr(validated)
        unpickled = pickle.loads(pickle.dumps(event))
        assert unpickled == event
        assert unpickled.model_fields_set == event.model_fields_set
    # A copy with an update changes its own fields set, never another event's.
    first, second = [event for event in events if isinstance(event, TextDelta | ThinkingDelta)][:2]
    copied = first.model_copy(update={"type": first.type})
    assert "type" in copied.model_fields_set
    assert "type" not in first.model_fields_set | second.model_fields_set
