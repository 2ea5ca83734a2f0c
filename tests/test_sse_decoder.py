from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from providers.sse import SseDecoder, SseEvent, SseEventTooLargeError


def sse(data: bytes, name: str = "message") -> SseEvent:
    return data, name


BODY = b': keep-alive\n\ndata: {"a":1}\n\nevent: error\ndata: line one\ndata: line two\n\n'
EXPECTED = [sse(b'{"a":1}'), sse(b"line one\nline two", "error")]


def decode(pieces: list[bytes]) -> tuple[list[SseEvent], SseEvent | None]:
    decoder = SseDecoder()
    events = [event for piece in pieces for event in decoder.feed(piece)]
    return events, decoder.finish()


@pytest.mark.parametrize("line_end", [b"\n", b"\r\n", b"\r"])
def test_line_endings_comments_and_multiline_data(line_end: bytes) -> None:
    events, tail = decode([BODY.replace(b"\n", line_end)])
    assert events == EXPECTED
    assert tail is None


@pytest.mark.parametrize("line_end", [b"\n", b"\r\n"])
def test_every_split_point_gives_the_same_events(line_end: bytes) -> None:
    body = BODY.replace(b"\n", line_end)
    for cut in range(1, len(body)):
        assert decode([body[:cut], body[cut:]]) == (EXPECTED, None), cut


def test_one_byte_at_a_time() -> None:
    body = BODY.replace(b"\n", b"\r\n")
    assert decode([body[i : i + 1] for i in range(len(body))]) == (EXPECTED, None)


def test_body_ending_mid_event_is_handed_back_as_the_tail() -> None:
    events, tail = decode([b'data: {"a":1}\n\ndata: {"b":'])
    assert events == [sse(b'{"a":1}')]
    assert tail == sse(b'{"b":')


def test_data_without_space_and_unknown_fields() -> None:
    events, _ = decode([b"id: 7\nretry: 10\ndata:{}\n\n"])
    assert events == [sse(b"{}")]


@pytest.mark.parametrize("cut", [0, 1, 2, 3, 4])
def test_one_leading_bom_is_dropped_wherever_the_first_read_ends(cut: int) -> None:
    body = b"\xef\xbb\xbf" + BODY
    assert decode([body[:cut], body[cut:]]) == (EXPECTED, None)


def test_only_the_first_bom_is_dropped() -> None:
    events, _ = decode([b"\xef\xbb\xbf\xef\xbb\xbfdata: x\n\n"])
    assert events == []  # the second BOM makes the field name unknown
    events, _ = decode([b"\xef\xbb\xbfdata: x\n\ndata: \xef\xbb\xbfy\n\n"])
    assert events == [sse(b"x"), sse(b"\xef\xbb\xbfy")]


def test_a_field_name_alone_is_an_empty_value() -> None:
    assert decode([b"data\ndata\n\n"]) == ([sse(b"\n")], None)


def test_an_event_over_the_cap_is_refused_as_it_grows() -> None:
    decoder = SseDecoder(max_event_bytes=10)
    assert decoder.feed(b"data: 12345\ndata: 1234\n\n") == [sse(b"12345\n1234")]
    with pytest.raises(SseEventTooLargeError, match="larger than 10 bytes"):
        decoder.feed(b"data: 123456\ndata: 12345\n")


def test_an_unfinished_line_over_the_cap_is_refused_before_it_ends() -> None:
    decoder = SseDecoder(max_event_bytes=10)
    assert decoder.feed(b"data: 123") == []  # 9 bytes of line so far
    with pytest.raises(SseEventTooLargeError):
        decoder.feed(b"678901")


def test_a_long_line_in_many_reads_is_one_event() -> None:
    line = b"data: " + b"x" * 100_000 + b"\n\n"
    pieces = [line[start : start + 7] for start in range(0, len(line), 7)]
    assert decode(pieces) == ([sse(b"x" * 100_000)], None)


def test_a_lone_colon_is_a_comment() -> None:
    assert decode([b":\n\ndata: x\n\n"]) == ([sse(b"x")], None)


def test_event_names_with_or_without_a_space_and_undecodable_bytes() -> None:
    events, _ = decode([b"event:error\ndata: a\n\nevent: \xffbad\ndata: b\n\n"])
    assert events == [sse(b"a", "error"), sse(b"b", "\ufffdbad")]


def test_a_cr_line_end_consumes_only_the_newline_right_after_it() -> None:
    events, _ = decode([b"data: a\r", b"\n", b"\ndata: b\n\n"])
    assert events == [sse(b"a"), sse(b"b")]


