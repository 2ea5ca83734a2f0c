"""One rule for `--format` and `--out`, in certify and gate: the format asked for (or named by
the suffix of --out), to standard output or to that one file, and nothing else written."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from support import run_cli

import contracts.cli
from contracts.cli import main
from contracts.gate import load_certificate

REPO = Path(__file__).resolve().parent.parent
BASELINE = REPO / "certificates" / "baseline.json"


@pytest.fixture
def certified(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """`certify` answers with the baseline's glm instantly: these tests are about output."""
    certificate = load_certificate(BASELINE)
    certificate.vendors = [v for v in certificate.vendors if v.vendor == "glm"]
    monkeypatch.setattr(contracts.cli, "certify", lambda args: certificate)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    code, out, err = run_cli(capsys, *argv)
    assert err == ""
    return code, out


def written(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())


@pytest.mark.parametrize(
    ("argv", "file", "starts"),
    [
        (["--format", "table", "--out", "t.txt"], "t.txt", "clause "),
        (["--format", "markdown", "--out", "r.md"], "r.md", "## Contract certificate"),
        (["--format", "json", "--out", "c.txt"], "c.txt", "{"),
        (["--format", "html", "--out", "page.html"], "page.html", "<!DOCTYPE html>"),
        (["--out", "by-suffix.json"], "by-suffix.json", "{"),
        (["--out", "by-suffix.md"], "by-suffix.md", "## Contract certificate"),
        (["--out", "by-suffix.html"], "by-suffix.html", "<!DOCTYPE html>"),
        (["--out", "plain.txt"], "plain.txt", "clause "),
    ],
)
def test_certify_writes_the_format_asked_for_into_that_one_file(
    certified: Path,
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
    file: str,
    starts: str,
) -> None:
    code, out = run(capsys, "certify", *argv)
    assert code == 0
    assert written(certified) == [file]
    assert (certified / file).read_text(encoding="utf-8").startswith(starts)
    assert out.startswith("clause ")  # the log still shows the verdicts
    assert out.endswith(f"all must clauses hold\nwrote {file}\n")


@pytest.mark.parametrize(
    ("form", "starts"),
    [("table", "clause "), ("markdown", "## Contract certificate"), ("json", "{"),
     ("html", "<!DOCTYPE html>")],
)  # fmt: skip
def test_without_out_the_format_goes_to_standard_output_and_nothing_is_written(
    certified: Path, capsys: pytest.CaptureFixture[str], form: str, starts: str
) -> None:
    code, out = run(capsys, "certify", "--format", form)
    assert code == 0
    assert out.startswith(starts)
    assert written(certified) == []


def test_a_live_run_writes_no_certificate_unasked(
    certified: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _ = run(capsys, "certify", "--format", "html", "--live", "--vendor", "glm")
    assert code == 0
    assert written(certified) == []


def test_gate_speaks_the_same_vocabulary(
    certified: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    current = certified / "current.json"
    current.write_text(BASELINE.read_text(encoding="utf-8"), encoding="utf-8")
    base = ["gate", "--baseline", str(BASELINE), "--current", str(current)]
    passed = "gate passed: no regression\nno clause changed its verdict\n"
    assert run(capsys, *base, "--format", "table") == (0, passed)
    assert run(capsys, *base, "--out", "gate.md") == (0, passed + "wrote gate.md\n")
    assert (certified / "gate.md").read_text(encoding="utf-8").startswith("## gate passed")
    with pytest.raises(SystemExit):
        main([*base, "--format", "text"])
    assert "invalid choice: 'text'" in capsys.readouterr().err


def test_the_json_file_is_the_certificate(
    certified: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run(capsys, "certify", "--out", "c.json")
    assert (
        json.loads((certified / "c.json").read_text(encoding="utf-8"))["vendors"][0]["vendor"]
        == "glm"
    )


def test_several_outs_make_one_file_per_suffix_and_format_is_then_refused(
    certified: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out = run(capsys, "certify", "--out", "c.json", "--out", "c.md", "--out", "c.html")
    assert code == 0
    assert written(certified) == ["c.html", "c.json", "c.md"]
    assert out.endswith("wrote c.json\nwrote c.md\nwrote c.html\n")
    assert (certified / "c.md").read_text(encoding="utf-8").startswith("## Contract certificate")
    with pytest.raises(SystemExit) as exit_info:
        main(["certify", "--format", "json", "--out", "a.json", "--out", "b.json"])
    assert exit_info.value.code == 2
    assert "--format names one format" in capsys.readouterr().err
