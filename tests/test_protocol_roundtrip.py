"""Every protocol's reader gives back exactly what its replica served, for any answer: text
and reasoning cut anywhere, tool calls with arguments split at any character, any finish
value, usage or none (with the cache counts the vendor reports); streamed and whole."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st
from support import carries_reasoning

from contracts.observed import Exchange
from contracts.protocols import protocol_for
from contracts.spec import Answer, ToolCallSpec, UsageSpec
from contracts.vendors import load_suite_profile
from providers import available_vendors, load_profile

TEXT = st.lists(st.text(st.characters(exclude_categories=("Cs",)), max_size=8), max_size=4)


@st.composite
def tool_calls(draw: st.DrawFn) -> tuple[ToolCallSpec, ...]:
    calls = []
    for number in range(draw(st.integers(0, 3))):
        value = draw(st.dictionaries(st.text(max_size=4), st.integers() | st.text(max_size=4)))
        arguments = json.dumps(value)
        cuts = sorted(draw(st.sets(st.integers(1, max(1, len(arguments) - 1)), max_size=4)))
        pieces = [arguments[a:b] for a, b in zip([0, *cuts], [*cuts, len(arguments)], strict=True)]
        name = draw(st.from_regex(r"[a-z][a-z_]{0,8}", fullmatch=True))
        calls.append(ToolCallSpec(id=f"call{number}x", name=name, arguments=tuple(pieces)))
    return tuple(calls)


@st.composite
def usage_reports(draw: st.DrawFn) -> UsageSpec:
    """Counts with cache reads and writes inside the prompt, which counts them too."""
    prompt = draw(st.integers(0, 99))
    read = draw(st.integers(0, prompt))
    return UsageSpec(
        prompt=prompt,
        completion=draw(st.integers(0, 99)),
        cache_read=read,
        cache_write=draw(st.integers(0, prompt - read)),
    )


@st.composite
def vendor_answers(draw: st.DrawFn) -> tuple[str, Answer]:
    vendor = draw(st.sampled_from(available_vendors()))
    words = ["stop", "length", "tool_calls", *load_suite_profile(vendor).finish_values]
    usage = draw(st.just("none") | usage_reports())
    answer = Answer(
        text=tuple(draw(TEXT)),
        thinking=tuple(draw(TEXT)) if carries_reasoning(load_profile(vendor)) else (),
        tool_calls=draw(tool_calls()),
        finish=draw(st.sampled_from(words)),
        usage=usage,
    )
    return vendor, answer


def essence(answer: Answer, finish: str | None, *, usage: bool) -> tuple[object, ...]:
    usage_spec = answer.usage
    reported = None
    if usage_spec != "none":
        counts = usage_spec.prompt, usage_spec.completion
        reported = (*counts, usage_spec.cache_read, usage_spec.cache_write)
    return (
        "".join(answer.text),
        "".join(answer.thinking),
        [(c.id, c.name, json.loads(c.joined)) for c in answer.tool_calls],
        finish,
        reported if usage else None,
    )


@given(vendor_answers(), st.booleans())
def test_the_reader_reads_back_what_the_replica_served(
    drawn: tuple[str, Answer], streamed: bool
) -> None:
    vendor, answer = drawn
    protocol = protocol_for(load_profile(vendor))
    request = {"model": "m", "stream": streamed, "stream_options": {"include_usage": True}}
    response = protocol.answer_response(answer, request)
    exchange = Exchange(request, 200, response.headers["content-type"], response.body.decode())
    read = protocol.read(exchange)
    assert read is not None
    assert answer.finish is not None
    # A protocol that always reports usage reports some where none was scripted.
    scripted = answer.usage != "none"
    sent = protocol.as_sent(answer, streamed=streamed)
    assert sent.finish is not None
    expected = essence(sent, protocol.finish_on_wire(sent.finish), usage=scripted)
    assert essence(read, read.finish, usage=scripted) == expected
