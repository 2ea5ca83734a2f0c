"""Importing recorded traffic: every format round-trips, refusals are clean, scrubbing holds,
and replay judges the provider against the frozen expectation."""

from __future__ import annotations

import asyncio
import base64
import gzip
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import SecretStr

from contracts import cassettes, yaml_io
from contracts.checks import CHECKS, Context
from contracts.cli import bundled_factory, main
from contracts.imported import read_case
from contracts.importer import ImportRefused, Origin, detect, import_file
from contracts.runner import run_case
from providers import load_profile
from providers.types import (
    CompletionRequest,
    CompletionResponse,
    LlmProvider,
    ProviderCapabilities,
    StreamEvent,
    TextDelta,
    TokenCount,
)

REPO = Path(__file__).resolve().parent.parent
URI = "https://api.openai.com/v1/chat/completions"
KEY = "sk-proj-abcdefghijklmnopqrstuvwxyz012345"
CHUNKS = [
    {"id": "c1", "object": "chat.completion.chunk", "created": 1767225600, "model": "gpt-4o",
     "choices": [{"index": 0, "delta": {"role": "assistant", "content": "Hel"}}]},
    {"id": "c1", "object": "chat.completion.chunk", "created": 1767225600, "model": "gpt-4o",
     "choices": [{"index": 0, "delta": {"content": "lo!"}, "finish_reason": "stop"}]},
    {"id": "c1", "object": "chat.completion.chunk", "created": 1767225600, "model": "gpt-4o",
     "choices": [], "usage": {"prompt_tokens": 5, "completion_tokens": 2, "total_tokens": 7}},
]  # fmt: skip
SSE = "".join(f"data: {json.dumps(c)}\n\n" for c in CHUNKS) + "data: [DONE]\n\n"
REQUEST = {"model": "gpt-4o", "stream": True, "messages": [{"role": "user", "content": "Hi"}]}


def _vcr(body: Any) -> dict[str, Any]:
    return {
        "interactions": [
            {
                "request": {
                    "method": "POST",
                    "uri": URI,
                    "body": json.dumps(REQUEST),
                    "headers": {"authorization": [f"Bearer {KEY}"]},
                },
                "response": {
                    "status": {"code": 200, "message": "OK"},
                    "headers": {"content-type": ["text/event-stream"]},
                    "body": body,
                },
            }
        ],
        "version": 1,
    }


def _har() -> dict[str, Any]:
    content = {"mimeType": "text/event-stream", "encoding": "base64"}
    content["text"] = base64.b64encode(SSE.encode()).decode()
    entry = {
        "startedDateTime": "2026-01-01T00:00:00Z",
        "request": {"method": "POST", "url": URI, "postData": {"text": json.dumps(REQUEST)}},
        "response": {"status": 200, "headers": [], "content": content},
    }
    return {"log": {"version": "1.2", "entries": [entry]}}


RECORDINGS = {
    "vcr-yaml-string": ("vcr", lambda: yaml.safe_dump(_vcr({"string": SSE}))),
    "vcr-yaml-gzip": ("vcr", lambda: yaml.safe_dump(_vcr({"string": gzip.compress(SSE.encode())}))),
    "vcr-json-base64": (
        "vcr",
        lambda: json.dumps(_vcr({"base64_string": base64.b64encode(SSE.encode()).decode()})),
    ),
    "har": ("har", lambda: json.dumps(_har())),
    "chunks": ("chunks", lambda: "\n".join(json.dumps(c) for c in CHUNKS) + "\n"),
    "sse": ("sse", lambda: SSE),
}


@pytest.mark.parametrize("name", sorted(RECORDINGS))
def test_each_format_is_detected_and_round_trips(tmp_path: Path, name: str) -> None:
    form, make = RECORDINGS[name]
    source = tmp_path / f"{name}.txt"
    source.write_text(make())
    assert detect(source.read_text()) == form
    (written,) = import_file(source, vendor="openai", root=tmp_path / "out").written
    assert written == tmp_path / "out" / "openai" / "imported" / f"{name}.yaml"
    document = yaml.safe_load(written.read_text())
    assert document["meta"]["source"] == "imported"
    assert document["meta"]["model"] == "gpt-4o"
    expected = document["expected"]
    assert (expected["text"], expected["finish"], expected["stop_reason"]) == (
        "Hello!",
        "stop",
        "end_turn",
    )
    assert expected["usage"] == {
        "input_tokens": 5,
        "output_tokens": 2,
        "cache_read_tokens": 0,
        "cache_write_tokens": 0,
    }
    # Replayed through our provider, the recording yields exactly what was frozen.
    assert _verdicts(written, bundled_factory(load_profile("openai"))) == {}


