"""Properties over drawn vendor worlds, each fed as SSE bytes through the real provider.

Every test draws a vendor (one of the bundled profiles), an answer in that vendor's shape,
and the bytes for it cut at arbitrary offsets (see contracts/strategies.py).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from contracts import properties as props
from contracts.strategies import VendorStream, sse_pieces, vendor_streams
from contracts.wire import sse_event
from providers import errors
from providers.vendors import VendorProfile, available_vendors, load_profile

#: The strategies draw OpenAI Chat chunks, for the vendors that speak it.
CHAT_VENDORS = [v for v in available_vendors() if load_profile(v).protocol == "openai_chat"]
PROFILES = st.sampled_from(CHAT_VENDORS).map(load_profile)


@st.composite
def finished_runs(draw: st.DrawFn) -> tuple[VendorProfile, VendorStream, props.StreamRun]:
    profile = draw(PROFILES)
    stream = draw(vendor_streams(profile))
    pieces = draw(sse_pieces(stream.chunks, done=stream.done))
    return profile, stream, props.run_stream(profile, pieces)


RunCase = tuple[VendorProfile, VendorStream, props.StreamRun]


def ended_normally(check: Callable[[RunCase], None]) -> Callable[[RunCase], None]:
    """Properties of a normal ending apply when the profile maps the finish to no error."""

    def applied(case: RunCase) -> None:
        if case[2].error is None:
            check(case)

    return applied


check_outcome: Callable[[RunCase], None] = lambda case: props.prop_outcome(*case)  # noqa: E731
check_grammar: Callable[[RunCase], None] = lambda case: props.prop_grammar(case[2])  # noqa: E731
check_text = ended_normally(lambda case: props.prop_text(case[1], case[2]))
check_tool_input = ended_normally(lambda case: props.prop_tool_input(case[1], case[2]))
check_stop_reason = ended_normally(lambda case: props.prop_stop_reason(*case))
check_usage = ended_normally(lambda case: props.prop_usage(case[1], case[2]))
check_complete: Callable[[RunCase], None] = lambda case: props.prop_complete_agrees(*case)  # noqa: E731


@given(finished_runs())
def test_finish_values_end_normally_or_raise_as_the_profile_says(case: RunCase) -> None:
    check_outcome(case)


@given(finished_runs())
def test_grammar_holds(case: RunCase) -> None:
    check_grammar(case)


@given(finished_runs())
def test_text_out_equals_text_in(case: RunCase) -> None:
    check_text(case)


@given(finished_runs())
def test_tool_input_is_the_parsed_concatenated_arguments_in_index_order(case: RunCase) -> None:
    check_tool_input(case)


@given(finished_runs())
def test_stop_reason_follows_the_profile_and_keeps_raw(case: RunCase) -> None:
    check_stop_reason(case)


@given(finished_runs())
def test_exactly_one_usage_equal_to_the_last_report_or_estimated(case: RunCase) -> None:
    check_usage(case)


@given(finished_runs())
def test_complete_agrees_with_stream(case: RunCase) -> None:
    check_complete(case)


@st.composite
def truncated_runs(draw: st.DrawFn) -> props.StreamRun:
    """A drawn stream cut anywhere before its finish, [DONE] or not, maybe mid-event."""
    profile = draw(PROFILES)
    stream = draw(vendor_streams(profile))
    kept = stream.chunks[: draw(st.integers(0, stream.finish_position))]
    pieces = draw(sse_pieces(kept, done=draw(st.booleans())))
    if draw(st.booleans()):
        finish_event = sse_event(json.dumps(stream.chunks[stream.finish_position]))
        pieces.append(finish_event[: draw(st.integers(1, len(finish_event) - 3))])
    return props.run_stream(profile, pieces)


@given(truncated_runs())
def test_cut_before_the_finish_raises_truncated_and_never_done(run: props.StreamRun) -> None:
    props.prop_truncated(run)


BROKEN: list[tuple[str, Any, type[Exception]]] = [
    ("unparsable chunk", '{"choices": [{"delta": ', errors.MalformedResponseError),
    ("error event", {"error": {"message": "boom", "type": "server_error"}}, errors.StreamError),
    ("non-object chunk", "[1, 2]", errors.MalformedResponseError),
]


@given(st.data(), st.sampled_from(BROKEN))
def test_a_broken_chunk_anywhere_raises_the_mapped_error(
    data: st.DataObject, broken: tuple[str, Any, type[Exception]]
) -> None:
    profile = data.draw(PROFILES)
    stream = data.draw(vendor_streams(profile))
    position = data.draw(st.integers(0, stream.finish_position))
    chunks: list[Any] = [*stream.chunks[:position], broken[1], *stream.chunks[position:]]
    body = b"".join(
        sse_event(item if isinstance(item, str) else json.dumps(item)) for item in chunks
    )
    props.prop_fails_with(props.run_stream(profile, [body]), broken[2])
