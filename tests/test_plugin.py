"""The pytest plugin as a third party meets it: capabilities from their provider, known defects
per clause or per case, a summary that keeps every verdict apart, the `contract` marker, -k,
xdist, their own cassettes, an opt-in network guard, and a cheap start-up."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
#: langsmith (which the bench extra brings) would load its plugin into every run and worker.
ARGS = (
    "-p",
    "no:cacheprovider",
    "-p",
    "no:langsmith_plugin",
    "-o",
    "asyncio_default_fixture_loop_scope=function",
)

#: NoTools declares no tool calling: its tools clauses must come out unsupported without the
#: class saying so. DropsLastText is a provider with a real defect, for the failure display.
CONTRACT = f"""
import sys
from pathlib import Path
sys.path.insert(0, {str(REPO / "tests")!r})
from tiny_provider import TinyProvider
from contracts.suite import ProviderContract
from providers.types import ProviderCapabilities, TextDelta

class NoTools(TinyProvider):
    @property
    def capabilities(self):
        return ProviderCapabilities(tool_calling=False, extended_thinking=False)

class DropsLastText(NoTools):
    async def stream(self, request):
        events = [event async for event in super().stream(request)]
        texts = [event for event in events if isinstance(event, TextDelta)]
        for event in events:
            if not texts or event is not texts[-1]:
                yield event

class TestTiny(ProviderContract):
    vendor = "openai"
    known_defects = {{
        ("text_basic", "text.fidelity"): "a known defect on one case only",
        "structured.output": "the tiny provider sends no response format",
        "vision.input": "the tiny provider sends no image parts",
        "thinking.requested": "the tiny provider sends no thinking request",
    }}
    CASSETTE_ROOT = None

    def make_provider(self, base_url, api_key):
        return NoTools(base_url, api_key)
