"""Every path the CLI advertises, as a user walks it: a bare endpoint, an endpoint that is down,
closes or hangs, a record that must not clobber a good cassette, broken cassettes, the gate per
vendor, --version, new-vendor into the user's folder, and files that are not UTF-8."""

from __future__ import annotations

import json
import shutil
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from support import run_cli as cli
from toy_vendor import KEY, MODEL, ToyVendor

import contracts.scaffold
from contracts.replica.server import ReplicaServer
from providers.vendors import ProfileError, load_profile_file

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture
def toy() -> Iterator[ReplicaServer]:
    with ReplicaServer(ToyVendor()) as server:
        yield server


def test_certify_a_bare_base_url_without_vendor(
    toy: ReplicaServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TOY_KEY", KEY)
    code, out, err = cli(
        capsys,
        "certify",
        "--base-url",
        toy.base_url,
        "--model",
        MODEL,
        "--api-key-env",
        "TOY_KEY",
        "--out",
        "endpoint.json",
    )
    assert "Traceback" not in out + err
    assert code in (0, 1), err
    assert out.splitlines()[0].split() == ["clause", "endpoint"]
    certificate = tmp_path / "endpoint.json"
    clauses = json.loads(certificate.read_text())["vendors"][0]["clauses"]
    assert clauses["text.fidelity"]["verdict"] == "pass"
    assert clauses["errors.unavailable"]["verdict"] == "not-exercised"


class _Socket:
    """A loopback listener that closes each connection at once, or holds it open silently."""

    def __init__(self, *, hang: bool) -> None:
        self.hang = hang
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.held: list[socket.socket] = []
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.listener.getsockname()[1]}/v1"

    def _serve(self) -> None:
        while True:
            try:
                connection, _ = self.listener.accept()
            except OSError:
                return
            if self.hang:
                self.held.append(connection)
            else:
                connection.close()

    def close(self) -> None:
        self.listener.close()
        for connection in self.held:
            connection.close()


def _down_url() -> str:
    with socket.create_server(("127.0.0.1", 0)) as probe:
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/v1"  # closed again: nothing listens


def test_an_endpoint_that_is_down_is_one_headline_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = _down_url()
    out_path = tmp_path / "cert.json"
    code, out, err = cli(
        capsys, "certify", "--base-url", url, "--model", "m", "--out", str(out_path)
    )
    assert code == 2
    host = url.split("/")[2]
    assert err.splitlines() == [
        f"llm-contracts: error: could not connect to {host} ({url}): "
        "Connect call failed ('127.0.0.1', " + host.split(":")[1] + ")"
    ]
    assert "FAILED" not in out
    assert not out_path.exists()


