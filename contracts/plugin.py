"""pytest plugin (entry point `pytest11`): runs every `ProviderContract` subclass.

It parametrizes each subclass's `test_contract` over (scenario case, clause) and, at the end of
the session, prints which clauses held per vendor, so a CI log shows the contract at a glance.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterator

import pytest

from contracts.replica import ReplicaServer, Responder
from contracts.suite import CONTRACT_PROPERTY, ProviderContract, contract_params


@pytest.fixture
def vendor_replica() -> Iterator[Callable[[Responder], ReplicaServer]]:
    """Start loopback replicas (127.0.0.1, ephemeral port); each stops when the test ends.

    `vendor_replica(protocol_for(load_profile("glm")).responder(case))` or any callable
    that maps a recorded request to a `ScriptedResponse`.
    """
    servers: list[ReplicaServer] = []

    def start(responder: Responder) -> ReplicaServer:
        server = ReplicaServer(responder).__enter__()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.__exit__(None, None, None)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    cls = metafunc.cls
    if (
        cls is not None
        and issubclass(cls, ProviderContract)
        and ("contract_case" in metafunc.fixturenames)
    ):
        metafunc.parametrize("contract_case", contract_params(cls))


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    failed: dict[str, set[str]] = defaultdict(set)
    clauses: dict[str, set[str]] = defaultdict(set)
    for outcome in ("passed", "failed", "xfailed", "xpassed"):
        for report in terminalreporter.stats.get(outcome, []):
            for name, value in getattr(report, "user_properties", []):
                if name == CONTRACT_PROPERTY and report.when == "call":
                    contract, clause = value
                    clauses[contract].add(clause)
                    if outcome == "failed":
                        failed[contract].add(clause)
    if not clauses:
        return
    terminalreporter.section("llm-contracts")
    for contract in sorted(clauses):
        broken = sorted(failed[contract])
        held = len(clauses[contract]) - len(broken)
        line = f"{contract}: {held}/{len(clauses[contract])} clauses hold"
        terminalreporter.write_line(line + (f"; FAILED: {', '.join(broken)}" if broken else ""))
