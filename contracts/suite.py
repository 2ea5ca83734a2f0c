"""`ProviderContract`: the inheritable contract test class (langchain-tests style).

Subclass it, say which vendor dialect your provider talks to, and build your provider from a
base URL and a key; every clause then runs against it through the loopback replica (or your
cassettes), as one test per (scenario case, clause):

    class TestMyProvider(ProviderContract):
        vendor = "openai"

        def make_provider(self, base_url: str, api_key: SecretStr) -> LlmProvider:
            return MyProvider(base_url=base_url, api_key=api_key.get_secret_value())

Capabilities come from `capabilities` (default: the vendor profile's); clauses that need a
capability your provider lacks are not generated. `known_defects` maps a clause id to the
reason it is known to fail: those tests are xfails, and a blank reason is refused.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar

import pytest
from pydantic import SecretStr

from contracts.certification import applicable_cases
from contracts.checks import CHECKS, NOT_EXERCISED, Context
from contracts.runner import Mode, Outcome, run_case
from contracts.spec import Case
from contracts.vendors import load_suite_profile
from providers.types import LlmProvider, ProviderCapabilities
from providers.vendors import VendorProfile, load_profile

#: The test report property the plugin reads to print the vendor x clause summary.
CONTRACT_PROPERTY = "llm_contract"


class ContractDefinitionError(TypeError):
    """A ProviderContract subclass is declared wrongly (e.g. an xfail without a reason)."""


class ProviderContract:
    vendor: ClassVar[str] = "openai"
    capabilities: ClassVar[ProviderCapabilities | None] = None
    known_defects: ClassVar[dict[str, str]] = {}
    #: None: serve every case from the loopback replica; a folder: replay its cassettes.
    cassette_root: ClassVar[Path | None] = None

    _outcomes: ClassVar[dict[tuple[type[Any], str], Outcome]] = {}

    def make_provider(self, base_url: str, api_key: SecretStr) -> LlmProvider:
        raise NotImplementedError(f"{type(self).__name__} must define make_provider()")

    @classmethod
    def profile(cls) -> VendorProfile:
        return load_profile(cls.vendor)

    def _outcome(self, case: Case) -> Outcome:
        """Each case runs once per class; its clauses are separate tests over the outcome."""
        key = (type(self), case.id)
        if key not in self._outcomes:
            mode: Mode = "replica" if self.cassette_root is None else "replay"
            self._outcomes[key] = asyncio.run(
                run_case(
                    case,
                    self.profile(),
                    self.make_provider,
                    mode=mode,
                    cassette_root=self.cassette_root,
                )
            )
        return self._outcomes[key]

    # A plain test running its own event loop: third parties need no pytest-asyncio setup.
    def test_contract(
        self, contract_case: tuple[Case, str], record_property: Callable[[str, object], None]
    ) -> None:
        case, clause_id = contract_case
        record_property(CONTRACT_PROPERTY, (f"{type(self).__name__} ({self.vendor})", clause_id))
        outcome = self._outcome(case)
        failure = CHECKS[clause_id](Context(case, self.profile(), outcome))
        if failure == NOT_EXERCISED:
            failure = "the scenario's answer never exercised this clause (check the dialect)"
        assert failure is None, f"[{self.vendor}] {clause_id} on {case.id}: {failure}"


def contract_params(cls: type[ProviderContract]) -> list[Any]:
    """One pytest param per (case, clause) this class's provider can be held to."""
    blank = [clause for clause, reason in cls.known_defects.items() if not reason.strip()]
    if blank:
        raise ContractDefinitionError(
            f"{cls.__name__}.known_defects: an xfail needs a reason; blank for {blank}"
        )
    profile = cls.profile()
    capabilities = cls.capabilities or profile.capabilities
    vendor_defects = load_suite_profile(profile.name).known_defects
    params = []
    for case, clause_ids in applicable_cases(profile, capabilities):
        for clause_id in clause_ids:
            reason = cls.known_defects.get(clause_id) or vendor_defects.get(clause_id)
            # Not strict: a defect per clause may show in some cases of that clause only.
            marks = [pytest.mark.xfail(reason=reason, strict=False)] if reason else []
            params.append(pytest.param((case, clause_id), id=f"{case.id}-{clause_id}", marks=marks))
    return params
