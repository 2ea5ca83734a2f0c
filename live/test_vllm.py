"""`certify --live` and `record` against a real vLLM server: the verdicts that are true for it.

Run by `live/run.sh` (the `tox -e live` environment), which
installs vLLM for CPU in its own environment and builds a tiny random-weight model; this file
gets both through LIVE_VLLM_PYTHON and LIVE_MODEL_DIR. Four servers are started in turn on
127.0.0.1: keyless and with an API key, each with the hermes tool flags and without them. Each
step prints what it ran and how long it took.
"""

from __future__ import annotations

import json
import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

MODEL = "tiny"
#: A first start compiles kernels; on a busy 2-core machine that takes minutes.
START_SECONDS = 900
TOOL_FLAGS = ("--enable-auto-tool-choice", "--tool-call-parser", "hermes")
#: What the tiny model's bytes prove on any run: it answers, is refused on cue, and is read
#: back exactly.
ALWAYS_PASS = (
    "grammar.connected-first",
    "grammar.terminal-sequence",
    "grammar.blocks",
    "text.fidelity",
    "usage.reported",
    "usage.consistent",
    "complete.agrees",
    "request.shape",
    "errors.model-not-found",
    "errors.context-length",
    "errors.invalid-request",
)


def _required(variable: str) -> str:
    value = os.environ.get(variable, "")
    if not value:
        raise RuntimeError(f"{variable} is not set: run this through live/run.sh (tox -e live)")
    return value


def _step(what: str, started: float) -> None:
    print(f"[live] {what}: {time.monotonic() - started:.1f} s", flush=True)


@dataclass
class Server:
    base_url: str
    key: str | None
    tool_flags: bool
    log: Path


def _free_port() -> int:
    with socket.create_server(("127.0.0.1", 0)) as probe:
        return int(probe.getsockname()[1])


def _healthy(base_url: str) -> bool:
    try:
        with urllib.request.urlopen(base_url.removesuffix("/v1") + "/health", timeout=5) as r:
            return bool(r.status == 200)
    except (urllib.error.URLError, OSError):
        return False


@pytest.fixture(
    scope="module", params=["keyless+tools", "keyless-no-tools", "keyed+tools", "keyed-no-tools"]
)
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    keyed = request.param.startswith("keyed")
    tool_flags = request.param.endswith("+tools")
    port = _free_port()
    argv = [
        _required("LIVE_VLLM_PYTHON"),
        "-m",
        "vllm.entrypoints.openai.api_server",
        "--model",
        _required("LIVE_MODEL_DIR"),
        "--served-model-name",
        MODEL,
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--max-model-len",
        "2048",
        *(TOOL_FLAGS if tool_flags else ()),
    ]
    key = f"sk-live-{secrets.token_hex(16)}" if keyed else None
    # The key goes through the environment (vLLM reads VLLM_API_KEY), never the command line.
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "VLLM_CPU_KVCACHE_SPACE": "1"}
    env.pop("VLLM_API_KEY", None)
    if key:
        env["VLLM_API_KEY"] = key
    log = tmp_path_factory.mktemp("server") / "vllm.log"
    print(f"\n[live] starting: {' '.join(argv[1:])}" + (" (VLLM_API_KEY set)" if key else ""))
    started = time.monotonic()
    with log.open("wb") as sink:
        process = subprocess.Popen(argv, stdout=sink, stderr=subprocess.STDOUT, env=env)
    base_url = f"http://127.0.0.1:{port}/v1"
    try:
        while not _healthy(base_url):
            if process.poll() is not None or time.monotonic() - started > START_SECONDS:
                tail = log.read_text(errors="replace").splitlines()[-30:]
                raise RuntimeError("vLLM did not start:\n" + "\n".join(tail))
            time.sleep(2)
        _step(f"vLLM {request.param} up on 127.0.0.1:{port}", started)
        yield Server(base_url, key, tool_flags, log)
    finally:
        process.terminate()
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def llm_contracts(server: Server, *argv: str, cwd: Path) -> tuple[int, str]:
    """Run the CLI as a user would, with the server's key (if any) in VLLM_API_KEY."""
    env = {k: v for k, v in os.environ.items() if k != "VLLM_API_KEY"}
    if server.key:
        env["VLLM_API_KEY"] = server.key
    command = [sys.executable, "-m", "contracts", *argv]
    print(f"[live] running: llm-contracts {' '.join(argv)}", flush=True)
    started = time.monotonic()
    done = subprocess.run(command, capture_output=True, text=True, env=env, cwd=cwd, check=False)
    _step(f"exit {done.returncode}", started)
    output = done.stdout + done.stderr
    print(output, flush=True)
    if server.key:
        assert server.key not in output
    return done.returncode, output


