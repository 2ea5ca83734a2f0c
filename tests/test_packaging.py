"""What a `pip install` user meets: the bundled cassettes from any folder, their own cassettes
over the bundled ones, and a missing optional dependency or key named with its remedy."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from support import run_cli as cli

from contracts import cassettes
from providers import MissingApiKeyError, from_vendor

REPO = Path(__file__).resolve().parent.parent
SSE = (
    'data: {"choices":[{"index":0,"delta":{"role":"assistant","content":"Hi!"}}]}\n\n'
    'data: {"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}\n\n'
    'data: {"choices":[],"usage":{"prompt_tokens":3,"completion_tokens":1,"total_tokens":4}}\n\n'
    "data: [DONE]\n\n"
)


def test_own_imports_replay_beside_the_bundled_cassettes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The README's import-then-certify flow in a folder that is not the clone: ./cassettes
    holds only the import, and every scenario cassette still comes from the package."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "answer.sse").write_text(SSE, encoding="utf-8")
    code, out, err = cli(capsys, "import", "answer.sse", "--vendor", "groq")
    assert code == 0, err
    assert "imported cassettes/groq/imported/answer.yaml" in out
    code, out, err = cli(capsys, "certify", "--vendor", "groq", "--format", "json")
    assert code == 0, out + err
    assert "error" not in err  # only the progress line
    provenance = json.loads(out)["vendors"][0]["provenance"]
    assert provenance["imported/answer"] == "imported"
    assert provenance["text_basic"] == "replica"
    assert "missing" not in provenance.values()


def test_a_named_cassette_folder_is_the_only_one_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "mine").mkdir()
    code, _, err = cli(capsys, "certify", "--vendor", "groq", "--cassettes", "mine")
    assert code == 2
    assert "missing cassette mine/groq/text_basic.yaml" in err
    assert "`llm-contracts record --vendor groq --scenario text_basic --replica`" in err


def test_recording_never_writes_into_the_bundled_cassettes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    bundled = cassettes.bundled_root() / "groq" / "text_basic.yaml"
    before = bundled.read_bytes()
    code, _, err = cli(
        capsys, "record", "--vendor", "groq", "--replica", "--scenario", "text_basic"
    )
    assert code == 0, err
    assert (tmp_path / "cassettes" / "groq" / "text_basic.yaml").is_file()
    assert bundled.read_bytes() == before


def test_a_scenario_id_is_quoted_in_the_suggested_command() -> None:
    command = cassettes.record_command("groq", "stop_mapping[novel]")
    assert command.endswith("--scenario 'stop_mapping[novel]' --replica")


def test_a_missing_key_names_its_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MISTRAL_API_KEY", raising=False)
    with pytest.raises(MissingApiKeyError, match="set the environment variable MISTRAL_API_KEY"):
        from_vendor("mistral")


def _without(module: str, code: str) -> subprocess.CompletedProcess[str]:
    """Run `code` in a fresh interpreter where importing `module` fails as if not installed."""
    prelude = f"import sys; sys.modules[{module!r}] = None\n"
    return subprocess.run(
        [sys.executable, "-c", prelude + code],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize(
    ("module", "code", "says"),
    [
        (
            "anthropic",
            "import providers; providers.AnthropicProvider",
            "AnthropicProvider needs the 'anthropic' package, which is not installed: "
            "pip install 'llm-contracts[anthropic]'",
        ),
        (
            "pytest",
            "import contracts.suite",
            "contracts.suite (the ProviderContract base class) needs the 'pytest' package, "
            "which is not installed: pip install pytest",
        ),
    ],
)
def test_a_missing_optional_dependency_names_its_install_command(
    module: str, code: str, says: str
) -> None:
    result = _without(module, code)
    assert result.returncode == 1
    last_line = result.stderr.strip().splitlines()[-1]
    assert last_line == f"providers.extras.MissingDependencyError: {says}"


def test_the_command_without_its_extra_is_one_line_and_exit_2() -> None:
    # PyYAML (the cassettes' format) comes with the contracts extra.
    result = _without(
        "yaml",
        "import sys; from contracts.__main__ import main; sys.argv[1:] = ['certify']; "
        "raise SystemExit(main())",
    )
    assert result.returncode == 2
    assert result.stderr == (
        "llm-contracts: error: the llm-contracts command needs the 'yaml' package, which is not "
        "installed: pip install 'llm-contracts[contracts]'\n"
    )
