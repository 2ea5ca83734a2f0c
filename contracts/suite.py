"""`ProviderContract`: the inheritable contract test class (langchain-tests style).

Subclass it, say which vendor dialect your provider talks to, and build your provider from a
base URL and a key; every clause then runs against it through the loopback replica (or your
cassettes), as one test per (scenario case, clause):

    class TestMyProvider(ProviderContract):
        vendor = "openai"

        def make_provider(self, base_url: str, api_key: SecretStr) -> LlmProvider:
            return MyProvider(base_url=base_url, api_key=api_key.get_secret_value())

Capabilities come from what your provider declares (`make_provider(...).capabilities`), or
from a `capabilities` class attribute that overrides it; a clause needing a capability your
provider lacks is reported `unsupported`, one no answer called for `not-exercised` (both skips).
`known_defects` maps a clause id, or a (case id, clause id) pair, to the reason it is known to
fail: those tests are xfails, and a blank reason is refused. A failure shows the clause, the
vendor dialect, the case, the reason, what usually causes it and the wire evidence.
"""

from __future__ import annotations

import asyncio
import difflib
import shlex
from collections.abc import Iterable
from pathlib import Path
from typing import Any, ClassVar

from pydantic import SecretStr

from providers.extras import requires
from providers.types import LlmProvider, ProviderCapabilities
from providers.vendors import VendorProfile, load_profile

with requires("contracts.suite (the ProviderContract base class)"):
    import pytest

    from contracts.certification import (
        DefectKey,
        applicable_cases,
        judge,
        known_defect,
        missing_capability,
    )
    from contracts.checks import not_exercised
    from contracts.plugin import CONTRACT_LABEL, SKIP_REASON
    from contracts.runner import CONTRACT_KEY, CaseSetupError, Mode, Outcome, run_case
    from contracts.spec import Case, cases_for, load_clauses, load_scenarios
    from contracts.vendors import load_suite_profile

#: A base URL nothing listens on: building a provider to read its capabilities sends nothing.
_NOWHERE = "http://127.0.0.1:9/v1"


class ContractDefinitionError(TypeError):
    """A ProviderContract subclass is declared wrongly (e.g. an xfail without a reason)."""


class ProviderContract:
    vendor: ClassVar[str] = "openai"
    #: None: what the provider built by make_provider() declares.
    capabilities: ClassVar[ProviderCapabilities | None] = None
    #: A clause id (every case) or a (case id, clause id) pair -> why it is known to fail.
    known_defects: ClassVar[dict[DefectKey, str]] = {}
    #: None: serve every case from the loopback replica; a folder: replay its cassettes
    #: (record them with `pytest --contract-record-mode=once`).
    cassette_root: ClassVar[Path | None] = None

    _outcomes: ClassVar[dict[tuple[type[Any], str], Outcome]] = {}

    def make_provider(self, base_url: str, api_key: SecretStr) -> LlmProvider:
        raise NotImplementedError(f"{type(self).__name__} must define make_provider()")

    @classmethod
    def profile(cls) -> VendorProfile:
        return load_profile(cls.vendor)

    @classmethod
    def declared_capabilities(cls) -> ProviderCapabilities:
        """The class's override, else what its provider declares."""
        if cls.capabilities is not None:
            return cls.capabilities
        return cls().make_provider(_NOWHERE, SecretStr(CONTRACT_KEY)).capabilities

    def _mode(self, case: Case, record_mode: str) -> Mode:
        if self.cassette_root is None:
            return "replica"
        if record_mode == "all":
            return "record-replica"
        missing = not (self.cassette_root / self.vendor / f"{case.id}.yaml").is_file()
        return "record-replica" if record_mode == "once" and missing else "replay"

    def _remedy(self, request: pytest.FixtureRequest, case: Case) -> str:
        """The user's own command (re-)recording this case's cassette from their provider."""
        selected = shlex.quote(request.node.nodeid.rpartition("::")[0])  # path::Class
        assert self.cassette_root is not None
        missing = not (self.cassette_root / self.vendor / f"{case.id}.yaml").is_file()
        mode, verb = ("once", "record it") if missing else ("all", "re-record it")
        command = f"pytest {selected} --contract-record-mode={mode} -k {shlex.quote(case.id)}"
        return f"{verb} with `{command}`" + ("" if missing else " and review the diff")

    def _outcome(self, case: Case, record_mode: str) -> Outcome:
        """Each case runs once per class; its clauses are separate tests over the outcome."""
        key = (type(self), case.id)
        if key not in self._outcomes:
            self._outcomes[key] = asyncio.run(
                run_case(
                    case,
                    self.profile(),
                    self.make_provider,
                    mode=self._mode(case, record_mode),
                    cassette_root=self.cassette_root,
                )
            )
        return self._outcomes[key]

    # A plain test running its own event loop: third parties need no pytest-asyncio setup.
    def test_contract(
        self, contract_case: tuple[Case | None, str], request: pytest.FixtureRequest
    ) -> None:
        case, clause_id = contract_case
        stash = request.node.stash
        stash[CONTRACT_LABEL] = (f"{type(self).__name__} ({self.vendor})", clause_id)
        if case is None:
            stash[SKIP_REASON] = "unsupported"
            needed = load_clauses()[clause_id].requires
            pytest.skip(f"unsupported: the provider declares no {needed} capability")
        record_mode = str(request.config.getoption("contract_record_mode", default="none"))
        problem: str | None = None
        try:
            outcome = self._outcome(case, record_mode)
        except CaseSetupError as exc:
            problem = exc.problem
        if problem is not None:  # failed outside the handler: no chained bundled remedy shown
            pytest.fail(
                f"cassette problem, not a provider failure: {problem}; "
                + self._remedy(request, case),
                pytrace=False,
            )
        detail, failure = judge(case, clause_id, self.profile(), outcome)
        if not_exercised(detail):
            stash[SKIP_REASON] = "not-exercised"
            pytest.skip(f"not-exercised: no answer on {case.id} called for {clause_id}")
        if failure is not None:
            pytest.fail(str(failure), pytrace=False)


