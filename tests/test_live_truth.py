"""Live certification tells the truth about a real inference server: each test reproduces one
way vLLM 0.32 (through `tests/vllm_like.py`, or a closed port) made `certify --live` or `record`
say something the bytes contradict."""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from contracts import cassettes
from contracts.cli import main
from contracts.drift import drift
from contracts.observed import Exchange
from contracts.protocols import protocol_for
from contracts.replica.server import ReplicaServer
from contracts.runner import KEYLESS
from providers.vendors import (
    PROFILE_DIR,
    VENDOR_DIRS_ENV,
    ProfileError,
    load_profile,
    load_profile_file,
)
from tests.support import run_cli
from tests.vllm_like import MODEL, TOOL_FLAGS_MESSAGE, WORDS, VllmLike

KEY = "sk-vllm-live-0123456789abcdef"
#: The clauses judged on what a model answers: never failed by a request the server refused.
ANSWER_CLAUSES = (
    "grammar.terminal-sequence",
    "stop.mapping",
    "complete.agrees",
    "tools.single",
    "tools.parallel",
)


@pytest.fixture(scope="module", autouse=True)
def _tiny_local_servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """No VLLM_API_KEY, and the vllm, ollama and lmstudio profiles with the limits of the tiny
    model served (the bundled windows, 32K and 128K, would make the context-length case send
    a prompt of that many words)."""
    folder = tmp_path_factory.mktemp("vendors")
    for name in ("vllm", "ollama", "lmstudio"):
        bundled = (PROFILE_DIR / f"{name}.toml").read_text(encoding="utf-8")
        tiny = re.sub(r"(?m)^max_(context|output)_tokens = \d+$", r"max_\1_tokens = 4096", bundled)
        assert tiny.count("= 4096") == 2
        (folder / f"{name}.toml").write_text(tiny, encoding="utf-8")
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("VLLM_API_KEY", raising=False)
        patch.setenv(VENDOR_DIRS_ENV, str(folder))
        yield


@pytest.fixture(scope="module")
def keyless() -> Iterator[ReplicaServer]:
    with ReplicaServer(VllmLike()) as server:
        yield server


def certified(out: Path, *argv: str) -> dict[str, Any]:
    """The vendor's results of `certify --live ARGV`, whatever its exit code."""
    main(["certify", "--live", "--out", str(out), *argv])
    result: dict[str, Any] = json.loads(out.read_text())["vendors"][0]
    return result


@pytest.fixture(scope="module")
def keyless_result(keyless: ReplicaServer, tmp_path_factory: pytest.TempPathFactory) -> Any:
    """vLLM without a key, served as vLLM serves it."""
    return certified(tmp_path_factory.mktemp("keyless") / "c.json", *vllm(keyless))


def certify(
    capsys: pytest.CaptureFixture[str], out: Path, *argv: str
) -> tuple[int, str, dict[str, Any]]:
    """`certify --live` with ARGV: exit code, stderr, and the vendor's clause results."""
    code, _, err = run_cli(capsys, "certify", "--live", "--out", str(out), *argv)
    vendors = json.loads(out.read_text())["vendors"] if out.exists() else [{}]
    return code, err, vendors[0]


def vllm(server: ReplicaServer, *more: str) -> tuple[str, ...]:
    return ("--vendor", "vllm", "--base-url", server.base_url, "--model", MODEL, *more)


# -- keys -------------------------------------------------------------------------------------


def test_a_keyless_profile_is_certified_without_its_key_variable(
    keyless_result: dict[str, Any],
) -> None:
    result = keyless_result
    assert not [c for c, r in result["clauses"].items() if r["verdict"] == "fail"]
    auth = result["clauses"]["errors.authentication"]
    assert (auth["verdict"], auth["reason"]) == ("not-exercised", KEYLESS)
    assert result["clauses"]["text.fidelity"]["verdict"] == "pass"