def _target(server: Server) -> tuple[str, ...]:
    return ("--vendor", "vllm", "--base-url", server.base_url, "--model", MODEL)


def _clauses(path: Path) -> dict[str, Any]:
    result: dict[str, Any] = json.loads(path.read_text())["vendors"][0]
    return result


def _assert_true_for_the_server(server: Server, result: dict[str, Any], *, live: bool) -> None:
    clauses = result["clauses"]
    for clause in ALWAYS_PASS:
        assert clauses[clause]["verdict"] == "pass", (clause, clauses[clause])
    auth, secret = clauses["errors.authentication"], clauses["secrets.never-shown"]
    if server.key or not live:  # replayed keyless, the refusal comes from the replica
        assert auth["verdict"] == "pass", auth
        assert secret["verdict"] == "pass", secret
    else:
        assert auth["verdict"] == "not-exercised", auth
        assert "takes no key" in auth["reason"]
    for clause in ("tools.single", "tools.parallel"):
        verdict = clauses[clause]
        # A random model may call a tool or not; a server without the flags refuses tools.
        assert verdict["verdict"] in ("pass", "not-exercised"), verdict
        if not server.tool_flags:
            assert verdict["reason"].startswith("the server refused the request (400: "), verdict
            assert "tool-call-parser" in verdict["reason"]
    # Forced calls the random model botches (arguments `true`, `null`, a bare string) are
    # refused with MalformedResponseError as documented, which shows no tool choice; tool
    # choice none is judged on every server.
    assert clauses["tools.choice"]["verdict"] == "pass", clauses["tools.choice"]


def test_certify_live_verdicts_are_true_on_the_bytes(server: Server, tmp_path: Path) -> None:
    out = tmp_path / "live.json"
    code, _ = llm_contracts(
        server, "certify", "--live", *_target(server), "--out", str(out), cwd=tmp_path
    )
    assert code == 0
    result = _clauses(out)
    assert set(result["provenance"].values()) == {"live"}
    _assert_true_for_the_server(server, result, live=True)


def test_record_then_certify_replays_the_set_in_full(server: Server, tmp_path: Path) -> None:
    root = tmp_path / "cassettes"
    code, output = llm_contracts(
        server, "record", *_target(server), "--cassettes", str(root), cwd=tmp_path
    )
    # A request the server refuses (tools without the tool flags; thinking's max_tokens of
    # 4096 over the 2048 window) is recorded as the 400 it is, and exit 1 says so.
    assert code in (0, 1), output
    replayed = tmp_path / "replayed.json"
    argv = ("certify", "--vendor", "vllm", "--cassettes", str(root), "--out", str(replayed))
    code, output = llm_contracts(server, *argv, cwd=tmp_path)
    assert code == 0, output
    assert "cassette problem" not in output
    result = _clauses(replayed)
    _assert_true_for_the_server(server, result, live=False)
    live_cases = {case for case, source in result["provenance"].items() if source == "live"}
    assert {"text_basic", "max_tokens", "error_context_length", "error_invalid"} <= live_cases
    if server.key:
        written = [p.read_text(errors="replace") for p in tmp_path.rglob("*") if p.is_file()]
        assert not [text for text in written if server.key in text]
