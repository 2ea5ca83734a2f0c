"""How an imported recording becomes a contract case: its id, the clauses it can speak to,
the stand-in request, the answer or fault it stands for, and where it says it came from."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from contracts.imported import (
    COMPLETE_CLAUSES,
    STAND_IN,
    STREAM_CLAUSES,
    imported_cases,
    read_case,
)
from contracts.importer import Origin, import_file

URI = "https://api.openai.com/v1/chat/completions"
CHUNK = {"choices": [{"index": 0, "delta": {"content": "Hi!"}, "finish_reason": "stop"}]}
SSE = f"data: {json.dumps(CHUNK)}\n\ndata: [DONE]\n\n"
ANSWER = {
    "choices": [
        {"index": 0, "message": {"role": "assistant", "content": "Hi!"}, "finish_reason": "stop"}
    ]
}


def _har(
    tmp_path: Path,
    *,
    messages: list[dict[str, object]] | None = None,
    body: str = SSE,
    content_type: str = "text/event-stream",
    name: str = "recorded",
    origin: Origin | None = None,
) -> Path:
    request = {"model": "gpt-4o", "messages": messages or [{"role": "user", "content": "Hi"}]}
    entry = {
        "request": {"method": "POST", "url": URI, "postData": {"text": json.dumps(request)}},
        "response": {
            "status": 200,
            "headers": [{"name": "content-type", "value": content_type}],
            "content": {"text": body},
        },
    }
    source = tmp_path / f"{name}.har"
    source.write_text(json.dumps({"log": {"version": "1.2", "entries": [entry]}}))
    kwargs = {"origin": origin} if origin else {}
    (written,) = import_file(source, vendor="openai", root=tmp_path / "out", **kwargs).written
    return written


def test_a_streamed_answer_is_a_stream_case_on_the_stream_clauses(tmp_path: Path) -> None:
    case = read_case(_har(tmp_path))
    assert case.id == "imported/recorded"
    assert case.scenario.id == case.id
    assert case.scenario.paths == ("stream",)
    assert case.scenario.clauses == STREAM_CLAUSES
    assert case.scenario.fault is None
    assert case.scenario.answer is not None
    assert case.scenario.answer.text == ("Hi!",)
    assert case.finish == "stop"
    assert case.expected is not None
    assert case.expected.text == "Hi!"


def test_a_whole_answer_is_a_complete_case_on_the_complete_clauses(tmp_path: Path) -> None:
    case = read_case(_har(tmp_path, body=json.dumps(ANSWER), content_type="application/json"))
    assert case.scenario.paths == ("complete",)
    assert case.scenario.clauses == COMPLETE_CLAUSES


@pytest.mark.parametrize(
    ("messages", "asked"),
    [
        ([{"role": "user", "content": "first"}, {"role": "user", "content": "last"}], "last"),
        ([{"role": "user", "content": "ask"}, {"role": "assistant", "content": "no"}], "ask"),
        ([{"role": "user", "content": [{"type": "text", "text": "parts"}]}], STAND_IN),
        ([{"role": "user", "content": ""}], STAND_IN),
        ([{"role": "system", "content": "only a system prompt"}], STAND_IN),
    ],
    ids=["last-user", "skips-assistant", "parts", "empty", "no-user"],
)
def test_the_case_asks_with_the_last_plain_user_text(
    tmp_path: Path, messages: list[dict[str, object]], asked: str
) -> None:
    case = read_case(_har(tmp_path, messages=messages))
    assert case.scenario.request.messages == ({"role": "user", "content": asked},)


def test_the_description_names_the_origin_repository_or_else_the_file(tmp_path: Path) -> None:
    origin = Origin(repository="owner/name", commit="c" * 40)
    from_repository = read_case(_har(tmp_path, name="a", origin=origin))
    assert from_repository.scenario.description == "imported from owner/name"
    from_file = read_case(_har(tmp_path, name="b"))
    assert from_file.scenario.description == "imported from b.har"


def test_imported_cases_are_the_vendors_recordings_in_name_order(tmp_path: Path) -> None:
    for name in ("zeta", "alpha"):
        _har(tmp_path, name=name)
    (tmp_path / "out" / "openai" / "imported" / "notes.txt").write_text("not a cassette")
    cases = imported_cases("openai", tmp_path / "out")
    assert [case.id for case in cases] == ["imported/alpha", "imported/zeta"]
    assert imported_cases("mistral", tmp_path / "out") == []