def test_pydantic_ai_parsed_bodies_import_as_json(tmp_path: Path) -> None:
    response = {
        "object": "chat.completion",
        "model": "gpt-4o",
        "choices": [
            {
                "index": 0,
                "finish_reason": "tool_calls",
                "message": {
                    "role": "assistant",
                    "content": None,
                    "tool_calls": [
                        {
                            "id": "call_1",
                            "type": "function",
                            "function": {"name": "weather", "arguments": '{"city": "Paris"}'},
                        }
                    ],
                },
            }
        ],
        "usage": {"prompt_tokens": 9, "completion_tokens": 4},
    }
    cassette = _vcr(None)
    interaction = cassette["interactions"][0]
    interaction["request"] = {"method": "POST", "uri": URI, "parsed_body": REQUEST}
    interaction["response"]["headers"] = {"content-type": ["application/json"]}
    interaction["response"]["parsed_body"] = response
    source = tmp_path / "parsed.yaml"
    source.write_text(yaml.safe_dump(cassette))
    (written,) = import_file(source, vendor="openai", root=tmp_path).written
    expected = yaml.safe_load(written.read_text())["expected"]
    assert expected["path"] == "complete"
    assert expected["tool_calls"] == [
        {
            "id": "call_1",
            "name": "weather",
            "arguments": '{"city": "Paris"}',
            "input": {"city": "Paris"},
        }
    ]
    assert expected["stop_reason"] == "tool_use"
    assert _verdicts(written, bundled_factory(load_profile("openai"))) == {}


def test_credentials_never_reach_the_cassette(tmp_path: Path) -> None:
    leaky = SSE.replace("Hel", f"Hel{KEY}")  # a key pasted into the content itself
    source = tmp_path / "leaky.yaml"
    source.write_text(yaml.safe_dump(_vcr({"string": leaky})))
    (written,) = import_file(source, vendor="openai", root=tmp_path / "out").written
    text = written.read_text()
    assert KEY not in text
    assert "authorization" not in text.lower()
    assert cassettes.scan_for_secrets(tmp_path / "out") == []


@pytest.mark.parametrize(
    ("content", "says"),
    [
        ("just some notes\nnothing recorded here\n", "not a recording"),
        ('data: {"type": "response.output_text.delta", "delta": "x"}\n\n', "no Chat Completions"),
        ("interactions:\n- request: {}\n", "not a readable vcr"),
    ],
)
def test_unreadable_recordings_are_refused_with_exit_2_and_nothing_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str, says: str
) -> None:
    source = tmp_path / "bad.txt"
    source.write_text(content)
    out = tmp_path / "out"
    assert main(["import", str(source), "--vendor", "openai", "--cassettes", str(out)]) == 2
    assert says in capsys.readouterr().err
    assert not out.exists()


