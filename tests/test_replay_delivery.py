"""Cassette replay serves the recorded bytes over loopback, each body cut into reads as a
network would (mid-line, mid-character, several events to a read), seeded per case, and
the evidence names the cut; a request the cassette does not hold is named, not served."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from contracts.cli import bundled_factory
from contracts.replay import CassettePlayer, first_difference, request_difference
from contracts.replica.server import RecordedRequest
from contracts.runner import CaseSetupError, run_case
from contracts.spec import Case, cases_for, load_scenarios
from providers import load_profile

CASSETTES = Path(__file__).resolve().parent.parent / "cassettes"


def _case(vendor: str, scenario: str) -> Case:
    found = next(s for s in load_scenarios() if s.id == scenario)
    return cases_for(found, load_profile(vendor))[0]


def _replayed(vendor: str, scenario: str, root: Path = CASSETTES) -> list[str]:
    profile = load_profile(vendor)
    outcome = asyncio.run(
        run_case(
            _case(vendor, scenario),
            profile,
            bundled_factory(profile),
            mode="replay",
            cassette_root=root,
        )
    )
    assert outcome.stream_error is None
    return [exchange.delivery for exchange in outcome.exchanges]


def test_a_replayed_body_is_cut_into_reads_named_with_the_case_s_seed() -> None:
    case = _case("openai", "text_unicode")
    stream, complete = _replayed("openai", "text_unicode")
    assert "with a character split" in stream
    assert f"(seed {case.seed})" in stream
    assert f"(seed {case.seed})" in complete
    assert _replayed("openai", "text_unicode") == [stream, complete]  # the same every run


def test_other_cases_are_cut_otherwise() -> None:
    deliveries = {_replayed("openai", s)[0] for s in ("text_basic", "text_unicode", "thinking")}
    assert len(deliveries) == 3


def _request(path: str, body: bytes) -> RecordedRequest:
    return RecordedRequest("POST", path, {}, body, 0.0)


def test_the_player_names_the_field_a_request_differs_in_and_plays_each_once() -> None:
    recorded = {
        "request": {
            "method": "POST",
            "uri": "https://api.example/v1/chat/completions",
            "body": {"json": {"model": "m", "temperature": 0.25}},
        },
        "response": {"status": {"code": 200}, "headers": {}, "body": {"text": "ok"}},
    }
    player = CassettePlayer([recorded], imported=False, seed=1)
    wrong = player(_request("/v1/chat/completions", b'{"model": "m", "temperature": 0.5}'))
    assert wrong.status == 400
    assert player.unmatched == ["body differs: temperature: recorded 0.25, sent 0.5"]
    assert player.unplayed == 1
    right = player(_request("/v1/chat/completions", b'{"temperature": 0.25, "model": "m"}'))
    assert (right.status, right.body, player.unplayed) == (200, b"ok", 0)
    again = player(_request("/v1/chat/completions", b'{"temperature": 0.25, "model": "m"}'))
    assert again.status == 400
    assert player.unmatched[-1] == "every recorded interaction was already played"


def test_an_imported_request_matches_on_its_endpoint_alone() -> None:
    recorded = {
        "request": {"method": "POST", "uri": "https://proxy.example/x/chat/completions"},
        "response": {"status": {"code": 200}, "headers": {}, "body": {"text": "ok"}},
    }
    player = CassettePlayer([recorded], imported=True, seed=1)
    assert player(_request("/v1/chat/completions", b"{}")).status == 200
    other = CassettePlayer([recorded], imported=True, seed=1)
    assert other(_request("/v1/responses", b"{}")).status == 400
    assert other.unmatched == ["endpoint differs: responses != completions"]


def test_a_changed_request_is_a_cassette_problem_naming_the_field(tmp_path: Path) -> None:
    target = tmp_path / "openai" / "text_basic.yaml"
    target.parent.mkdir()
    text = (CASSETTES / "openai" / "text_basic.yaml").read_text()
    target.write_text(text.replace("temperature: 0.5", "temperature: 0.25"))
    with pytest.raises(CaseSetupError, match=r"temperature: recorded 0\.25, sent 0\.5"):
        _replayed("openai", "text_basic", tmp_path)


@pytest.mark.parametrize(
    ("recorded", "sent", "said"),
    [
        ({"a": 1}, [1], "body: recorded {'a': 1}, sent [1]"),
        ({"maX": [1, 2]}, {"maX": [1, 3]}, "maX[1]: recorded 2, sent 3"),
        ({"m": {"taX": 1}}, {"m": {"taX": 2}}, "m.taX: recorded 1, sent 2"),
        ({"m": 1}, {"m": 1}, None),
    ],
)
def test_the_first_difference_is_named_by_its_whole_path(
    recorded: object, sent: object, said: str | None
) -> None:
    """A dict against a list differs as a whole body; a path keeps every character of its
    field names, whatever they end in."""
    assert first_difference(recorded, sent) == said


def test_a_sent_body_that_is_no_utf8_is_a_difference_not_a_crash() -> None:
    recorded = {"method": "POST", "uri": "http://h/v1/chat/completions", "body": {"json": {"a": 1}}}
    difference = request_difference(
        recorded, _request("/v1/chat/completions", b"\xff\xfe"), imported=False
    )
    assert difference == "body differs: body: recorded {'a': 1}, sent '\ufffd\ufffd'"


def test_a_played_response_keeps_its_recorded_headers_but_not_their_framing() -> None:
    recorded = {
        "request": {"method": "POST", "uri": "http://h/v1/chat/completions", "body": {}},
        "response": {
            "status": {"code": 200},
            "headers": {"x-request-id": ["req_7"], "Content-Length": ["2"], "empty": []},
            "body": {"text": "ok"},
        },
    }
    player = CassettePlayer([recorded], imported=False, seed=1)
    reply = player(_request("/v1/chat/completions", b""))
    assert reply.headers == {"x-request-id": "req_7"}


def test_a_request_nothing_matches_is_refused_with_a_replay_error_body() -> None:
    reply = CassettePlayer([], imported=False, seed=1)(_request("/v1/chat/completions", b"{}"))
    assert reply.status == 400
    assert json.loads(reply.body) == {
        "error": {
            "message": "replay: no recorded interaction matches this request: every recorded "
            "interaction was already played",
            "type": "replay",
        }
    }