def test_record_from_an_endpoint_that_is_down_is_one_headline_and_keeps_the_set(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = _down_url()
    record = ["record", "--vendor", "vllm", "--cassettes", str(tmp_path), "--base-url", url]
    code, out, err = cli(capsys, *record)
    assert code == 2
    assert "Traceback" not in out + err
    assert err.startswith("llm-contracts: error: could not connect to 127.0.0.1:")
    assert not any(tmp_path.iterdir())


@pytest.mark.parametrize("endpoint", ["closes", "hangs"])
def test_a_broken_endpoint_still_gets_a_verdict_per_clause_and_a_certificate(
    endpoint: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    server = None if endpoint == "down" else _Socket(hang=endpoint == "hangs")
    url = server.base_url if server else _down_url()
    out_path = tmp_path / "cert.json"
    try:
        code, out, err = cli(
            capsys,
            "certify",
            "--base-url",
            url,
            "--model",
            "m",
            "--case-timeout",
            "0.1",
            "--out",
            str(out_path),
        )
    finally:
        if server:
            server.close()
    assert code == 1, err
    assert "Traceback" not in out + err
    clauses = json.loads(out_path.read_text())["vendors"][0]["clauses"]
    assert clauses["text.fidelity"]["verdict"] == "fail"
    if endpoint == "hangs":
        assert (
            "no answer within the case deadline of 0.1 s"
            in clauses["text.fidelity"]["evidence"][0]
        )


def test_record_with_a_refused_key_stops_with_one_headline_and_keeps_the_set(
    toy: ReplicaServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    good = REPO / "cassettes" / "openai" / "text_basic.yaml"
    kept = tmp_path / "openai" / "text_basic.yaml"
    kept.parent.mkdir()
    shutil.copy(good, kept)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-wrong-key-for-the-toy-vendor-000")
    record = ["record", "--vendor", "openai", "--scenario", "text_basic", "--cassettes"]
    record += [str(tmp_path), "--base-url", toy.base_url]

    code, _, err = cli(capsys, *record)
    assert code == 2
    assert "answered 401" in err
    assert "check OPENAI_API_KEY" in err
    assert kept.read_text() == good.read_text()


@pytest.mark.parametrize(
    ("damage", "says"),
    [
        (lambda text: text.encode()[: len(text) // 2], "cut short"),
        (lambda text: b"interactions: [\n" + text.encode(), "not valid YAML"),
        (lambda text: text.encode("utf-16"), "not UTF-8"),
    ],
    ids=["truncated", "malformed", "not-utf8"],
)
def test_a_broken_cassette_is_a_cassette_problem(
    damage: object, says: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    shutil.copytree(REPO / "cassettes" / "glm", tmp_path / "glm")
    broken = tmp_path / "glm" / "text_basic.yaml"
    broken.write_bytes(damage(broken.read_text(encoding="utf-8")))  # type: ignore[operator]
    code, out, err = cli(capsys, "certify", "--vendor", "glm", "--cassettes", str(tmp_path))
    assert code == 2
    assert "Traceback" not in out + err
    [line] = [line for line in err.splitlines() if "cassette problem" in line]
    assert str(broken) in line
    assert says in line
    assert "llm-contracts record --vendor glm --scenario text_basic" in line
    assert "FAIL" not in out  # never a provider failure


def test_gate_compares_only_the_named_vendor(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    baseline = tmp_path / "baseline.json"
    cassettes = ["--cassettes", str(REPO / "cassettes")]
    assert cli(capsys, "certify", "--vendor", "glm", "--out", str(baseline), *cassettes)[0] == 0
    document = json.loads(baseline.read_text())
    document["vendors"].append({**document["vendors"][0], "vendor": "gone"})
    baseline.write_text(json.dumps(document))
    code, out, _ = cli(capsys, "gate", "--baseline", str(baseline), "--vendor", "glm", *cassettes)
    assert code == 0
    assert "no clause changed its verdict" in out


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = cli(capsys, "--version")
    assert code == 0
    assert out.startswith("llm-contracts ")


def test_new_vendor_writes_to_the_local_vendors_folder_with_escaped_values(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    model = 'odd "model"\\name\twith\x7fcontrol'
    code, out, err = cli(
        capsys, "new-vendor", "acme", "--base-url", "http://127.0.0.1:1/v1", "--model", model
    )
    assert code == 0, err
    profile = load_profile_file(tmp_path / "vendors" / "acme.toml")
    assert profile.default_model == model
    assert "--vendors-dir vendors" in out
    assert not (
        Path(contracts.scaffold.__file__).parent.parent / "providers/vendors/acme.toml"
    ).exists()


def test_new_vendor_leaves_no_broken_file_behind(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def refuse(path: Path) -> None:
        raise ProfileError(f"{path}: invalid vendor profile: injected")

    monkeypatch.setattr(contracts.scaffold, "load_profile_file", refuse)
    code, _, err = cli(
        capsys,
        "new-vendor",
        "acme",
        "--base-url",
        "http://127.0.0.1:1/v1",
        "--model",
        "m",
        "--vendors-dir",
        str(tmp_path),
    )
    assert code == 2
    assert "do not make a valid profile" in err
    assert list(tmp_path.iterdir()) == []


def test_a_profile_that_is_not_utf8_is_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "latin.toml").write_bytes('name = "latin"  # caf\xe9\n'.encode("latin-1"))
    code, _out, err = cli(
        capsys, "certify", "--vendor", "latin", "--replica", "--vendors-dir", str(tmp_path)
    )
    assert code == 2
    assert err.strip().count("\n") == 0
    assert "latin.toml: not UTF-8 text" in err


def test_record_from_the_replica_claims_no_contradiction_of_the_profile(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """The unknown_finish scenario makes the replica send a value outside every profile on
    purpose: that is the scenario, not the vendor contradicting its `[wire]` facts."""
    record = ["record", "--vendor", "mistral", "--replica", "--cassettes", str(tmp_path)]
    code, out, err = cli(capsys, *record, "--scenario", "unknown_finish")
    assert code == 0, err
    assert out.splitlines() == [
        f"{tmp_path / 'mistral' / 'unknown_finish.yaml'} (source: replica): new cassette",
        "1 cassette(s) recorded",
    ]
