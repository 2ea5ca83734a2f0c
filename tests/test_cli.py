from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from contracts.cli import main
from providers.vendors import available_vendors

REPO = Path(__file__).resolve().parent.parent
CASSETTES = ["--cassettes", str(REPO / "cassettes")]


def test_certify_all_offline_prints_the_matrix(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["certify", *CASSETTES])
    out, err = capsys.readouterr()
    assert code == 0
    header = out.splitlines()[0].split()
    assert header == ["clause", *available_vendors()]
    assert len(header) - 1 >= 18
    assert "all must clauses hold" in out
    assert "claude_subscription tools.single: unsupported" in out
    # Not a terminal: one plain progress line per vendor, as each is done, on stderr (stdout
    # is the certificate alone).
    progress = err.splitlines()
    assert sorted(line.split(":")[0] for line in progress) == available_vendors()
    assert all(" cases, all must clauses hold (" in line for line in progress)
    assert "\x1b" not in err


def test_certify_json_and_markdown(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "cert.json"
    glm_json = ["certify", "--vendor", "glm", "--format", "json", "--out", str(out)]
    assert main([*glm_json, *CASSETTES]) == 0
    certificate = json.loads(out.read_text())
    glm = certificate["vendors"][0]
    assert glm["vendor"] == "glm"
    assert glm["clauses"]["stop.mapping"]["verdict"] == "pass"
    assert set(glm["provenance"].values()) == {"replica", "imported"}
    # Per clause: how many judged cases were real traffic and how many came from the replica.
    assert glm["clauses"]["thinking.deltas"]["sources"]["imported"] >= 1
    assert set(glm["clauses"]["request.shape"]["sources"]) == {"replica"}
    assert main(["certify", "--vendor", "glm", "--format", "markdown", *CASSETTES]) == 0
    markdown = capsys.readouterr().out
    assert "| `stop.mapping` | pass |" in markdown
    real = sum(source == "imported" for source in glm["provenance"].values())
    assert f"| *evidence* | {real}/{len(glm['provenance'])} real |" in markdown


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["certify", "--vendor", "acme"], "unknown vendor 'acme'"),
        (["certify", "--cassettes", "/nonexistent/cassettes"], "no cassette directory"),
        (["certify", "--format", "pdf"], "invalid choice"),
    ],
)
def test_bad_usage_exits_2_with_a_clear_message(
    argv: list[str], says: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    assert says in capsys.readouterr().err


def test_python_dash_m_contracts_runs_the_same_cli() -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "contracts",
            "certify",
            "--vendor",
            "openai",
            "--format",
            "json",
            "--cassettes",
            str(REPO / "cassettes"),
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["vendors"][0]["vendor"] == "openai"