"""


def _run(pytester: pytest.Pytester, *extra: str) -> pytest.RunResult:
    return pytester.runpytest_inprocess(*ARGS, *extra)


@pytest.fixture
def contract(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makepyfile(test_tiny=CONTRACT)
    return pytester


def test_summary_keeps_every_verdict_apart(contract: pytest.Pytester) -> None:
    result = _run(contract, "-q", "-rs")
    assert result.ret == pytest.ExitCode.OK
    # text_basic's text.fidelity holds, so its xfail is an xpass; the clause's other cases
    # pass: the clause folds to xpass, and is not counted as holding.
    result.stdout.fnmatch_lines(
        ["TestTiny (openai): 18 pass, 0 fail, 3 xfail, 1 xpass, 4 unsupported, 0 not-exercised *"]
    )
    result.stdout.fnmatch_lines(["*unsupported: the provider declares no tool_calling*"])


def test_capabilities_declared_on_the_class_override_the_provider(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(
        test_tiny=CONTRACT.replace(
            "    CASSETTE_ROOT = None",
            "    capabilities = ProviderCapabilities(tool_calling=True, extended_thinking=False)",
        )
    )
    result = _run(pytester, "-q", "-k", "tool_single")
    assert result.ret == pytest.ExitCode.OK
    # tool_single's clauses (text.fidelity among them, for the sentence before the call) all
    # run: none is unsupported.
    result.stdout.fnmatch_lines(
        ["TestTiny (openai): 7 pass, 0 fail, 0 xfail, 0 xpass, 0 unsupported, *"]
    )


def test_contract_marker_and_k_select(contract: pytest.Pytester) -> None:
    assert _run(contract, "-q", "--strict-markers", "-m", "not contract").ret == (
        pytest.ExitCode.NO_TESTS_COLLECTED
    )
    selected = _run(contract, "-q", "-m", "contract", "-k", "text_basic and fidelity")
    selected.assert_outcomes(xpassed=1)


def test_a_failure_shows_clause_case_reason_troubleshooting_and_wire(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(test_tiny=CONTRACT.replace("return NoTools(", "return DropsLastText("))
    xfailed = _run(pytester, "-q", "-k", "text_basic and fidelity")
    xfailed.assert_outcomes(xfailed=1)  # the known (case, clause) pair
    result = _run(pytester, "-q", "-k", "text_unicode and fidelity")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(
        [
            "[[]openai[]] text.fidelity on text_unicode: text * != sent *",
            "troubleshooting: Usually text is stripped*",
            "wire evidence:",
            '  request (stream): {"model":*',
            "  served: 200 text/event-stream*",
            "    data: *",
        ]
    )
    assert "Traceback" not in result.stdout.str()
    assert "def test_contract" not in result.stdout.str()  # no plugin internals


def test_works_under_xdist(contract: pytest.Pytester) -> None:
    pytest.importorskip("xdist")
    result = _run(contract, "-q", "-n", "2", "-k", "text_basic or unsupported")
    assert result.ret == pytest.ExitCode.OK
    result.stdout.fnmatch_lines(["TestTiny (openai): 9 pass, 0 fail, 0 xfail, 1 xpass, 4 unsup*"])


def test_record_mode_once_records_missing_cassettes_then_replays(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(
        test_tiny=CONTRACT.replace(
            "    CASSETTE_ROOT = None", "    cassette_root = Path(__file__).parent / 'cassettes'"
        )
    )
    missing = _run(pytester, "-q", "-k", "text_basic and shape")
    assert missing.ret == pytest.ExitCode.TESTS_FAILED
    missing.stdout.fnmatch_lines(
        [
            "cassette problem, not a provider failure: missing cassette *; record it with "
            "`pytest test_tiny.py::TestTiny --contract-record-mode=once -k text_basic`"
        ]
    )
    # `[...]` is a shell glob: such an id is quoted in the command to copy
    bracketed = _run(pytester, "-q", "-k", "finish_values and mapping")
    assert (
        "record it with `pytest test_tiny.py::TestTiny --contract-record-mode=once "
        "-k 'finish_values[stop]'`"
    ) in bracketed.stdout.str()
    recorded = _run(pytester, "-q", "--contract-record-mode=once", "-k", "text_basic")
    assert recorded.ret == pytest.ExitCode.OK
    assert (pytester.path / "cassettes" / "openai" / "text_basic.yaml").is_file()
    replayed = _run(pytester, "-q", "-k", "text_basic")
    assert replayed.ret == pytest.ExitCode.OK


def test_loopback_only_is_offered_as_option_and_fixture(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_net="""
        import socket
        import pytest
        from contracts.netguard import NetworkBlockedError

        def test_fixture(loopback_only):
            with socket.socket() as sock, pytest.raises(NetworkBlockedError):
                sock.connect(("192.0.2.1", 443))
        """
    )
    assert _run(pytester, "-q").ret == pytest.ExitCode.OK
    pytester.makepyfile(
        test_net="""
        import socket
        import pytest

        def test_option():
            with socket.socket() as sock, pytest.raises(ConnectionRefusedError, match="loopback"):
                sock.connect(("192.0.2.1", 443))
        """
    )
    assert _run(pytester, "-q", "--loopback-only").ret == pytest.ExitCode.OK


def test_loading_the_plugin_imports_nothing_heavy() -> None:
    code = (
        "import sys, contracts.plugin; "
        "heavy = [m for m in ('openai', 'httpx2', 'vcr', 'pydantic', 'contracts.suite') "
        "if m in sys.modules]; print(heavy)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert out.stdout.strip() == "[]"


@pytest.mark.parametrize(
    ("defect", "says"),
    [
        (
            '"text.fidlity"',
            "TestTiny.known_defects: no clause 'text.fidlity' (did you mean 'text.fidelity'?)",
        ),
        (
            '("text_basik", "text.fidelity")',
            "TestTiny.known_defects: no case 'text_basik' for vendor openai "
            "(did you mean 'text_basic'?)",
        ),
    ],
    ids=["clause", "case"],
)
def test_a_known_defect_naming_nothing_is_refused_without_a_traceback(
    pytester: pytest.Pytester, defect: str, says: str
) -> None:
    pytester.makepyfile(test_tiny=CONTRACT.replace('("text_basic", "text.fidelity")', defect))
    result = _run(pytester, "-q")
    assert result.ret == pytest.ExitCode.INTERRUPTED
    result.stdout.fnmatch_lines([f"*{says}*"])
    assert "Traceback" not in result.stdout.str()
    assert "def pytest_generate_tests" not in result.stdout.str()


@pytest.mark.parametrize("mode", ["once", "all"])
def test_a_record_mode_without_a_cassette_root_is_refused(
    contract: pytest.Pytester, mode: str
) -> None:
    result = _run(contract, "-q", f"--contract-record-mode={mode}")
    assert result.ret == pytest.ExitCode.INTERRUPTED
    result.stdout.fnmatch_lines(
        [f"*--contract-record-mode={mode} records cassettes, but TestTiny has no cassette_root*"]
    )


def test_xfail_strict_from_the_users_config_is_honoured(contract: pytest.Pytester) -> None:
    # text_basic's text.fidelity is declared a known defect but holds: strict makes it fail.
    selected = ("-q", "-k", "text_basic and fidelity")
    _run(contract, *selected).assert_outcomes(xpassed=1)
    strict = _run(contract, *selected, "-o", "xfail_strict=true")
    strict.assert_outcomes(failed=1)
    strict.stdout.fnmatch_lines(["*XPASS(strict)*a known defect on one case only*"])


#: One httpx2 request whose body the server cuts off: httpx2 must say so with its own error.
CUT_BODY = """
import httpx2
from contracts.replica.server import ReplicaServer, Script, ScriptedResponse

def read_a_cut_body():
    cut = ScriptedResponse.sse((b"data: one\\n\\n", b"data: two\\n\\n"), disconnect_after=1)
    with ReplicaServer(Script(cut)) as server, httpx2.Client() as client:
        try:
            client.get(server.base_url).read()
        except httpx2.RemoteProtocolError:
            return "httpx2.RemoteProtocolError"
        except Exception as exc:
            return f"{type(exc).__module__}.{type(exc).__name__}"
    return "no error"
"""


def test_an_in_process_run_leaves_http_errors_mapped_for_the_rest_of_the_process(
    pytester: pytest.Pytester,
) -> None:
    """pytester restores sys.modules after an in-process run, dropping what the inner session
    imported first. httpx2 imports httpcore2 on its first request and keeps its exception
    classes: were that import dropped, a re-imported httpcore2's errors would escape httpx2
    unmapped, and a cut stream would surface as a raw httpcore2 error, not StreamTruncatedError
    (the groq disconnect case of a later in-process certify failed so). tests/conftest.py
    imports httpcore2 before any inner run; run alone, this test fails without that."""
    pytester.makepyfile(
        test_inner=CUT_BODY
        + "\ndef test_inner():\n    assert read_a_cut_body() == 'httpx2.RemoteProtocolError'\n"
    )
    _run(pytester, "-q", "-p", "no:randomly").assert_outcomes(passed=1)
    scope: dict[str, object] = {}
    exec(CUT_BODY, scope)  # the same code, now in the outer process
    assert scope["read_a_cut_body"]() == "httpx2.RemoteProtocolError"  # type: ignore[operator]
