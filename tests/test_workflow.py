"""The new-vendor journey end to end, against a loopback server that is no bundled dialect:
scaffold, certify live, record, replay offline, catch a regression with the gate, and see
wire drift between two recordings. Everything goes through the command line."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from toy_vendor import KEY, MODEL, ToyVendor

from contracts.cassettes import scan_for_secrets
from contracts.cli import main
from contracts.replica import ReplicaServer


@pytest.fixture
def toy() -> Iterator[tuple[ToyVendor, ReplicaServer]]:
    vendor = ToyVendor()
    with ReplicaServer(vendor) as server:
        yield vendor, server


def cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    try:
        code = main(list(argv))
    except SystemExit as exit_info:
        code = int(exit_info.code or 0)
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def test_new_vendor_journey(  # noqa: PLR0915 - one journey, told in order
    toy: tuple[ToyVendor, ReplicaServer],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    vendor, server = toy
    monkeypatch.chdir(tmp_path)
    vendors = ["--vendors-dir", str(tmp_path / "vendors")]

    # 1. scaffold
    code, out = cli(
        capsys,
        "new-vendor",
        "toyllm",
        "--base-url",
        f"{server.base_url}",
        "--model",
        MODEL,
        *vendors,
    )
    assert code == 0, out
    assert (tmp_path / "vendors" / "toyllm.toml").is_file()
    assert (tmp_path / "vendors" / "contracts" / "toyllm.toml").is_file()
    assert "llm-contracts certify --vendor toyllm --live" in out

    # 2. certify live: refused without the key, naming the variable
    monkeypatch.delenv("TOYLLM_API_KEY", raising=False)
    code, out = cli(capsys, "certify", "--vendor", "toyllm", "--live", *vendors)
    assert code == 2
    assert "set TOYLLM_API_KEY" in out

    # ... and with it: a matrix, a certificate, every must clause holding
    monkeypatch.setenv("TOYLLM_API_KEY", KEY)
    code, out = cli(
        capsys, "certify", "--vendor", "toyllm", "--live", "--out", "certs/first.json", *vendors
    )
    assert code == 0, out
    assert "all must clauses hold" in out
    first = json.loads((tmp_path / "certs" / "first.json").read_text())
    toyllm = first["vendors"][0]
    assert (toyllm["vendor"], toyllm["model"], toyllm["base_url_host"]) == (
        "toyllm",
        MODEL,
        "127.0.0.1",
    )
    assert toyllm["sdk"].startswith("openai ")
    assert first["package_version"]
    assert toyllm["clauses"]["tools.parallel"]["verdict"] == "pass"
    assert toyllm["clauses"]["errors.authentication"]["verdict"] == "pass"
    assert toyllm["clauses"]["errors.rate-limit"]["verdict"] == "not-exercised"
    # the toy's window is smaller than the scaffold's default, so the over-long prompt is refused
    assert toyllm["clauses"]["errors.context-length"]["verdict"] == "pass"
    code, out = cli(
        capsys, "certify", "--vendor", "toyllm", "--live", "--out", "certs/first.md", *vendors
    )
    assert "| `text.fidelity` | pass |" in (tmp_path / "certs" / "first.md").read_text()

    # 3. record: live cassettes, say so, and name the profile fields the vendor contradicts
    code, out = cli(capsys, "record", "--vendor", "toyllm", "--cassettes", "cassettes", *vendors)
    assert code == 0, out
    assert "text_basic.yaml (source: live): new cassette" in out
    assert "usage_placement: profile says 'separate_chunk', vendor sent 'finish_chunk'" in out
    meta = yaml.safe_load((tmp_path / "cassettes" / "toyllm" / "text_basic.yaml").read_text())
    assert meta["meta"]["source"] == "live"

    # 4. replay offline: the server is not even asked
    asked = len(server.requests)
    code, out = cli(capsys, "certify", "--vendor", "toyllm", "--cassettes", "cassettes", *vendors)
    assert code == 0, out
    assert len(server.requests) == asked
    assert "live+replica" in out  # live cassettes, plus replica ones for unprovokable cases

    # 5. wire drift between two recordings
    vendor.wire = "v2"
    code, out = cli(
        capsys,
        "record",
        "--vendor",
        "toyllm",
        "--scenario",
        "text_basic",
        "--cassettes",
        "cassettes",
        *vendors,
    )
    assert code == 0, out
    assert "WIRE DRIFT" in out
    assert "usage placement: 'finish_chunk' -> 'separate_chunk'" in out
    assert "fields added: service_tier" in out

    # 6. a regression in the vendor, caught by the gate
    vendor.wire = "no_finish"
    code, out = cli(
        capsys, "certify", "--vendor", "toyllm", "--live", "--out", "certs/second.json", *vendors
    )
    assert code == 1
    code, out = cli(
        capsys, "gate", "--baseline", "certs/first.json", "--current", "certs/second.json"
    )
    assert code == 1
    assert "gate FAILED" in out
    assert "toyllm stop.mapping: pass -> fail" in out  # a stream with no finish reason
    code, markdown = cli(
        capsys,
        "gate",
        "--baseline",
        "certs/first.json",
        "--current",
        "certs/second.json",
        "--format",
        "markdown",
    )
    assert "### regressions" in markdown

    # and the key was written nowhere
    assert not scan_for_secrets(tmp_path)
    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert KEY not in path.read_text(errors="replace"), path


@pytest.mark.parametrize(
    ("name", "says"),
    [("mistral", "exists already"), ("Bad-Name", "not a valid vendor name")],
)
def test_new_vendor_refuses_a_taken_or_invalid_name(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str, says: str
) -> None:
    code, out = cli(
        capsys,
        "new-vendor",
        name,
        "--base-url",
        "http://x",
        "--model",
        "m",
        "--vendors-dir",
        str(tmp_path),
    )
    assert code == 2
    assert says in out
    assert list(tmp_path.iterdir()) == []


def test_gate_passes_on_improvement_and_refuses_a_non_certificate(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    baseline = json.loads(
        (Path(__file__).parent.parent / "certificates" / "baseline.json").read_text()
    )
    worse = json.loads(json.dumps(baseline))
    worse["vendors"][0]["clauses"]["text.fidelity"]["verdict"] = "fail"
    (tmp_path / "worse.json").write_text(json.dumps(worse))
    (tmp_path / "base.json").write_text(json.dumps(baseline))
    code, out = cli(
        capsys,
        "gate",
        "--baseline",
        str(tmp_path / "worse.json"),
        "--current",
        str(tmp_path / "base.json"),
    )
    assert code == 0
    assert "improvements:" in out
    (tmp_path / "junk.json").write_text("{}")
    code, out = cli(capsys, "gate", "--baseline", str(tmp_path / "junk.json"))
    assert code == 2
    assert "is not a certificate" in out