@pytest.mark.parametrize("cut", range(1, 12))
def test_a_bom_before_a_data_line_is_dropped_at_any_split(cut: int) -> None:
    body = b"\xef\xbb\xbfdata: x\n\n"
    assert decode([body[:1], body[1:cut], body[cut:]]) == ([sse(b"x")], None)


def test_a_bom_at_the_start_of_a_later_read_is_kept() -> None:
    assert decode([b"data: a\n\n", b"\xef\xbb\xbfdata: b\n\n"]) == ([sse(b"a")], None)


def test_the_tail_keeps_its_pieces_its_lines_and_its_event_name() -> None:
    events, tail = decode([b'event: error\ndata: one\ndata: {"b":', b"1}"])
    assert events == []
    assert tail == sse(b'one\n{"b":1}', "error")


def test_the_cap_allows_an_event_of_exactly_its_size() -> None:
    decoder = SseDecoder(max_event_bytes=10)
    assert decoder.feed(b"data: 12345\n") == []
    assert decoder.feed(b"data: 12345\n\n") == [sse(b"12345\n12345")]
    assert decoder.feed(b"data: 1234567890\n\n") == [sse(b"1234567890")]
    assert decoder.feed(b"data") == []  # an unfinished line of 4 bytes
    assert decoder.feed(b": 1234\n\n") == [sse(b"1234")]
    with pytest.raises(SseEventTooLargeError) as caught:
        decoder.feed(b"data: 12345678901\n")
    assert caught.value.limit == 10


def test_the_cap_counts_a_new_partial_line_from_zero() -> None:
    decoder = SseDecoder(max_event_bytes=11)
    assert decoder.feed(b"data: 1") == []
    assert decoder.feed(b"2\ndata: 123") == []  # 2 bytes of data + 9 of line: at the cap
    assert decoder.feed(b"\n\n") == [sse(b"12\n123")]


#: Lines a body may hold, whole events or not: data with and without a space, names, comments,
#: a field name alone, unknown fields, blank lines.
_LINES = st.sampled_from(
    [
        b"data: {}",
        b"data:x",
        b"data:  two spaces",
        b"data",
        b"event: ping",
        b"event:named",
        b": comment",
        b"id: 7",
        b"",
    ]
)


@given(st.lists(st.lists(_LINES, max_size=4), max_size=8))
def test_reads_of_whole_events_decode_as_the_same_body_byte_by_byte(
    blocks: list[list[bytes]],
) -> None:
    # Each read is whole events (its blocks ending in a blank line), the shape servers flush.
    reads = [b"".join(line + b"\n" for line in block) + b"\n" for block in blocks]
    body = b"".join(reads)
    one_byte_reads = [body[i : i + 1] for i in range(len(body))]
    assert decode(reads) == decode(one_byte_reads)


def test_the_cap_holds_for_a_read_of_whole_events() -> None:
    decoder = SseDecoder(max_event_bytes=10)
    decoder.feed(b"\n")  # past the start: later reads of whole events take the quick path
    assert decoder.feed(b"data: 1234567890\n\nevent: e\ndata: 1\n\n") == [
        sse(b"1234567890"),
        sse(b"1", "e"),
    ]
    with pytest.raises(SseEventTooLargeError):
        decoder.feed(b"event: e\ndata: 12345678901\n\n")


def test_an_event_name_in_a_read_of_its_own_names_the_data_that_follows() -> None:
    decoder = SseDecoder()
    decoder.feed(b"data: first\n\n")
    assert decoder.feed(b"event: content_block_delta\n") == []
    assert decoder.feed(b"data: second\n\n") == [sse(b"second", "content_block_delta")]
    assert decoder.feed(b"data: third\n\n") == [sse(b"third")]


@given(st.lists(st.lists(_LINES, max_size=4), max_size=8), st.lists(st.integers(min_value=0)))
def test_reads_cut_anywhere_decode_as_the_same_body_byte_by_byte(
    blocks: list[list[bytes]], cuts: list[int]
) -> None:
    body = b"".join(b"".join(line + b"\n" for line in block) + b"\n" for block in blocks)
    points = sorted({cut % (len(body) + 1) for cut in cuts})
    reads = [body[start:end] for start, end in zip([0, *points], [*points, len(body)], strict=True)]
    assert decode(reads) == decode([body[i : i + 1] for i in range(len(body))])


@pytest.mark.parametrize(
    "read",
    [b"event: named\r\ndata: x\n\n", b"event: named\rdata: x\n\n", b"event: named\ndata: x\r\n\n"],
)
def test_a_read_mixing_line_ends_is_one_named_event(read: bytes) -> None:
    decoder = SseDecoder()
    decoder.feed(b"data: first\n\n")  # past the start, between events
    assert decoder.feed(read) == [sse(b"x", "named")]
