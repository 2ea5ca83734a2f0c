"""pytest plugin (entry point `pytest11`): runs every `ProviderContract` subclass.

It parametrizes each subclass's `test_contract` over (scenario case, clause), registers the
`contract` marker, offers a loopback-only network guard and a cassette record mode, and at the
end of the session prints per class how many clauses pass, fail, xfail, xpass, are unsupported
or were not exercised.

Loading it imports only pytest and the standard library: every project with llm-contracts
installed loads it, and most never run a contract test.
"""

from __future__ import annotations

import sys
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from contracts.replica import ReplicaServer, Responder

#: On a contract test's item, then its report: (class label, clause id), for the summary.
#: Not a `record_property`: junit's xunit2 family refuses those with a warning per test.
CONTRACT_LABEL = pytest.StashKey[tuple[str, str]]()
#: Why a contract test was skipped: unsupported or not-exercised.
SKIP_REASON = pytest.StashKey[str]()
#: The report attributes they are copied to (plain data, so they survive pytest-xdist).
_LABEL_ATTRIBUTE = "llm_contract"
_SKIP_ATTRIBUTE = "llm_contract_skip"
#: How verdicts fold over a clause's cases, worst first.
_PRECEDENCE = ("fail", "xfail", "xpass", "pass", "not-exercised", "unsupported")
#: The order the summary counts them in.
_SHOWN = ("pass", "fail", "xfail", "xpass", "unsupported", "not-exercised")
RECORD_MODES = ("none", "once", "all")


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("llm-contracts")
    group.addoption(
        "--contract-record-mode",
        choices=RECORD_MODES,
        default="none",
        help="for ProviderContract classes with a cassette_root: none (replay only, the "
        "default), once (record missing cassettes from your provider against the replica), "
        "all (re-record every cassette)",
    )
    group.addoption(
        "--loopback-only",
        action="store_true",
        help="refuse every network connection beyond 127.0.0.1/::1 for the whole run",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "contract: a llm-contracts clause test (select with -m contract)"
    )
    if config.getoption("loopback_only", default=False):
        from contracts.netguard import loopback_only  # noqa: PLC0415 - only when asked for

        guard = ExitStack()
        guard.enter_context(loopback_only())
        config.add_cleanup(guard.close)


@pytest.fixture
def loopback_only() -> Iterator[None]:
    """Opt-in, per test: any connection beyond loopback raises NetworkBlockedError."""
    from contracts.netguard import loopback_only as guard  # noqa: PLC0415 - lazy by design

    with guard():
        yield


@pytest.fixture
def vendor_replica() -> Iterator[Callable[[Responder], ReplicaServer]]:
    """Start loopback replicas (127.0.0.1, ephemeral port); each stops when the test ends.

    `vendor_replica(protocol_for(load_profile("glm")).responder(case))` or any callable
    that maps a recorded request to a `ScriptedResponse`.
    """
    from contracts.replica import ReplicaServer  # noqa: PLC0415 - lazy by design

    servers: list[ReplicaServer] = []

    def start(responder: Responder) -> ReplicaServer:
        server = ReplicaServer(responder).__enter__()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.__exit__(None, None, None)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    # A module defining a ProviderContract subclass has imported contracts.suite already;
    # anything else is not ours, and is left without importing the suite.
    suite = sys.modules.get("contracts.suite")
    cls = metafunc.cls
    if (
        suite is not None
        and cls is not None
        and issubclass(cls, suite.ProviderContract)
        and "contract_case" in metafunc.fixturenames
    ):
        record_mode = str(metafunc.config.getoption("contract_record_mode", default="none"))
        try:
            params = suite.contract_params(cls, record_mode)
        except suite.ContractDefinitionError as exc:
            pytest.fail(str(exc), pytrace=False)  # the class is wrong, not our code: no traceback
        metafunc.parametrize("contract_case", params)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item) -> Iterator[None]:
    report = yield
    label = item.stash.get(CONTRACT_LABEL, None)
    if label is not None:
        setattr(report, _LABEL_ATTRIBUTE, list(label))
        setattr(report, _SKIP_ATTRIBUTE, item.stash.get(SKIP_REASON, "not-exercised"))
    return report


def _verdict(report: pytest.TestReport) -> str:
    if hasattr(report, "wasxfail"):
        return "xpass" if report.passed else "xfail"
    if report.failed:
        return "fail"
    if report.skipped:
        return str(getattr(report, _SKIP_ATTRIBUTE, "not-exercised"))
    return "pass"


def contract_verdicts(
    reports: list[pytest.TestReport],
) -> dict[str, dict[str, str]]:
    """Per contract class, each clause's verdict folded over its cases (worst first)."""
    found: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for report in reports:
        label = getattr(report, _LABEL_ATTRIBUTE, None)
        if label is None or report.when != "call":
            continue
        contract, clause = label
        found[contract][clause].add(_verdict(report))
    return {
        contract: {
            clause: next(v for v in _PRECEDENCE if v in verdicts)
            for clause, verdicts in clauses.items()
        }
        for contract, clauses in found.items()
    }


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    reports = [
        report
        for outcome in ("passed", "failed", "skipped", "xfailed", "xpassed")
        for report in terminalreporter.stats.get(outcome, [])
        if isinstance(report, pytest.TestReport)
    ]
    verdicts = contract_verdicts(reports)
    if not verdicts:
        return
    terminalreporter.section("llm-contracts")
    for contract in sorted(verdicts):
        clauses = verdicts[contract]
        counts = ", ".join(
            f"{sum(v == verdict for v in clauses.values())} {verdict}" for verdict in _SHOWN
        )
        line = f"{contract}: {counts} ({len(clauses)} clauses)"
        broken = sorted(clause for clause, verdict in clauses.items() if verdict == "fail")
        terminalreporter.write_line(line + (f"; FAILED: {', '.join(broken)}" if broken else ""))
