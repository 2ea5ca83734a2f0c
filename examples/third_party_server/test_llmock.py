"""A third-party OpenAI-compatible server that honours `tool_choice` and `json_schema`
(LLMock, from PyPI) certified through `llm-contracts certify --base-url`, as a user would: its
tools.choice and structured.output clauses hold on what it really answered.

Not part of the default suite (it starts a server process and runs the CLI): `tox -e llmock`
runs it, with `llmock` from the `llmock` extra. The server listens on loopback only.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("llmock", reason="needs the llmock extra: pip install -e '.[llmock]'")

#: Clauses this server is expected to hold, and the least number of cases judging each.
HELD = {"tools.choice": 3, "structured.output": 2}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def llmock_url() -> Iterator[str]:
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "llmock.cli", "serve", "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("llmock did not start listening") from None
                time.sleep(0.2)
        yield f"http://127.0.0.1:{port}/v1"
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_llmock_holds_tool_choice_and_structured_output(llmock_url: str, tmp_path: Path) -> None:
    out = tmp_path / "llmock.json"
    environment = {**os.environ, "LLMOCK_PLACEHOLDER_KEY": "sk-placeholder-not-a-secret"}
    finished = subprocess.run(
        [
            sys.executable,
            "-m",
            "contracts",
            "certify",
            "--base-url",
            llmock_url,
            "--model",
            "gpt-4o",
            "--api-key-env",
            "LLMOCK_PLACEHOLDER_KEY",
            "--format",
            "json",
            "--out",
            str(out),
        ],
        check=False,
        env=environment,
        capture_output=True,
        text=True,
        timeout=600,
    )
    # LLMock accepts any key and any model name, so the error clauses fail (exit 1); an
    # exit 2 would mean the run could not judge at all.
    assert finished.returncode in (0, 1), finished.stderr
    certificate = json.loads(out.read_text(encoding="utf-8"))
    (vendor,) = certificate["vendors"]
    for clause, least in HELD.items():
        result = vendor["clauses"][clause]
        assert result["verdict"] == "pass", (clause, result)
        assert result["cases"] >= least, (clause, result)
