"""Certify one vendor: every applicable scenario case, every clause, folded into verdicts."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from urllib.parse import urlsplit

from pydantic import SecretStr

from contracts.checks import CHECKS, Context
from contracts.report import ClauseResult, VendorResult, shorten
from contracts.runner import CONTRACT_KEY, CaseSetupError, Mode, ProviderFactory, run_case
from contracts.spec import Case, Clause, Scenario, cases_for, load_clauses, load_scenarios
from providers.types import ProviderCapabilities
from providers.vendors import VendorProfile

Progress = Callable[[str, int, int], None]


def missing_capability(requires: str | None, capabilities: ProviderCapabilities) -> str | None:
    if requires and not getattr(capabilities, requires):
        return requires
    return None


def applicable_cases(
    profile: VendorProfile, capabilities: ProviderCapabilities
) -> list[tuple[Case, list[str]]]:
    """Each case the vendor can run, with the clauses it checks there."""
    clauses = load_clauses()
    found: list[tuple[Case, list[str]]] = []
    for scenario in load_scenarios():
        if missing_capability(scenario.requires, capabilities):
            continue
        checked = [
            clause
            for clause in scenario.clauses
            if not missing_capability(clauses[clause].requires, capabilities)
        ]
        found.extend((case, checked) for case in cases_for(scenario, profile))
    return found


def _fold(
    clause: Clause,
    results: list[tuple[str, str | None]],
    capabilities: ProviderCapabilities,
    known_defects: Mapping[str, str],
    scenarios: list[Scenario],
) -> ClauseResult:
    lacking = missing_capability(clause.requires, capabilities)
    if lacking or not results:
        needed = lacking or next(
            (s.requires for s in scenarios if clause.id in s.clauses and s.requires), None
        )
        return ClauseResult(
            verdict="unsupported",
            level=clause.level,
            reason=f"the provider declares no {needed} capability",
        )
    failures = [f"{case}: {shorten(detail)}" for case, detail in results if detail is not None]
    if failures and clause.id in known_defects:
        return ClauseResult(
            verdict="xfail",
            level=clause.level,
            reason=known_defects[clause.id],
            evidence=failures,
            cases=len(results),
        )
    return ClauseResult(
        verdict="fail" if failures else "pass",
        level=clause.level,
        evidence=failures,
        cases=len(results),
    )


async def certify_vendor(
    profile: VendorProfile,
    factory: ProviderFactory,
    *,
    mode: Mode,
    cassette_root: Path | None = None,
    known_defects: Mapping[str, str] | None = None,
    progress: Progress | None = None,
) -> VendorResult:
    known_defects = {**profile.known_defects, **(known_defects or {})}
    capabilities = factory("http://127.0.0.1:9/v1", SecretStr(CONTRACT_KEY)).capabilities
    cases = applicable_cases(profile, capabilities)
    results: dict[str, list[tuple[str, str | None]]] = {}
    provenance: dict[str, str] = {}
    for number, (case, clause_ids) in enumerate(cases, start=1):
        if progress:
            progress(case.id, number, len(cases))
        try:
            outcome = await run_case(case, profile, factory, mode=mode, cassette_root=cassette_root)
        except CaseSetupError as exc:
            for clause_id in clause_ids:
                results.setdefault(clause_id, []).append((case.id, str(exc)))
            provenance[case.id] = "missing"
            continue
        provenance[case.id] = outcome.provenance
        context = Context(case, profile, outcome)
        for clause_id in clause_ids:
            results.setdefault(clause_id, []).append((case.id, CHECKS[clause_id](context)))
    scenarios = load_scenarios()
    return VendorResult(
        vendor=profile.name,
        model=profile.default_model,
        base_url_host=urlsplit(profile.base_url).hostname or "",
        provenance=provenance,
        clauses={
            clause.id: _fold(
                clause, results.get(clause.id, []), capabilities, known_defects, scenarios
            )
            for clause in load_clauses().values()
        },
    )
