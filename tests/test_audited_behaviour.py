"""Behaviour a mutation audit found unpinned: each test names what a mutant would have changed
unnoticed (an imported error losing its grammar clauses, an Anthropic stop reason missing from
drift, a HAR request body never read, a factory dropping its model, settings edges)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from support import FAKE_KEY

from contracts import cassettes
from contracts.imported import read_case
from contracts.importer import import_file
from contracts.observed import Exchange
from contracts.protocols import protocol_for
from providers import OpenAiCompatibleProvider, load_profile
from providers.body import is_json
from providers.errors import InvalidRequestError
from providers.settings import ProviderSettings

REPO = Path(__file__).resolve().parent.parent
ANTHROPIC = protocol_for(load_profile("anthropic"))
GRAMMAR = ("grammar.connected-first", "grammar.terminal-sequence", "grammar.blocks")
URI = "https://api.openai.com/v1/chat/completions"


def _imported(tmp_path: Path, status: int, content_type: str, body: str) -> Path:
    """One exchange as another client recorded it in a HAR file, imported for openai."""
    request = {"model": "gpt-4o", "stream": True, "messages": [{"role": "user", "content": "Hi"}]}
    entry = {
        "request": {"method": "POST", "url": URI, "postData": {"text": json.dumps(request)}},
        "response": {
            "status": status,
            "headers": [{"name": "content-type", "value": content_type}],
            "content": {"text": body},
        },
    }
    source = tmp_path / "recorded.har"
    source.write_text(json.dumps({"log": {"version": "1.2", "entries": [entry]}}))
    (written,) = import_file(source, vendor="openai", root=tmp_path / "out").written
    return written


def test_an_imported_streamed_error_keeps_the_three_grammar_clauses(tmp_path: Path) -> None:
    chunk = {"choices": [{"index": 0, "delta": {"content": "Hel"}}]}
    error = {"error": {"message": "overloaded", "type": "server_error"}}
    body = f"data: {json.dumps(chunk)}\n\ndata: {json.dumps(error)}\n\n"
    case = read_case(_imported(tmp_path, 200, "text/event-stream", body))
    assert case.scenario.clauses == (*GRAMMAR, "errors.mid-stream")


def test_an_imported_error_answer_is_judged_on_its_error_clause_only(tmp_path: Path) -> None:
    body = json.dumps({"error": {"message": "Incorrect API key", "code": "invalid_api_key"}})
    case = read_case(_imported(tmp_path, 401, "application/json", body))
    assert case.scenario.clauses == ("errors.authentication",)
    assert case.scenario.fault is not None
    assert case.scenario.fault.status == 401


def test_a_har_request_body_is_read_into_the_cassette(tmp_path: Path) -> None:
    written = _imported(tmp_path, 401, "application/json", '{"error": {"message": "no"}}')
    [exchange] = cassettes.exchanges(written)
    assert exchange.request == {
        "model": "gpt-4o",
        "stream": True,
        "messages": [{"role": "user", "content": "Hi"}],
    }


def _sse(*events: dict[str, object]) -> str:
    return "".join(f"event: {e['type']}\ndata: {json.dumps(e)}\n\n" for e in events)


def test_a_streamed_anthropic_stop_reason_is_collected_for_drift() -> None:
    body = _sse(
        {"type": "message_start", "message": {"id": "m", "stop_reason": None, "usage": {}}},
        {"type": "message_delta", "delta": {"stop_reason": "max_tokens"}, "usage": {}},
        {"type": "message_stop"},
    )
    shape = ANTHROPIC.wire_shape(Exchange(None, 200, "text/event-stream", body))
    assert shape.finish_values == ("max_tokens",)
    assert dict(shape.traits)["event_types"] == ("message_start", "message_delta", "message_stop")


def test_a_whole_anthropic_message_stop_reason_is_collected_for_drift() -> None:
    body = json.dumps({"type": "message", "stop_reason": "end_turn", "content": []})
    shape = ANTHROPIC.wire_shape(Exchange(None, 200, "application/json", body))
    assert shape.finish_values == ("end_turn",)
    assert not shape.streamed


@pytest.mark.parametrize(
    ("body", "traits"),
    [
        (
            '{"type": "error", "error": {"type": "overloaded_error", "message": "busy"}}',
            {"error_shape": "anthropic", "error_type": "overloaded_error"},
        ),
        ('{"error": {"message": "busy"}}', {"error_shape": "other", "error_type": None}),
        ("upstream connect error", {"error_shape": "plain_text", "error_type": None}),
    ],
    ids=["anthropic", "openai-style", "plain-text"],
)
def test_anthropic_error_bodies_are_classed_by_their_shape(
    body: str, traits: dict[str, object]
) -> None:
    shape = ANTHROPIC.wire_shape(Exchange(None, 529, "application/json", body))
    assert dict(shape.traits) == traits
    mismatches = ANTHROPIC.mismatches(shape)
    assert mismatches == ([] if traits["error_shape"] == "anthropic" else [
        f"error_shape: protocol says 'anthropic', vendor sent {traits['error_shape']!r}"
    ])  # fmt: skip


@pytest.mark.parametrize("factory", ["glm", "claude_subscription"])
def test_named_vendor_factories_keep_the_model_asked_for(
    factory: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ZAI_API_KEY", FAKE_KEY)
    provider = getattr(OpenAiCompatibleProvider, factory)(model="asked-for-model")
    assert provider.model == "asked-for-model"


@pytest.mark.parametrize(
    "content_type", ["application/json", "application/problem+json", "Application/JSON; charset=x"]
)
def test_json_media_types_are_judged_as_json_whatever_the_body(content_type: str) -> None:
    assert is_json({"content-type": content_type}, b"not json at all")


@pytest.mark.parametrize(
    ("content_type", "body", "judged"),
    [
        ("text/plain", b'\xef\xbb\xbf \r\n{"error": 1}', True),
        ("text/plain", b"[1]", True),
        ("text/plain", b"<html>", False),
        ("text/plain", b"json", False),
        ("application/jsonp", b"x", False),
    ],
)
def test_other_bodies_are_json_only_when_they_start_like_json(
    content_type: str, body: bytes, judged: bool
) -> None:
    assert is_json({"content-type": content_type}, body) is judged


def _openai(**settings: object) -> OpenAiCompatibleProvider:
    return OpenAiCompatibleProvider.openai(api_key=FAKE_KEY, **settings)


def test_a_base_url_may_use_the_highest_port_and_loses_its_trailing_slash() -> None:
    settings = ProviderSettings(base_url="http://127.0.0.1:65535/v1/", api_key=FAKE_KEY, model="m")
    assert settings.base_url == "http://127.0.0.1:65535/v1"


@pytest.mark.parametrize("port", [0, 65536])
def test_a_base_url_port_out_of_range_is_refused(port: int) -> None:
    with pytest.raises(InvalidRequestError, match=f"port must be 1-65535, got {port}"):
        _openai(base_url=f"http://127.0.0.1:{port}/v1")


@pytest.mark.parametrize("key", ["   ", "\n\t"])
def test_a_whitespace_only_key_is_refused(key: str) -> None:
    with pytest.raises(InvalidRequestError, match="the API key is empty"):
        OpenAiCompatibleProvider.openai(api_key=key)
