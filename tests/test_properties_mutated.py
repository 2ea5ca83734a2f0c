"""Hostile JSON: valid vendor chunks broken at random paths never crash the provider.

Each example draws a valid answer in a bundled vendor's shape, then replaces or deletes one to
three fields anywhere in it (every JSON type, nulls, empty containers, huge and non-finite
numbers). Whatever the damage, `stream()` and `complete()` either succeed or raise an
`LlmError`: an AttributeError, TypeError or ValidationError escaping is the bug this finds.
"""

from __future__ import annotations

from hypothesis import find, given
from hypothesis import strategies as st
from support import OPENAI_CHAT_VENDORS

from contracts import properties as props
from contracts.grammar import violations
from contracts.strategies import HOSTILE_VALUES, mutated_documents, sse_pieces, vendor_streams
from providers.vendors import load_profile

PROFILES = st.sampled_from(OPENAI_CHAT_VENDORS).map(load_profile)


@given(st.data())
def test_mutated_chunks_raise_only_typed_errors_and_keep_the_grammar(data: st.DataObject) -> None:
    profile = data.draw(PROFILES)
    stream = data.draw(vendor_streams(profile))
    chunks = data.draw(mutated_documents(stream.chunks))
    pieces = data.draw(sse_pieces(chunks, done=stream.done))
    run = props.run_stream(profile, pieces)  # anything but an LlmError propagates and fails
    found = violations(run.events, raised=run.error is not None)
    assert not found, "; ".join(map(str, found))


@given(st.data())
def test_mutated_completion_bodies_raise_only_typed_errors(data: st.DataObject) -> None:
    profile = data.draw(PROFILES)
    stream = data.draw(vendor_streams(profile))
    [body] = data.draw(mutated_documents([props.completion_body(profile, stream)]))
    response, error = props.run_complete(profile, body)  # anything else propagates and fails
    assert (response is None) != (error is None)


def test_each_hostile_container_drawn_is_a_fresh_one() -> None:
    """A mutation inside a value one example inserted must not change what the next draws: the
    strategy's data would then depend on what ran before, which Hypothesis fails as flaky."""
    first = find(HOSTILE_VALUES, lambda value: value == {"error": 1})
    first["error"] = 2
    again = find(HOSTILE_VALUES, lambda value: isinstance(value, dict) and "error" in value)
    assert again == {"error": 1}
