"""A third party's own project, as pytest habits have it: `-W error --junitxml` passes, a stale
cassette names the request field that differs and the project's own re-record command, and
the cassettes are readable by plain vcrpy through the registered serializer."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import httpx2
import pytest
import vcr

from contracts import cassettes

REPO = Path(__file__).resolve().parent.parent
PROJECT_TEST = """
from pathlib import Path

from pydantic import SecretStr
from tiny_provider import TinyProvider

from contracts.suite import ProviderContract


class TestMine(ProviderContract):
    vendor = "openai"
    cassette_root = Path(__file__).parent / "cassettes"

    def make_provider(self, base_url: str, api_key: SecretStr) -> TinyProvider:
        return TinyProvider(base_url, api_key)
"""


@pytest.fixture
def project(pytester: pytest.Pytester) -> Path:
    """A separate project: its own provider (on raw httpx2) and its contract test module."""
    tmp_path = pytester.path
    shutil.copy(REPO / "tests" / "tiny_provider.py", tmp_path / "tiny_provider.py")
    (tmp_path / "test_mine.py").write_text(PROJECT_TEST, encoding="utf-8")
    # pytest rewrites the asserts of every module of an installed pytest11 plugin's wheel;
    # this repository is installed editable (not rewritten), so the project asks for it.
    (tmp_path / "conftest.py").write_text(
        "import pytest\n\n"
        'pytest.register_assert_rewrite("contracts.cassettes", "contracts.replay")\n',
        encoding="utf-8",
    )
    return tmp_path


#: The project uses neither pytest-asyncio, which this repository's test tools install beside
#: it (its own configuration warning is not the contract plugin's to answer for), nor
#: langsmith, whose plugin the bench extra brings (seconds to load, in every run).
PLUGINS_OFF = ("-p", "no:cacheprovider", "-p", "no:asyncio", "-p", "no:langsmith_plugin")


def pytest_in(project: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pytest", *PLUGINS_OFF, *argv],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def pytest_here(pytester: pytest.Pytester, *argv: str) -> pytest.RunResult:
    """The same run in this process: for the steps whose output, not the process around it,
    is what they check (a fresh interpreter costs seconds a run)."""
    return pytester.runpytest_inprocess(*PLUGINS_OFF, *argv)


def test_junit_warnings_as_errors_and_a_stale_cassette(
    project: Path, pytester: pytest.Pytester
) -> None:
    recorded = pytest_in(project, "-k", "text_basic", "--contract-record-mode=once")
    assert recorded.returncode == 0, recorded.stdout

    # -W error --junitxml: no record_property warning (xunit2 has no per-test properties)
    result = pytest_in(project, "-W", "error", "--junitxml=j.xml", "-k", "text_basic")
    assert result.returncode == 0, result.stdout
    assert " passed" in result.stdout.splitlines()[-1]
    assert "error" not in result.stdout.splitlines()[-1]
    assert "<properties>" not in (project / "j.xml").read_text(encoding="utf-8")
    assert "TestMine (openai): " in result.stdout  # the summary still counts verdicts

    # a stale cassette: the request field that differs, and the project's own command
    cassette = project / "cassettes" / "openai" / "text_basic.yaml"
    text = cassette.read_text(encoding="utf-8")
    assert text.count("temperature: 0.5") == 2  # stream() and complete()
    cassette.write_text(text.replace("temperature: 0.5", "temperature: 0.25"), encoding="utf-8")
    stale = pytest_here(pytester, "-k", "text_basic")
    assert stale.ret == pytest.ExitCode.TESTS_FAILED
    command = "pytest test_mine.py::TestMine --contract-record-mode=all -k text_basic"
    assert (
        "2 recorded interaction(s) never played: body differs: temperature: recorded 0.25, "
        f"sent 0.5; re-record it with `{command}` and review the diff"
    ) in str(stale.stdout)
    assert "llm-contracts record" not in str(stale.stdout)  # the bundled provider's, not theirs

    rerecorded = pytest_here(pytester, *command.split()[1:])
    assert rerecorded.ret == pytest.ExitCode.OK, rerecorded.stdout
    assert pytest_here(pytester, "-k", "text_basic").ret == pytest.ExitCode.OK


def test_plain_vcrpy_reads_a_cassette_through_the_registered_serializer() -> None:
    path = cassettes.bundled_root() / "openai" / "text_basic.yaml"
    stream = cassettes.read_interactions(path)[0]
    recorder = vcr.VCR(record_mode="none", match_on=("method", "path"))
    recorder.register_serializer("llm_contracts_yaml", cassettes.vcr_serializer)
    with recorder.use_cassette(str(path), serializer="llm_contracts_yaml"):
        response = httpx2.post(stream["request"]["uri"], json={})
    assert response.status_code == stream["response"]["status"]["code"] == 200
    assert response.text == stream["response"]["body"]["sse"]