def _check_known_defects(cls: type[ProviderContract], profile: VendorProfile) -> None:
    """Refuse a known defect that names no clause or no case: a typo would otherwise turn
    into an xfail that marks nothing, and the defect would fail as if unknown."""
    blank = [clause for clause, reason in cls.known_defects.items() if not reason.strip()]
    if blank:
        raise ContractDefinitionError(
            f"{cls.__name__}.known_defects: an xfail needs a reason; blank for {blank}"
        )
    clauses = load_clauses()
    case_ids = {case.id for scenario in load_scenarios() for case in cases_for(scenario, profile)}
    for key in cls.known_defects:
        case_id, clause_id = key if isinstance(key, tuple) else (None, key)
        if clause_id not in clauses:
            raise ContractDefinitionError(
                f"{cls.__name__}.known_defects: no clause {clause_id!r}"
                + _did_you_mean(clause_id, clauses)
            )
        if case_id is not None and case_id not in case_ids:
            raise ContractDefinitionError(
                f"{cls.__name__}.known_defects: no case {case_id!r} for vendor {profile.name}"
                + _did_you_mean(case_id, case_ids)
            )


def _did_you_mean(name: str, known: Iterable[str]) -> str:
    close = difflib.get_close_matches(name, sorted(known), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def contract_params(cls: type[ProviderContract], record_mode: str = "none") -> list[Any]:
    """One pytest param per (case, clause) this class's provider can be held to, and one
    per clause it cannot (reported unsupported)."""
    if record_mode != "none" and cls.cassette_root is None:
        raise ContractDefinitionError(
            f"--contract-record-mode={record_mode} records cassettes, but {cls.__name__} has no "
            "cassette_root to record them into: set `cassette_root = Path(...)` on the class"
        )
    profile = cls.profile()
    _check_known_defects(cls, profile)
    capabilities = cls.declared_capabilities()
    known: dict[DefectKey, str] = {}
    known.update(load_suite_profile(profile.name).known_defects)
    known.update(cls.known_defects)
    contract = pytest.mark.contract
    params = []
    for case, clause_ids in applicable_cases(profile, capabilities):
        for clause_id in clause_ids:
            reason = known_defect(known, case.id, clause_id)
            # Strictness is the user's `xfail_strict`; a defect declared per clause may show
            # in some of its cases only, which strict mode reports as XPASS(strict).
            marks = [contract, pytest.mark.xfail(reason=reason)] if reason else [contract]
            params.append(pytest.param((case, clause_id), id=f"{case.id}-{clause_id}", marks=marks))
    for clause in load_clauses().values():
        if missing_capability(clause.requires, capabilities):
            params.append(
                pytest.param((None, clause.id), id=f"unsupported-{clause.id}", marks=[contract])
            )
    return params