def test_a_failed_write_leaves_no_half_cassette(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = tmp_path / "ok.sse"
    source.write_text(SSE)

    def broken_rename(src: str, dst: str) -> None:
        raise OSError("disk full")

    monkeypatch.setattr("contracts.importer.os.replace", broken_rename)
    with pytest.raises(OSError, match="disk full"):
        import_file(source, vendor="openai", root=tmp_path / "out")
    assert list((tmp_path / "out").rglob("*")) == [
        tmp_path / "out" / "openai",
        tmp_path / "out" / "openai" / "imported",
    ]


def test_only_chat_completions_interactions_are_kept(tmp_path: Path) -> None:
    cassette = _vcr({"string": SSE})
    other = json.loads(json.dumps(cassette["interactions"][0]))
    other["request"]["uri"] = "https://example.com/picture.png"
    cassette["interactions"].insert(0, other)
    source = tmp_path / "mixed.yaml"
    source.write_text(yaml.safe_dump(cassette))
    result = import_file(source, vendor="openai", root=tmp_path)
    assert [p.name for p in result.written] == ["mixed.yaml"]
    assert "/picture.png is not a chat/completions request" in result.skipped[0]
    assert yaml.safe_load(result.written[0].read_text())["meta"]["origin"]["interaction"] == (
        "2 of 2"
    )


def test_refusal_is_typed() -> None:
    with pytest.raises(ImportRefused, match="use --format"):
        detect("<html></html>")


def test_bad_vendor_names_and_paths_outside_the_origin_are_refused(tmp_path: Path) -> None:
    source = tmp_path / "ok.sse"
    source.write_text(SSE)
    with pytest.raises(ImportRefused, match="lower-case"):
        import_file(source, vendor="Open AI", root=tmp_path)
    elsewhere = Origin(repository="acme/app", root=tmp_path / "elsewhere")
    with pytest.raises(ImportRefused, match="not under the origin root"):
        import_file(source, vendor="openai", root=tmp_path, origin=elsewhere)


# -- frozen expectations judge the provider ----------------------------------------------------

REAL = REPO / "cassettes" / "glm" / "imported" / "pydantic-ai_test_zai_thinking_stream.yaml"


class DropsLastTextFragment:
    """A broken adapter: it loses the final text delta of every stream."""

    def __init__(self, inner: LlmProvider) -> None:
        self.inner = inner

    @property
    def name(self) -> str:
        return self.inner.name

    @property
    def capabilities(self) -> ProviderCapabilities:
        return self.inner.capabilities

    async def complete(self, request: CompletionRequest) -> CompletionResponse:
        return await self.inner.complete(request)

    async def stream(self, request: CompletionRequest) -> AsyncIterator[StreamEvent]:
        events = [event async for event in self.inner.stream(request)]
        last_text = max(i for i, e in enumerate(events) if isinstance(e, TextDelta))
        for event in events[:last_text] + events[last_text + 1 :]:
            yield event

    def count_tokens(self, request: CompletionRequest) -> TokenCount:
        return self.inner.count_tokens(request)


def _verdicts(path: Path, factory: Any) -> dict[str, str]:
    """Failing clauses of the imported case at `path`, replayed through `factory`."""
    case = read_case(path)
    root = path.parent.parent.parent
    profile = load_profile(path.parent.parent.name)
    outcome = asyncio.run(run_case(case, profile, factory, mode="replay", cassette_root=root))
    assert outcome.provenance == "imported"
    context = Context(case, profile, outcome)
    found = {clause: CHECKS[clause](context) for clause in case.scenario.clauses}
    return {clause: str(why) for clause, why in found.items() if why not in (None, "not exercised")}


def test_the_frozen_expectation_catches_an_adapter_that_drops_the_last_fragment() -> None:
    base = bundled_factory(load_profile("glm"))
    assert _verdicts(REAL, base) == {}

    def broken(base_url: str, key: SecretStr) -> LlmProvider:
        return DropsLastTextFragment(base(base_url, key))

    failures = _verdicts(REAL, broken)
    # One fault, one clause: lost answer text is text.fidelity's alone.
    assert set(failures) == {"text.fidelity"}
    assert "!= sent" in failures["text.fidelity"]


def test_replay_judges_against_the_frozen_block_not_a_fresh_reading(tmp_path: Path) -> None:
    copy = tmp_path / "glm" / "imported" / REAL.name
    copy.parent.mkdir(parents=True)
    document = yaml.safe_load(REAL.read_text())
    document["expected"]["stop_reason"] = "max_tokens"  # what a reviewer would see in a diff
    copy.write_text(cassettes.dump(document))
    failures = _verdicts(copy, bundled_factory(load_profile("glm")))
    # A max_tokens stop is stop.max-tokens's to judge (stop.mapping keeps to the raw value).
    assert set(failures) == {"stop.max-tokens"}


def test_every_bundled_imported_cassette_has_provenance_and_a_frozen_block() -> None:
    found = sorted((REPO / "cassettes").glob("*/imported/*.yaml"))
    vendors = {path.parent.parent.name for path in found}
    assert len(found) >= 30
    assert len(vendors) >= 6
    for path in found:
        document = yaml_io.load(path.read_text())  # libyaml: a tenth of the pure-Python time
        meta = document["meta"]
        assert meta["source"] == "imported", path
        assert {"repository", "path", "commit"} <= meta["origin"].keys(), path
        assert meta["license"].startswith(("MIT", "Apache-2.0")), path
        assert read_case(path).expected is not None
