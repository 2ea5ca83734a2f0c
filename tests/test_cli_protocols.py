"""The command line reaches every registered protocol: `new-vendor --protocol` writes a
profile of that protocol, and `certify --base-url --protocol` builds the endpoint's profile
for it."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from contracts.certify_run import certify
from contracts.cli import build_parser, main
from contracts.protocols import protocol_for
from contracts.targets import UsageError, endpoint_profile
from contracts.vendors import load_suite_file
from providers.protocols import PROTOCOLS
from providers.vendors import load_profile_file


@pytest.mark.parametrize("protocol", sorted(PROTOCOLS))
def test_new_vendor_writes_a_profile_of_the_protocol_asked_for(
    protocol: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(
        [
            "new-vendor",
            "acme",
            "--base-url",
            "http://127.0.0.1:9/v1",
            "--model",
            "m",
            "--protocol",
            protocol,
            "--vendors-dir",
            str(tmp_path),
        ]
    )
    assert code == 0, capsys.readouterr()
    profile = load_profile_file(tmp_path / "acme.toml")
    assert profile.protocol == protocol
    suite = load_suite_file(tmp_path / "contracts" / "acme.toml")
    # The suite's [wire] keys validate against the protocol's own facts model.
    assert protocol_for(profile).facts_model.model_validate(suite.wire) is not None


def test_new_vendor_without_protocol_writes_chat(tmp_path: Path) -> None:
    args = ["new-vendor", "acme", "--base-url", "http://127.0.0.1:9/v1", "--model", "m"]
    assert main([*args, "--vendors-dir", str(tmp_path)]) == 0
    assert load_profile_file(tmp_path / "acme.toml").protocol == "openai_chat"


def _args(*argv: str) -> argparse.Namespace:
    return build_parser().parse_args(["certify", *argv])


@pytest.mark.parametrize("protocol", sorted(PROTOCOLS))
def test_a_base_url_gets_a_profile_of_the_protocol_asked_for(protocol: str) -> None:
    args = _args("--base-url", "http://127.0.0.1:9/v1", "--model", "m", "--protocol", protocol)
    assert endpoint_profile(args).protocol == protocol


def test_a_base_url_without_protocol_speaks_chat() -> None:
    args = _args("--base-url", "http://127.0.0.1:9/v1", "--model", "m")
    assert endpoint_profile(args).protocol == "openai_chat"


def test_protocol_with_a_vendor_is_refused_before_anything_runs() -> None:
    with pytest.raises(UsageError, match="--protocol applies to --base-url without --vendor"):
        certify(_args("--vendor", "openai", "--protocol", "openai_responses"))


def test_an_unknown_protocol_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["certify", "--base-url", "http://127.0.0.1:9", "--model", "m", "--protocol", "x"])
    assert exit_.value.code == 2
    assert "invalid choice: 'x'" in capsys.readouterr().err
