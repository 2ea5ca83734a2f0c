"""Wire drift line by line: what `record` prints when a vendor's bytes change between two
recordings, and where a recording contradicts the vendor's wire facts."""

from __future__ import annotations

import json

from contracts.drift import drift, profile_mismatches
from contracts.observed import Exchange
from contracts.protocols import protocol_for
from providers import load_profile

OPENAI = protocol_for(load_profile("openai"))
STREAMED = {"model": "m", "stream": True, "messages": []}


def _stream(*chunks: dict[str, object], request: dict[str, object] | None = None) -> Exchange:
    body = "".join(f"data: {json.dumps(chunk)}\n\n" for chunk in chunks) + "data: [DONE]\n\n"
    return Exchange(request or STREAMED, 200, "text/event-stream", body)


def _chunk(finish: str | None = None, **more: object) -> dict[str, object]:
    return {"choices": [{"index": 0, "delta": {"content": "x"}, "finish_reason": finish}], **more}


def test_the_same_wire_twice_is_no_drift() -> None:
    exchange = _stream(_chunk(), _chunk("stop"))
    assert drift([exchange], [exchange], OPENAI) == []


def test_a_different_number_of_interactions_is_said_first_and_alone() -> None:
    exchange = _stream(_chunk("stop"))
    assert drift([exchange], [exchange, exchange], OPENAI) == ["1 interaction(s) before, 2 now"]


def test_fields_gone_and_added_are_named_per_path_sorted() -> None:
    before = _stream(_chunk("stop", id="a", model="m"))
    after = _stream(_chunk("stop", system_fingerprint="f", service_tier="t"))
    assert drift([before], [after], OPENAI) == [
        "stream: fields gone: id, model",
        "stream: fields added: service_tier, system_fingerprint",
    ]


def test_a_changed_finish_value_and_status_are_shown_before_and_after() -> None:
    before = _stream(_chunk("stop"))
    after = Exchange(STREAMED, 500, "application/json", '{"error": {"message": "down"}}')
    lines = drift([before], [after], OPENAI)
    assert "stream: status: 200 -> 500" in lines
    assert "stream: finish values: ('stop',) -> ()" in lines


def test_a_changed_trait_is_named_with_spaces() -> None:
    usage = {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}
    before = _stream(_chunk("stop", usage=usage))
    after = _stream(_chunk("stop"), {"choices": [], "usage": usage})
    assert "stream: usage placement: 'finish_chunk' -> 'separate_chunk'" in drift(
        [before], [after], OPENAI
    )


def test_an_exchange_is_labelled_by_whether_its_request_streamed() -> None:
    plain = {"model": "m", "messages": []}
    before = Exchange(plain, 200, "application/json", '{"id": "a", "choices": []}')
    after = Exchange(plain, 200, "application/json", '{"choices": []}')
    assert drift([before], [after], OPENAI) == ["complete: fields gone: id"]
    unknown = Exchange(None, 200, "application/json", '{"choices": []}')
    assert drift([before], [unknown], OPENAI) == ["complete: fields gone: id"]


def test_profile_mismatches_are_each_said_once_in_order() -> None:
    foreign = Exchange(STREAMED, 401, "text/plain", "denied")
    shapes = [OPENAI.wire_shape(foreign), OPENAI.wire_shape(foreign)]
    lines = profile_mismatches(shapes, OPENAI)
    assert lines == sorted(set(lines))
    assert len(lines) == len(OPENAI.mismatches(shapes[0])) >= 1
    assert profile_mismatches([], OPENAI) == []
