"""Every subcommand's --help says what it does and shows an example; new-vendor names both
files it writes."""

from __future__ import annotations

from pathlib import Path

import pytest

from contracts.cli import _COMMANDS, main


@pytest.mark.parametrize("command", sorted(_COMMANDS))
def test_help_describes_and_shows_examples(
    command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main([command, "--help"])
    assert exit_info.value.code == 0
    shown = capsys.readouterr().out
    _, description, _ = _COMMANDS[command]
    assert " ".join(description.split()[:6]) in " ".join(shown.split())
    assert f"examples:\n  llm-contracts {command}" in shown
    assert "  --" in shown  # and the options
    for line in shown.splitlines():
        if line.startswith("  --") and len(line.split()) == 1:
            pytest.fail(f"option without a description: {line.strip()}")


def test_new_vendor_names_both_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    code = main(["new-vendor", "acme", "--base-url", "http://127.0.0.1:8000/v1", "--model", "m"])
    out = capsys.readouterr().out
    assert code == 0
    assert "wrote vendors/acme.toml (what the provider reads)\n" in out
    assert "wrote vendors/contracts/acme.toml (what the contract suite reads)\n" in out
    assert (tmp_path / "vendors" / "contracts" / "acme.toml").is_file()
