"""Verdicts that say what happened, against a lenient live server: one that accepts any key and
any model, ignores max_tokens and never calls a tool. Each fault shows in its own clause only,
and what nothing could provoke is `not-exercised` with the reason, never `pass` and never
`unsupported`."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from contracts.checks import CHECKS, NOT_EXERCISED, Context
from contracts.cli import bundled_factory, main
from contracts.recorder import recording_client
from contracts.replica.server import RecordedRequest, ReplicaServer, ScriptedResponse
from contracts.report import Certificate, render_markdown, render_table
from contracts.runner import KEYLESS, LiveTarget, run_case
from contracts.spec import cases_for, load_scenarios
from contracts.wire import chunk, sse_event
from providers.vendors import load_profile

#: More words than the max_tokens scenario's cap of 16.
WORDS = [f"w{number}" for number in range(20)]


class Lenient:
    """Answers every request 200 with `words` words, finish `stop`, whatever it was asked."""

    def __init__(self, words: int = len(WORDS)) -> None:
        self.words = WORDS[:words]

    def __call__(self, request: RecordedRequest) -> ScriptedResponse:
        count = len(self.words)
        usage = {"prompt_tokens": 3, "completion_tokens": count, "total_tokens": 3 + count}
        if not request.json().get("stream"):
            message = {"role": "assistant", "content": " ".join(self.words)}
            return ScriptedResponse.json(
                {
                    "object": "chat.completion",
                    "usage": usage,
                    "choices": [{"index": 0, "message": message, "finish_reason": "stop"}],
                }
            )
        chunks = [chunk({"role": "assistant", "content": ""})]
        chunks += [chunk({"content": f" {w}" if i else w}) for i, w in enumerate(self.words)]
        chunks.append(chunk(finish="stop", usage=usage))
        events = [sse_event(json.dumps(c)) for c in chunks]
        return ScriptedResponse.sse([*events, sse_event("[DONE]")])


def _certify_lenient(out: Path, *options: str) -> dict[str, Any]:
    with ReplicaServer(Lenient()) as server:
        main(
            ["certify", "--base-url", server.base_url, "--model", "m", "--out", str(out), *options]
        )
    document: dict[str, Any] = json.loads(out.read_text())
    return document


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Certified with a key, which the lenient server does not check."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("LENIENT_KEY", "sk-lenient-0000000000000000")
        out = tmp_path_factory.mktemp("lenient") / "cert.json"
        return _certify_lenient(out, "--api-key-env", "LENIENT_KEY")


def _clause(certificate: dict[str, Any], clause: str) -> dict[str, Any]:
    result: dict[str, Any] = certificate["vendors"][0]["clauses"][clause]
    return result


@pytest.mark.parametrize(
    ("clause", "says"),
    [
        ("errors.authentication", "the server accepted an invalid key (it answered 200 instead)"),
        ("errors.model-not-found", "the server accepted a model that does not exist"),
        ("stop.max-tokens", "ignored the max-tokens cap: 20 completion tokens for a cap of 16"),
    ],
)
def test_each_fault_fails_its_clause_saying_what_happened(
    certificate: dict[str, Any], clause: str, says: str
) -> None:
    result = _clause(certificate, clause)
    assert result["verdict"] == "fail"
    assert says in result["evidence"][0]
    assert result["troubleshooting"]
    assert result["wire"][0].startswith("request (stream): {")
    assert result["wire"][1].startswith("served: 200 ")


def test_no_clause_judges_a_fault_that_did_not_happen(certificate: dict[str, Any]) -> None:
    failing = {c for c, r in certificate["vendors"][0]["clauses"].items() if r["verdict"] == "fail"}
    assert failing == {
        "errors.authentication",
        "errors.model-not-found",
        "stop.max-tokens",
        # It ignores tool_choice and response_format as well.
        "tools.choice",
        "structured.output",
    }
    assert _clause(certificate, "grammar.connected-first")["verdict"] == "pass"


@pytest.mark.parametrize("clause", ["tools.single", "tools.parallel"])
def test_a_model_that_declines_the_offered_tools_does_not_exercise_them(
    certificate: dict[str, Any], clause: str
) -> None:
    result = _clause(certificate, clause)
    assert result["verdict"] == "not-exercised"
    assert result["reason"].startswith(
        "the model answered without calling the offered tools ['get_weather'"
    )


def test_a_keyless_endpoint_is_certified_without_trying_a_key(tmp_path: Path) -> None:
    keyless = _certify_lenient(tmp_path / "cert.json", "--no-key")
    clauses = keyless["vendors"][0]["clauses"]
    assert clauses["errors.authentication"]["verdict"] == "not-exercised"
    assert clauses["errors.authentication"]["reason"] == KEYLESS
    assert clauses["secrets.never-shown"]["verdict"] == "not-exercised"
    failing = {c for c, r in clauses.items() if r["verdict"] == "fail"}
    assert failing == {
        "errors.model-not-found",
        "stop.max-tokens",
        "tools.choice",
        "structured.output",
    }
    assert keyless["vendors"][0]["provenance"]["text_basic"] == "live"


def test_what_nothing_could_provoke_is_not_exercised(certificate: dict[str, Any]) -> None:
    for clause in ("errors.unavailable", "errors.rate-limit", "stream.truncation"):
        assert _clause(certificate, clause)["verdict"] == "not-exercised"
        assert "cannot be made to fail on cue" in _clause(certificate, clause)["reason"]


def test_table_and_markdown_keep_not_exercised_apart(certificate: dict[str, Any]) -> None:
    parsed = Certificate.model_validate(certificate)
    table = render_table(parsed, colour=False)
    assert "errors.unavailable         n/e" in table
    assert "n/e: not exercised" in table
    markdown = render_markdown(parsed)
    assert "| `errors.unavailable` | n/e |" in markdown
    assert "### endpoint `stop.max-tokens`" in markdown
    assert "Troubleshooting: Usually the vendor's length value" in markdown


def test_old_certificates_without_the_new_fields_still_load(tmp_path: Path) -> None:
    old = {
        "mode": "replay",
        "vendors": [
            {
                "vendor": "v",
                "model": "m",
                "base_url_host": "h",
                "clauses": {"a.b": {"verdict": "unsupported", "level": "must"}},
            }
        ],
    }
    assert Certificate.model_validate(old).vendors[0].clauses["a.b"].verdict == "unsupported"


@pytest.mark.parametrize(
    ("words", "verdict"),
    [
        (15, NOT_EXERCISED),  # finished before the cap of 16: nothing to judge
        (16, NOT_EXERCISED),  # ended naturally on the last allowed token (vLLM counts the end)
        (17, "the server ignored the max-tokens cap: 17 completion tokens for a cap of 16"),
    ],
)
def test_max_tokens_judged_around_the_cap(words: int, verdict: str, tmp_path: Path) -> None:
    profile = load_profile("openai")
    [case] = cases_for(next(s for s in load_scenarios() if s.id == "max_tokens"), profile)
    with ReplicaServer(Lenient(words)) as server:
        outcome = asyncio.run(
            run_case(
                case,
                profile,
                bundled_factory(profile, http_client=recording_client()),
                mode="live",
                cassette_root=tmp_path,
                live=LiveTarget(server.base_url, SecretStr("sk-any")),
            )
        )
    assert CHECKS["stop.max-tokens"](Context(case, profile, outcome)) == verdict
