"""The replica cuts each body into reads as a network would, seeded per case, and says how."""

from __future__ import annotations

import asyncio

import pytest

from contracts.explain import wire_evidence
from contracts.observed import Exchange
from contracts.replica.server import ReplicaServer, ScriptedResponse
from contracts.wire import chunk, sse_event, wire_json

BODY = b"".join(
    sse_event(wire_json(item))
    for item in (chunk({"content": "Ünïcödé 漢字"}), chunk(finish="stop"))
)


def test_vendors_write_characters_not_escapes() -> None:
    assert wire_json({"text": "漢"}) == '{"text": "漢"}'
    assert "漢".encode() in BODY


@pytest.mark.parametrize("seed", range(20))
def test_the_same_bytes_arrive_cut_somewhere_inside_a_character(seed: int) -> None:
    delivered = ScriptedResponse.sse(BODY).delivered_in(seed)
    assert b"".join(delivered.pieces) == BODY
    ends = [len(b"".join(delivered.pieces[: n + 1])) for n in range(len(delivered.pieces))]
    assert any(BODY[end] & 0xC0 == 0x80 for end in ends[:-1])  # a read ends mid-character
    (pause,) = delivered.pauses  # the server waits there, so the read really ends there
    assert BODY[ends[pause]] & 0xC0 == 0x80
    assert "with a character split" in delivered.delivery
    assert f"seed {seed}" in delivered.delivery


def test_a_seed_cuts_the_same_way_every_time_and_seeds_differ() -> None:
    cuts = {ScriptedResponse.sse(BODY).delivered_in(seed).pieces for seed in range(10)}
    assert ScriptedResponse.sse(BODY).delivered_in(3) == ScriptedResponse.sse(BODY).delivered_in(3)
    assert len(cuts) > 1


def test_a_disconnect_still_happens_after_the_same_bytes() -> None:
    pieces = (b"data: one\n\n", b"data: two\n\n", b"data: three\n\n")
    response = ScriptedResponse.sse(pieces, disconnect_after=2)
    delivered = response.delivered_in(7)
    assert delivered.body == response.body == b"data: one\n\ndata: two\n\n"


def test_the_evidence_says_how_the_body_was_delivered() -> None:
    delivered = ScriptedResponse.sse(BODY).delivered_in(5)
    exchange = Exchange(
        request={},
        status=200,
        content_type="text/event-stream",
        body=BODY.decode(),
        delivery=delivered.delivery,
    )
    served = wire_evidence([exchange], secret="")[1]
    assert served == f"served: 200 text/event-stream in {delivered.delivery}"


async def _reads_of(reply: ScriptedResponse) -> list[bytes]:
    """What a client on the server's own loop reads, read by read."""
    async with ReplicaServer(lambda request: reply) as server:
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        writer.write(b"GET /v1/x HTTP/1.1\r\nhost: replica\r\n\r\n")
        await writer.drain()
        reads = []
        while piece := await reader.read(65536):
            reads.append(piece)
        writer.close()
    return reads


async def test_on_the_clients_loop_a_read_still_ends_at_each_pause_and_the_body_is_whole() -> None:
    reply = ScriptedResponse(pieces=(b"ab", b"cd", b"", b"ef", b"gh"), pauses=frozenset({1, 3}))

    reads = await _reads_of(reply)

    assert len(reads) == 3
    assert reads[0].startswith(b"HTTP/1.1 200 OK\r\n")
    assert reads[0].endswith(b"\r\n\r\n2\r\nab\r\n2\r\ncd\r\n")
    assert reads[1:] == [b"2\r\nef\r\n", b"2\r\ngh\r\n0\r\n\r\n"]
