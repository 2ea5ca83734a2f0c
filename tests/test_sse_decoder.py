from __future__ import annotations

import pytest

from providers.sse import SseDecoder, SseEvent

BODY = b': keep-alive\n\ndata: {"a":1}\n\nevent: error\ndata: line one\ndata: line two\n\n'
EXPECTED = [SseEvent(b'{"a":1}'), SseEvent(b"line one\nline two", "error")]


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
    assert events == [SseEvent(b'{"a":1}')]
    assert tail == SseEvent(b'{"b":')


def test_data_without_space_and_unknown_fields() -> None:
    events, _ = decode([b"id: 7\nretry: 10\ndata:{}\n\n"])
    assert events == [SseEvent(b"{}")]
