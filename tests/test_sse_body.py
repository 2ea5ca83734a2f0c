"""Reading a streaming body, read by read: what is judged before `Connected` (an HTML page, a
JSON answer, one that does not parse), what is kept for the first `read()`, and how a body
that never gave an event is judged at its end."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from typing import Any

import httpx2
import pytest

from providers.body import Deadline, SseBody, is_json, media_type, proxy_page_error
from providers.errors import (
    InvalidRequestError,
    LlmError,
    MalformedResponseError,
    ProviderUnavailableError,
)
from providers.scrub import Scrubber
from providers.sse import SseEvent

KEY = "sk-proj-SECRETsecretSECRET0123456789"
SCRUBBER = Scrubber([KEY])


class Reads:
    """A response whose body arrives in the given reads (an exception is raised in turn)."""

    def __init__(self, content_type: str | None, *reads: bytes | Exception) -> None:
        self.headers: Mapping[str, str] = {"content-type": content_type} if content_type else {}
        self.reads = list(reads)
        self.taken = 0

    async def aiter_bytes(self) -> AsyncIterator[bytes]:
        for read in self.reads:
            self.taken += 1
            if isinstance(read, Exception):
                raise read
            yield read


def _answer(body: Any) -> LlmError:
    return InvalidRequestError(f"json answer: {body!r}", provider="p")


def _undecodable(exc: Exception) -> LlmError:
    return MalformedResponseError(f"undecodable: {exc}", provider="p")


def _body(response: Reads, *, max_event_bytes: int = 1024) -> SseBody:
    return SseBody(
        response,
        provider="p",
        scrubber=SCRUBBER,
        deadline=Deadline(30.0),
        max_event_bytes=max_event_bytes,
        json_answer=_answer,
        undecodable=_undecodable,
    )


async def _drain(body: SseBody) -> list[SseEvent]:
    """Every event of the body after `check()`, read and fed piece by piece."""
    events = []
    while (data := await body.read()) is not None:
        events += body.feed(data)
    return events


async def _events(body: SseBody) -> list[SseEvent]:
    await body.check()
    events = await _drain(body)
    tail = body.tail()
    return events + ([tail] if tail else [])


def test_media_type_is_the_lower_case_type_without_parameters() -> None:
    assert media_type({"content-type": " Text/Event-Stream ; charset=utf-8"}) == "text/event-stream"
    assert media_type({}) == ""


def test_an_html_page_is_a_proxy_answer_with_a_scrubbed_snippet() -> None:
    page = f"<html>login {KEY}</html>".encode()
    error = proxy_page_error({}, b"\xef\xbb\xbf \n" + page, provider="p", scrubber=SCRUBBER)
    assert isinstance(error, ProviderUnavailableError)
    assert error.status_code == 200
    assert not error.retryable
    assert "a proxy or gateway answered" in str(error)
    assert "[REDACTED]" in str(error)
    assert KEY not in str(error)
    labelled = proxy_page_error(
        {"content-type": "text/html"}, b"x", provider="p", scrubber=SCRUBBER
    )
    assert labelled is not None


def test_a_page_snippet_is_cut_at_two_hundred_characters() -> None:
    error = proxy_page_error({}, b"<" + b"x" * 400, provider="p", scrubber=SCRUBBER)
    assert error is not None
    assert f"'<{'x' * 199}...'" in str(error)


def test_json_and_plain_text_are_no_proxy_page() -> None:
    assert proxy_page_error({}, b'{"a": 1}', provider="p", scrubber=SCRUBBER) is None
    assert (
        proxy_page_error({"content-type": "text/plain"}, b"x", provider="p", scrubber=SCRUBBER)
        is None
    )


async def test_an_event_stream_is_not_read_before_connected() -> None:
    response = Reads("text/event-stream", b"data: 1\n\n")
    body = _body(response)
    await body.check()
    assert response.taken == 0
    assert [data for data, _ in await _drain(body)] == [b"1"]
    assert body.tail() is None


async def test_a_json_answer_split_over_reads_is_judged_whole() -> None:
    response = Reads(None, b' {"error": ', b'{"message": "no"}', b"}")
    with pytest.raises(InvalidRequestError, match=r"json answer: \{'error': \{'message': 'no'\}\}"):
        await _body(response).check()


async def test_a_json_answer_that_does_not_parse_is_malformed_with_a_snippet() -> None:
    response = Reads("application/json", b'{"error": ', KEY.encode())
    with pytest.raises(MalformedResponseError) as caught:
        await _body(response).check()
    assert caught.value.message.startswith(
        "the vendor answered with a JSON body that does not parse, not an event stream: "
    )
    assert caught.value.provider == "p"
    assert "[REDACTED]" in str(caught.value)


async def test_an_html_body_is_refused_before_connected_with_all_its_reads() -> None:
    with pytest.raises(ProviderUnavailableError, match="proxy or gateway") as caught:
        await _body(Reads(None, b"  <!doctype html>", b"<p>hi</p>")).check()
    assert "<p>hi</p>" in caught.value.message
    assert caught.value.provider == "p"


async def test_once_an_event_came_the_body_is_no_longer_judged() -> None:
    body = _body(Reads("text/event-stream", b'{"note": 1}\n\ndata: 1\n\n'))
    await body.check()
    assert [data for data, _ in await _drain(body)] == [b"1"]
    assert body.tail() is None


async def test_an_empty_body_without_a_type_gives_no_event() -> None:
    assert await _events(_body(Reads(None))) == []


async def test_a_plain_body_read_before_connected_is_still_fed_as_events() -> None:
    response = Reads("text/plain", b"data: a\n\n", b"data: b\n\n")
    assert [data for data, _ in await _events(_body(response))] == [b"a", b"b"]


async def test_a_labelled_stream_that_holds_only_json_is_judged_at_its_end() -> None:
    body = _body(Reads("text/event-stream", b'{"error": {"message": ', b'"late"}}'))
    await body.check()
    assert await _drain(body) == []
    with pytest.raises(InvalidRequestError, match="late"):
        body.tail()


async def test_a_stream_that_gave_events_is_not_judged_as_json_at_its_end() -> None:
    body = _body(Reads("text/event-stream", b"data: 1\n\n", b'{"error": {"message": "x"}}'))
    await body.check()
    assert [data for data, _ in await _drain(body)] == [b"1"]
    assert body.tail() is None


@pytest.mark.parametrize("line_end", [b"\n", b"\r\n"])
async def test_a_whole_event_over_the_limit_after_others_is_malformed_too(line_end: bytes) -> None:
    # After the first event, reads go straight to the decoder: its error is the body's own.
    big = b"data: " + b"x" * 64 + line_end * 2
    body = _body(Reads("text/event-stream", b"data: 1\n\n", big), max_event_bytes=32)
    await body.check()
    with pytest.raises(MalformedResponseError, match=r"^\[p\] one event is larger than max_eve"):
        await _drain(body)


async def test_an_event_larger_than_the_limit_is_malformed_naming_the_limit() -> None:
    body = _body(Reads("text/event-stream", b"data: " + b"x" * 64), max_event_bytes=32)
    await body.check()
    with pytest.raises(
        MalformedResponseError,
        match=r"^\[p\] one event is larger than max_event_bytes=32: the vendor sent more than any "
        r"answer needs; raise max_event_bytes= if this is expected$",
    ):
        await _drain(body)


async def test_a_body_that_does_not_decode_is_the_protocols_error() -> None:
    body = _body(Reads("text/event-stream", b"data: 1\n\n", httpx2.DecodingError("bad gzip")))
    await body.check()
    with pytest.raises(MalformedResponseError, match="undecodable: bad gzip"):
        await _drain(body)


def test_is_json_follows_the_label_or_else_the_first_byte() -> None:
    assert is_json({"content-type": "application/json"}, b"")
    assert not is_json({}, b"")


async def test_the_deadline_errors_say_how_long_and_what_to_do() -> None:
    deadline = Deadline(2.5)
    deadline.close()
    assert deadline.before_connected("p").message == (
        "no complete response within the deadline of 2.5s: retry later or raise deadline="
    )
    assert deadline.mid_body("p").message == (
        "the response did not finish within the deadline of 2.5s: the answer is incomplete; "
        "retry the request or raise deadline="
    )
