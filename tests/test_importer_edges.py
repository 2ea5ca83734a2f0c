"""Importer edges a mutation audit found unpinned: which exchanges are skipped and why, where
the model and the content type come from, the meta of a vendor without a profile or of a
bare body, and the refusal of a body that is not base64."""

from __future__ import annotations

import base64
import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from contracts.importer import ImportRefused, import_file

CHAT = "https://api.example.com/v1/chat/completions"
ANSWER = {"choices": [{"index": 0, "message": {"content": "Hi"}, "finish_reason": "stop"}]}


def _har(tmp_path: Path, *, url: str = CHAT, body: object = ANSWER, **more: Any) -> Path:
    request = {"model": "asked-model", "messages": [{"role": "user", "content": "Hi"}]}
    response: dict[str, Any] = {
        "status": 200,
        "headers": more.pop("headers", [{"name": "Content-Type", "value": "application/json"}]),
        "content": {"text": body if isinstance(body, str) else json.dumps(body), **more},
    }
    entry = {
        "request": {"method": "post", "url": url, "postData": {"text": json.dumps(request)}},
        "response": response,
    }
    source = tmp_path / "recorded.har"
    source.write_text(json.dumps({"log": {"version": "1.2", "entries": [entry]}}))
    return source


def _import(source: Path, vendor: str = "openai") -> list[Path]:
    return import_file(source, vendor=vendor, root=source.parent / "out").written


def _document(path: Path) -> dict[str, Any]:
    return dict(yaml.safe_load(path.read_text(encoding="utf-8")))


def test_an_exchange_with_another_endpoint_is_refused_naming_it(tmp_path: Path) -> None:
    with pytest.raises(
        ImportRefused,
        match=r"nothing to import \(interaction 1: POST /v1/embeddings is not a "
        r"chat/completions request \(Chat Completions\)\)$",
    ):
        _import(_har(tmp_path, url="https://api.example.com/v1/embeddings"))


def test_a_json_answer_without_choices_or_error_is_refused(tmp_path: Path) -> None:
    with pytest.raises(
        ImportRefused,
        match=r"nothing to import \(interaction 1: the response body carries no Chat "
        r"Completions answer\)$",
    ):
        _import(_har(tmp_path, body={"data": []}))


def test_a_json_error_answer_is_chat_traffic(tmp_path: Path) -> None:
    written = _import(_har(tmp_path, body={"error": {"message": "no"}}))
    assert len(written) == 1


def test_the_recorded_content_type_header_outranks_the_har_mime_type(tmp_path: Path) -> None:
    source = _har(tmp_path, mimeType="text/plain")
    [written] = _import(source)
    response = _document(written)["interactions"][0]["response"]
    assert response["headers"]["content-type"] == ["application/json"]


def test_without_a_content_type_header_the_mime_type_is_used(tmp_path: Path) -> None:
    [written] = _import(_har(tmp_path, headers=[], mimeType="application/json"))
    response = _document(written)["interactions"][0]["response"]
    assert response["headers"]["content-type"] == ["application/json"]


def test_the_model_is_the_answers_else_the_requests(tmp_path: Path) -> None:
    [answered] = _import(_har(tmp_path, body={**ANSWER, "model": "answered-model"}))
    assert _document(answered)["meta"]["model"] == "answered-model"
    other = tmp_path / "other"
    other.mkdir()
    [asked] = _import(_har(other))
    assert _document(asked)["meta"]["model"] == "asked-model"


def test_the_meta_says_when_it_was_imported_to_the_second(tmp_path: Path) -> None:
    before = dt.datetime.now(dt.UTC).replace(microsecond=0)
    [written] = _import(_har(tmp_path))
    stamp = _document(written)["meta"]["imported_at"]
    imported = dt.datetime.fromisoformat(stamp)
    assert imported.microsecond == 0
    assert before <= imported <= dt.datetime.now(dt.UTC)


def test_a_vendor_without_a_profile_is_imported_with_the_standard_map(tmp_path: Path) -> None:
    [written] = _import(_har(tmp_path), vendor="acme_unprofiled")
    meta = _document(written)["meta"]
    assert meta["profile"] == "none for acme_unprofiled at import: stop reasons by the standard map"
    assert _document(written)["expected"]["stop_reason"] == "end_turn"


def test_a_bare_body_says_its_request_is_a_stand_in(tmp_path: Path) -> None:
    source = tmp_path / "body.sse"
    source.write_text(
        'data: {"choices": [{"index": 0, "delta": {"content": "x"}, "finish_reason": "stop"}]}\n\n'
    )
    [written] = _import(source)
    document = _document(written)
    assert document["meta"]["request"] == (
        "not recorded: the request under interactions is a stand-in for replay"
    )
    assert "profile" not in document["meta"]
    assert (
        document["interactions"][0]["request"]["uri"]
        == "https://api.openai.com/v1/chat/completions"
    )


def test_a_body_marked_base64_that_is_not_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ImportRefused, match="a body marked base64 is not valid base64"):
        _import(_har(tmp_path, body="not base64!", encoding="base64"))
    good = base64.b64encode(json.dumps(ANSWER).encode()).decode()
    assert len(_import(_har(tmp_path, body=good, encoding="base64"))) == 1


def test_an_unprofiled_vendor_takes_the_protocol_of_the_endpoint_called(tmp_path: Path) -> None:
    message = {
        "type": "message",
        "role": "assistant",
        "content": [{"type": "text", "text": "Hi"}],
        "stop_reason": "end_turn",
        "usage": {"input_tokens": 2, "output_tokens": 1},
    }
    source = _har(tmp_path, url="https://api.example.com/v1/messages/", body=message)
    [written] = import_file(source, vendor="acme_unprofiled", root=tmp_path / "out").written
    assert _document(written)["expected"]["text"] == "Hi"
