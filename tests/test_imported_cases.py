"""How an imported recording becomes a contract case: its id, the clauses it can speak to,
the stand-in request, the answer or fault it stands for, and where it says it came from."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from contracts.imported import (
    COMPLETE_CLAUSES,
    STAND_IN,
    STREAM_CLAUSES,
    ImportedCassetteError,
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
    status: int = 200,
) -> Path:
    request = {"model": "gpt-4o", "messages": messages or [{"role": "user", "content": "Hi"}]}
    entry = {
        "request": {"method": "POST", "url": URI, "postData": {"text": json.dumps(request)}},
        "response": {
            "status": status,
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


def test_an_imported_error_expects_the_error_class_frozen_for_its_status(tmp_path: Path) -> None:
    body = '{"error": {"message": "no"}}'
    case = read_case(_har(tmp_path, body=body, content_type="application/json", status=401))
    assert case.scenario.expect.error == "AuthenticationError"
    assert case.scenario.answer is None


def test_a_recording_without_origin_is_described_by_its_file(tmp_path: Path) -> None:
    path = _har(tmp_path, name="plain")
    document = yaml.safe_load(path.read_text())
    del document["meta"]["origin"]
    path.write_text(yaml.safe_dump(document))
    assert read_case(path).scenario.description == "imported from plain.yaml"


def test_a_broken_imported_cassette_says_to_import_it_again(tmp_path: Path) -> None:
    path = _har(tmp_path)
    path.write_text("interactions: [\n")
    with pytest.raises(ImportedCassetteError, match=r"not valid YAML.*`llm-contracts import`"):
        read_case(path)


def test_an_imported_cassette_without_interactions_is_refused(tmp_path: Path) -> None:
    path = _har(tmp_path)
    document = yaml.safe_load(path.read_text())
    document["interactions"] = []
    path.write_text(yaml.safe_dump(document))
    with pytest.raises(
        ImportedCassetteError,
        match=r"recorded\.yaml: no interaction to replay; re-import the recording",
    ):
        read_case(path)
