"""The importer reads each protocol's traffic: Chat Completions, Anthropic Messages and the
Responses API, each judged by its own reader, with each protocol's own mid-stream error frozen
as an error."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from contracts.importer import ImportRefused, import_file
from contracts.protocols import protocol_for
from contracts.spec import Answer, UsageSpec
from providers import load_profile

ANSWER = Answer(text=("Hel", "lo!"), finish="stop", usage=UsageSpec(prompt=5, completion=2))


def _served(vendor: str, answer: Answer) -> str:
    """The answer as the protocol of `vendor` streams it (request asks for a stream)."""
    protocol = protocol_for(load_profile(vendor))
    response = protocol.answer_response(answer, {"model": "m", "stream": True})
    return response.body.decode()


def _vcr(uri: str, body: str) -> dict[str, Any]:
    response = {
        "status": {"code": 200, "message": "OK"},
        "headers": {"content-type": ["text/event-stream"]},
        "body": {"string": body},
    }
    request = {"method": "POST", "uri": uri, "body": json.dumps({"model": "m", "stream": True})}
    return {"interactions": [{"request": request, "response": response}], "version": 1}


def _import(tmp_path: Path, vendor: str, uri: str, body: str) -> dict[str, Any]:
    source = tmp_path / "recording.yaml"
    source.write_text(yaml.safe_dump(_vcr(uri, body)), encoding="utf-8")
    result = import_file(source, vendor=vendor, root=tmp_path / "out")
    [written] = result.written
    expected: dict[str, Any] = yaml.safe_load(written.read_text(encoding="utf-8"))["expected"]
    return expected


@pytest.mark.parametrize(
    ("vendor", "uri", "finish"),
    [
        ("openai", "https://api.openai.com/v1/chat/completions", "stop"),
        ("anthropic", "https://api.anthropic.com/v1/messages", "end_turn"),
        ("openai_responses", "https://api.openai.com/v1/responses", "completed"),
    ],
)
def test_each_protocols_stream_is_imported_and_read_by_its_own_reader(
    tmp_path: Path, vendor: str, uri: str, finish: str
) -> None:
    expected = _import(tmp_path, vendor, uri, _served(vendor, ANSWER))
    assert (expected["text"], expected["finish"], expected["stop_reason"]) == (
        "Hello!",
        finish,
        "end_turn",
    )
    assert expected["error"] is None


@pytest.mark.parametrize("vendor", ["openai", "anthropic", "openai_responses"])
def test_each_protocols_midstream_error_is_frozen_as_an_error(tmp_path: Path, vendor: str) -> None:
    uri = "https://example.test/v1/" + protocol_for(load_profile(vendor)).endpoint
    failing = Answer(text=("Hel",), error="the model is overloaded")
    expected = _import(tmp_path, vendor, uri, _served(vendor, failing))
    assert expected["error"] == "StreamError"


@pytest.mark.parametrize(
    ("endpoint", "vendor_of_protocol"),
    [("messages", "anthropic"), ("responses", "openai_responses")],
)
def test_a_vendor_without_profile_is_read_as_the_protocol_its_recording_called(
    tmp_path: Path, endpoint: str, vendor_of_protocol: str
) -> None:
    body = _served(vendor_of_protocol, ANSWER)
    expected = _import(tmp_path, "someone", f"https://someone.test/v1/{endpoint}", body)
    assert expected["text"] == "Hello!"


def test_another_protocols_traffic_is_refused_naming_both(tmp_path: Path) -> None:
    source = tmp_path / "recording.yaml"
    chat = _vcr("https://api.openai.com/v1/chat/completions", _served("openai", ANSWER))
    source.write_text(yaml.safe_dump(chat), encoding="utf-8")
    with pytest.raises(ImportRefused, match=r"not a responses request \(Responses API\)"):
        import_file(source, vendor="openai_responses", root=tmp_path / "out")