def test_no_key_says_the_endpoint_takes_none_whatever_the_key_variable(
    keyless: ReplicaServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A key variable named on the command line is needed, unless --no-key says otherwise."""
    argv = (*vllm(keyless), "--api-key-env", "LIVE_TRUTH_UNSET_KEY")
    code, err, _ = certify(capsys, tmp_path / "refused.json", *argv)
    assert code == 2
    assert "set LIVE_TRUTH_UNSET_KEY" in err
    assert "pass --no-key if the endpoint takes none" in err
    result = certified(tmp_path / "c.json", *argv, "--no-key")
    assert result["clauses"]["errors.authentication"]["reason"] == KEYLESS
    assert result["clauses"]["errors.model-not-found"]["verdict"] == "pass"


def test_a_keyless_profile_sends_its_placeholder_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """vLLM's profile says "EMPTY", the placeholder its docs give: a server (or a proxy in
    front of it) that checks for it gets it when VLLM_API_KEY is unset."""
    with ReplicaServer(VllmLike(api_key="EMPTY")) as server:
        code, err, result = certify(capsys, tmp_path / "c.json", *vllm(server))
    assert code == 0, err
    assert result["clauses"]["text.fidelity"]["verdict"] == "pass"


def test_a_placeholder_key_is_no_secret(keyless: ReplicaServer, tmp_path: Path) -> None:
    """Ollama's placeholder is "ollama", which is also the provider's name in Connected."""
    argv = ("--vendor", "ollama", "--base-url", keyless.base_url, "--model", MODEL)
    result = certified(tmp_path / "c.json", *argv)
    assert result["clauses"]["secrets.never-shown"]["verdict"] == "not-exercised"
    assert result["clauses"]["text.fidelity"]["verdict"] == "pass"


def test_a_placeholder_long_enough_to_scrub_is_no_secret_either(
    keyless: ReplicaServer, tmp_path: Path
) -> None:
    """LM Studio's placeholder, "lm-studio", is long enough to be scrubbed like a key, but a
    keyless endpoint has no key to hide: the clause is not exercised, not passed on a fake."""
    argv = ("--vendor", "lmstudio", "--base-url", keyless.base_url, "--model", MODEL)
    secret = certified(tmp_path / "c.json", *argv)["clauses"]["secrets.never-shown"]
    assert (secret["verdict"], secret["reason"]) == (
        "not-exercised",
        "no key to hide: the endpoint takes none, or it is too short to scrub",
    )


def test_a_placeholder_key_belongs_to_a_keyless_profile(tmp_path: Path) -> None:
    path = tmp_path / "local.toml"
    path.write_text(
        'name = "local"\nbase_url = "http://127.0.0.1:1/v1"\ndefault_model = "m"\n'
        'default_api_key = "EMPTY"\n'
    )
    with pytest.raises(ProfileError, match="set keyless = true"):
        load_profile_file(path)
    assert load_profile("vllm").keyless


@pytest.mark.parametrize("key", ["x", "the"], ids=["one-letter", "a-word"])
def test_a_short_key_neither_corrupts_the_recording_nor_the_answer(
    key: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("VLLM_API_KEY", key)
    with ReplicaServer(VllmLike(api_key=key)) as server:
        record = ("record", *vllm(server), "--scenario", "text_basic")
        code, _, err = run_cli(capsys, *record, "--cassettes", str(tmp_path))
        assert code == 0, err
        code, err, result = certify(capsys, tmp_path / "c.json", *vllm(server))
    assert code == 0, err
    for clause in ("text.fidelity", "complete.agrees", "request.shape"):
        assert result["clauses"][clause]["verdict"] == "pass", clause
    recorded = (tmp_path / "vllm" / "text_basic.yaml").read_text()
    assert "REDACTED" not in recorded
    whole = yaml.safe_load(recorded)["interactions"][-1]["response"]["body"]["json"]
    assert whole["choices"][0]["message"]["content"].startswith("".join(WORDS))


def test_structured_scrubbing_keeps_yaml_escapes_and_ordinary_words() -> None:
    """Secrets are replaced in the values, before YAML escapes them: a key YAML writes
    differently (a quote inside a double-quoted scalar) is still found, escapes stay intact,
    and keys too short to tell from words are left alone."""
    quoted = 'sk-quote"d-0123456789'
    document = {"text": f"the cat\x06 said {quoted}", "key": f"Bearer {KEY}", "list": [KEY, "x"]}
    dumped = cassettes.dump(document, [KEY, quoted, "x", "the"])
    assert quoted.split('"')[1] not in dumped
    assert yaml.safe_load(dumped) == {
        "text": "the cat\x06 said REDACTED",
        "key": "Bearer REDACTED",
        "list": ["REDACTED", "x"],
    }


def test_a_keyed_server_refuses_the_invalid_key_with_its_own_body(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("VLLM_API_KEY", KEY)
    with ReplicaServer(VllmLike(api_key=KEY)) as server:
        code, err, result = certify(capsys, tmp_path / "c.json", *vllm(server))
    assert code == 0, err
    assert result["clauses"]["errors.authentication"]["verdict"] == "pass"
    assert result["clauses"]["secrets.never-shown"]["verdict"] == "pass"
    assert KEY not in (tmp_path / "c.json").read_text() + err


def test_a_wrong_key_is_one_headline_not_a_verdict(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("VLLM_API_KEY", "sk-not-the-servers-key-0000")
    with ReplicaServer(VllmLike(api_key=KEY)) as server:
        code, err, _ = certify(capsys, tmp_path / "c.json", *vllm(server))
    assert code == 2
    [line] = err.splitlines()
    assert 'answered 401 ({"error": "Unauthorized"}) to a valid request: check VLLM_API_KEY' in line
    assert not (tmp_path / "c.json").exists()


# -- what the server did ----------------------------------------------------------------------


def test_tools_refused_for_want_of_tool_flags_fail_no_answer_clause(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with ReplicaServer(VllmLike(tool_flags=False)) as server:
        code, err, result = certify(capsys, tmp_path / "c.json", *vllm(server))
    assert code == 0, err
    for clause in ANSWER_CLAUSES:
        assert result["clauses"][clause]["verdict"] != "fail", clause
    tools = result["clauses"]["tools.single"]
    assert tools["verdict"] == "not-exercised"
    assert tools["reason"] == f"the server refused the request (400: {TOOL_FLAGS_MESSAGE})"
    assert result["clauses"]["request.shape"]["verdict"] == "pass"


def test_a_natural_stop_on_the_last_allowed_token_is_no_ignored_cap(
    keyless_result: dict[str, Any],
) -> None:
    assert keyless_result["clauses"]["stop.max-tokens"]["verdict"] == "not-exercised"


def test_context_length_and_invalid_requests_are_provoked_live(
    keyless_result: dict[str, Any],
) -> None:
    result = keyless_result
    for clause in ("errors.context-length", "errors.invalid-request"):
        assert result["clauses"][clause]["verdict"] == "pass", clause
        assert set(result["clauses"][clause]["sources"]) == {"live"}


def test_provenance_follows_the_traffic_not_the_spelling(
    keyless_result: dict[str, Any], keyless: ReplicaServer, tmp_path: Path
) -> None:
    """The profile's base URL is localhost:8000; the server was reached elsewhere."""
    assert set(keyless_result["provenance"].values()) == {"live"}
    url = keyless.base_url.replace("127.0.0.1", "localhost")
    result = certified(tmp_path / "c.json", "--vendor", "vllm", "--base-url", url, "--model", MODEL)
    assert set(result["provenance"].values()) == {"live"}


