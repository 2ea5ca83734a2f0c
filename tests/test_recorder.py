"""The streaming recorder through real loopback servers: recordings in concurrent tasks of one
process keep their own traffic (nothing process-wide is patched), compressed answers are kept
decoded, and a body that does not decode, or decodes past the cap, ends in RecordingError with
no cassette written."""

from __future__ import annotations

import asyncio
import gzip
import json
from pathlib import Path

import httpx2
import pytest

from contracts import cassettes
from contracts.recorder import RecordingError, recording_client
from contracts.replica import ReplicaServer, ScriptedResponse


def _json_server(name: str) -> ReplicaServer:
    return ReplicaServer(lambda request: ScriptedResponse.json({"server": name}))


async def test_concurrent_recordings_through_one_client_keep_their_own_traffic(
    tmp_path: Path,
) -> None:
    async def record(client: httpx2.AsyncClient, server: ReplicaServer, name: str) -> None:
        with cassettes.recording(tmp_path / f"{name}.yaml", {"vendor": name}, []):
            for turn in range(3):
                await client.post(f"{server.base_url}/chat/completions", json={"turn": turn})
                await asyncio.sleep(0)  # let the other recording's task run in between

    with _json_server("a") as first, _json_server("b") as second:
        async with recording_client() as client:
            await asyncio.gather(record(client, first, "a"), record(client, second, "b"))
    for name in ("a", "b"):
        interactions = cassettes.read_interactions(tmp_path / f"{name}.yaml")
        assert [i["response"]["body"]["json"] for i in interactions] == [{"server": name}] * 3
        assert [i["request"]["body"]["json"]["turn"] for i in interactions] == [0, 1, 2]


async def test_outside_a_recording_the_client_records_nothing(tmp_path: Path) -> None:
    with _json_server("a") as server:
        async with recording_client() as client:
            response = await client.post(f"{server.base_url}/x", json={})
    assert response.json() == {"server": "a"}
    assert server.requests[0].headers.get("accept-encoding") != "identity"


def _compressed(body: bytes) -> ReplicaServer:
    headers = {"content-type": "application/json", "content-encoding": "gzip"}
    return ReplicaServer(lambda request: ScriptedResponse(pieces=(body,), headers=headers))


async def test_a_compressed_answer_is_kept_decoded(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    answer = {"choices": [{"message": {"content": "hi"}}]}
    with _compressed(gzip.compress(json.dumps(answer).encode())) as server:
        async with recording_client() as client:
            with cassettes.recording(path, {"vendor": "v"}, []):
                response = await client.post(f"{server.base_url}/x", json={})
    assert response.json() == answer, "the provider reads the answer as sent"
    assert server.requests[0].headers["accept-encoding"] == "identity"
    (interaction,) = cassettes.read_interactions(path)
    assert interaction["response"]["body"] == {"json": answer}


@pytest.mark.parametrize(
    ("body", "says"),
    [
        (b"\x1f\x8b\x08\x00not gzip at all", "does not decode"),
        (gzip.compress(b"a" * (4 * 1024 * 1024)), "passed the recording cap of 65536 bytes"),
    ],
    ids=["corrupt", "bomb"],
)
async def test_a_compressed_body_that_cannot_be_kept_ends_in_recording_error(
    tmp_path: Path, body: bytes, says: str
) -> None:
    path = tmp_path / "c.yaml"
    with _compressed(body) as server:
        async with recording_client() as client:
            with (
                cassettes.recording(path, {"vendor": "v"}, [], max_bytes=65536) as recording,
                pytest.raises(RecordingError, match=says),
            ):
                await client.post(f"{server.base_url}/x", json={})
    assert recording.failure is not None
    assert not path.exists()