def test_a_closed_port_is_one_headline_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with ReplicaServer(VllmLike()) as server:
        url = server.base_url
    code, err, _ = certify(capsys, tmp_path / "c.json", "--base-url", url, "--model", MODEL)
    assert code == 2
    [line] = err.splitlines()
    assert line.startswith(f"llm-contracts: error: could not connect to {url.split('/')[2]}")


# -- record -----------------------------------------------------------------------------------


def test_record_then_certify_replays_the_set_in_full(
    keyless: ReplicaServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Recorded with `--model`, replayed without: the cassettes carry their model. The one
    request vLLM refuses (thinking's max_tokens of 4096 over the 2048 window) is recorded as
    the 400 it is, and said (exit 1)."""
    code, out, err = run_cli(capsys, "record", *vllm(keyless), "--cassettes", str(tmp_path))
    assert code == 1
    [refused] = err.splitlines()
    assert "thinking_requested.yaml: the server answered 400" in refused
    assert cassettes.read_meta(tmp_path / "vllm" / "text_basic.yaml")["model"] == MODEL
    assert cassettes.read_meta(tmp_path / "vllm" / "error_auth.yaml")["source"] == "replica"
    assert f"error_auth.yaml (source: replica): new cassette; {KEYLESS}" in out
    code, out, err = run_cli(capsys, "certify", "--vendor", "vllm", "--cassettes", str(tmp_path))
    assert code == 0, err
    assert "cassette problem" not in out + err


def test_record_from_a_keyless_server_keeps_the_refusal_cassette(
    keyless: ReplicaServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    shutil.copytree(Path("cassettes") / "vllm", tmp_path / "vllm")
    refusal = (tmp_path / "vllm" / "error_auth.yaml").read_text()
    record = ("record", *vllm(keyless), "--scenario", "error_auth", "--scenario", "text_basic")
    code, _, err = run_cli(capsys, *record, "--cassettes", str(tmp_path))
    assert code == 0, err
    assert (tmp_path / "vllm" / "error_auth.yaml").read_text() == refusal


def test_record_keeps_a_refusal_cassette_a_server_answered_with_200(
    keyless: ReplicaServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A key given to a server that checks none: the invalid one is accepted too."""
    monkeypatch.setenv("VLLM_API_KEY", KEY)
    shutil.copytree(Path("cassettes") / "vllm", tmp_path / "vllm")
    refusal = (tmp_path / "vllm" / "error_auth.yaml").read_text()
    argv = ("record", *vllm(keyless), "--scenario", "error_auth", "--cassettes", str(tmp_path))
    code, out, err = run_cli(capsys, *argv)
    assert code == 1
    assert "the server answered 200 where error_auth expects 401" in err
    assert "kept the existing" in out
    assert (tmp_path / "vllm" / "error_auth.yaml").read_text() == refusal


def test_a_cassette_recorded_with_a_model_is_re_recorded_with_it(
    keyless: ReplicaServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ("record", *vllm(keyless), "--scenario", "text_basic", "--cassettes", str(tmp_path))
    assert run_cli(capsys, *argv)[0] == 0
    path = tmp_path / "vllm" / "text_basic.yaml"
    document = cassettes.read_document(path)
    document["interactions"][0]["request"]["body"]["json"]["messages"][0]["content"] = "changed"
    path.write_text(cassettes.dump(document))
    code, out, err = run_cli(capsys, "certify", "--vendor", "vllm", "--cassettes", str(tmp_path))
    assert code == 2
    assert f"--scenario text_basic --model {MODEL}`" in out + err


def test_record_with_tools_refused_keeps_the_answers_unless_forced(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    shutil.copytree(Path("cassettes") / "vllm", tmp_path / "vllm")
    good = (tmp_path / "vllm" / "tool_single.yaml").read_text()
    argv = ["record", "--scenario", "tool_single", "--cassettes", str(tmp_path)]
    with ReplicaServer(VllmLike(tool_flags=False)) as server:
        code, _, err = run_cli(capsys, *argv, *vllm(server))
        assert code == 1
        assert "the server answered 400" in err
        assert (tmp_path / "vllm" / "tool_single.yaml").read_text() == good
        code, _, err = run_cli(capsys, *argv, *vllm(server), "--force")
    assert code == 1
    [stream, _] = cassettes.exchanges(tmp_path / "vllm" / "tool_single.yaml")
    assert stream.status == 400
    assert json.loads(stream.body)["error"]["message"] == TOOL_FLAGS_MESSAGE


# -- vLLM's wire facts -------------------------------------------------------------------------


def test_the_vllm_replica_refuses_as_vllm_does() -> None:
    profile = load_profile("vllm")
    protocol = protocol_for(profile)
    assert protocol.error_body(_fault(401)) == {"error": "Incorrect API key provided"}
    body = protocol.error_body(_fault(404))
    assert set(body["error"]) == {"message", "type", "param", "code"}


def test_drift_knows_vllms_refusal_from_mistrals() -> None:
    protocol = protocol_for(load_profile("vllm"))
    unauthorized = Exchange(None, 401, "application/json", '{"error":"Unauthorized"}')
    assert dict(protocol.wire_shape(unauthorized).traits)["error_shape"] == "error_string"
    assert drift([unauthorized], [unauthorized], protocol) == []
    assert protocol.mismatches(protocol.wire_shape(unauthorized)) == []


def _fault(status: int) -> Any:
    from contracts.spec import Fault

    return Fault(status=status, message="Incorrect API key provided", code="invalid_api_key")


def test_a_forced_call_the_model_botched_is_no_dropped_tool_choice(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """vLLM 0.32 honoured the forced choices for a random model but sent `true` as the
    arguments: the provider's MalformedResponseError is the documented answer, and the choice
    cannot be judged on it (tool_choice none still is)."""
    with ReplicaServer(VllmLike(forced_arguments=("t", "r", "ue"))) as server:
        code, err, result = certify(capsys, tmp_path / "c.json", *vllm(server))
    assert code == 0, err
    choice = result["clauses"]["tools.choice"]
    assert (choice["verdict"], choice["evidence"]) == ("pass", [])
