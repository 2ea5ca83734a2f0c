"""Certify one vendor: every applicable scenario case, every clause, folded into verdicts."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from pydantic import SecretStr

from contracts.checks import CHECKS, NOT_EXERCISED, Context
from contracts.imported import imported_cases
from contracts.report import ClauseResult, VendorResult, shorten
from contracts.runner import (
    CONTRACT_KEY,
    CaseSetupError,
    LiveTarget,
    Mode,
    Outcome,
    ProviderFactory,
    run_case,
)
from contracts.spec import Case, Clause, Scenario, cases_for, load_clauses, load_scenarios
from contracts.vendors import load_suite_profile
from providers.types import MessageDelta, ProviderCapabilities
from providers.vendors import VendorProfile

Progress = Callable[[str, int, int], None]


def evidence(outcome: Outcome) -> str:
    """The event sequence and the errors, compactly: what a reviewer needs to see first."""
    runs: list[list[Any]] = []
    for event in outcome.events:
        name = type(event).__name__
        if isinstance(event, MessageDelta):
            name += f"({event.stop_reason.value}/{event.raw_stop_reason})"
        if runs and runs[-1][0] == name:
            runs[-1][1] += 1
        else:
            runs.append([name, 1])
    text = "events: " + (" ".join(n if c == 1 else f"{n}x{c}" for n, c in runs) or "none")
    for path, error in (("stream", outcome.stream_error), ("complete", outcome.complete_error)):
        if error is not None:
            text += f"; {path}() raised {type(error).__name__}"
    return text


def capabilities_of(factory: ProviderFactory) -> ProviderCapabilities:
    """What the factory's provider declares; building one sends nothing anywhere."""
    return factory("http://127.0.0.1:9/v1", SecretStr(CONTRACT_KEY)).capabilities


def missing_capability(requires: str | None, capabilities: ProviderCapabilities) -> str | None:
    if requires and not getattr(capabilities, requires):
        return requires
    return None


def applicable_cases(
    profile: VendorProfile, capabilities: ProviderCapabilities, *, live: bool = False
) -> list[tuple[Case, list[str]]]:
    """Each case the vendor can run, with the clauses it checks there."""
    found: list[tuple[Case, list[str]]] = []
    for scenario in load_scenarios():
        if missing_capability(scenario.requires, capabilities):
            continue
        if live and (scenario.live == "skip" or scenario.replica_only):
            continue
        checked = _checked(scenario.clauses, capabilities)
        found.extend((case, checked) for case in cases_for(scenario, profile))
    return found


def _checked(clause_ids: Iterable[str], capabilities: ProviderCapabilities) -> list[str]:
    """The clauses whose capability the provider declares."""
    clauses = load_clauses()
    return [c for c in clause_ids if not missing_capability(clauses[c].requires, capabilities)]


def _unsupported(clause: Clause, reason: str) -> ClauseResult:
    return ClauseResult(verdict="unsupported", level=clause.level, reason=reason)


def _fold(
    clause: Clause,
    results: list[tuple[str, str | None]],
    capabilities: ProviderCapabilities,
    known_defects: Mapping[str, str],
    scenarios: list[Scenario],
) -> ClauseResult:
    needed = missing_capability(clause.requires, capabilities) or next(
        (s.requires for s in scenarios if clause.id in s.clauses and s.requires), None
    )
    if not results:
        if needed and missing_capability(needed, capabilities):
            return _unsupported(clause, f"the provider declares no {needed} capability")
        return _unsupported(
            clause,
            "no case here can provoke it (a live endpoint cannot be "
            "made to fail on cue); replay and the replica cover it",
        )
    exercised = [(case, detail) for case, detail in results if detail != NOT_EXERCISED]
    if not exercised:
        return _unsupported(clause, "not exercised: no answer the vendor gave called for it")
    failures = [f"{case}: {shorten(detail)}" for case, detail in exercised if detail is not None]
    if failures and clause.id in known_defects:
        return ClauseResult(
            verdict="xfail",
            level=clause.level,
            reason=known_defects[clause.id],
            evidence=failures,
            cases=len(exercised),
        )
    return ClauseResult(
        verdict="fail" if failures else "pass",
        level=clause.level,
        evidence=failures,
        cases=len(exercised),
    )


async def certify_vendor(
    profile: VendorProfile,
    factory: ProviderFactory,
    *,
    mode: Mode,
    cassette_root: Path | None = None,
    live: LiveTarget | None = None,
    model: str | None = None,
    known_defects: Mapping[str, str] | None = None,
    progress: Progress | None = None,
) -> VendorResult:
    """Verdicts per clause for one vendor. In live mode only cases a live endpoint can
    provoke run; the others' clauses come out unsupported, with the reason."""
    known_defects = {**load_suite_profile(profile.name).known_defects, **(known_defects or {})}
    capabilities = capabilities_of(factory)
    cases = applicable_cases(profile, capabilities, live=live is not None)
    if mode == "replay" and cassette_root is not None:
        cases += [
            (case, _checked(case.scenario.clauses, capabilities))
            for case in imported_cases(profile.name, cassette_root)
        ]
    results: dict[str, list[tuple[str, str | None]]] = {}
    provenance: dict[str, str] = {}
    for number, (case, clause_ids) in enumerate(cases, start=1):
        if progress:
            progress(case.id, number, len(cases))
        try:
            outcome = await run_case(
                case, profile, factory, mode=mode, cassette_root=cassette_root, live=live
            )
        except CaseSetupError as exc:
            for clause_id in clause_ids:
                results.setdefault(clause_id, []).append((case.id, str(exc)))
            provenance[case.id] = "missing"
            continue
        provenance[case.id] = outcome.provenance
        context = Context(case, profile, outcome)
        for clause_id in clause_ids:
            detail = CHECKS[clause_id](context)
            if detail not in (None, NOT_EXERCISED):
                detail = f"{detail} [{evidence(outcome)}]".replace(outcome.secret, "[REDACTED]")
            results.setdefault(clause_id, []).append((case.id, detail))
    scenarios = load_scenarios()
    return VendorResult(
        vendor=profile.name,
        model=model or profile.default_model,
        base_url_host=urlsplit(live.base_url if live else profile.base_url).hostname or "",
        provenance=provenance,
        clauses={
            clause.id: _fold(
                clause, results.get(clause.id, []), capabilities, known_defects, scenarios
            ).model_copy(update={"sources": _sources(results.get(clause.id, []), provenance)})
            for clause in load_clauses().values()
        },
    )


def _sources(results: list[tuple[str, str | None]], provenance: dict[str, str]) -> dict[str, int]:
    """How many exercised cases of each provenance (replica, imported, live) judged a clause."""
    counts: dict[str, int] = {}
    for case, detail in results:
        if detail != NOT_EXERCISED:
            source = provenance.get(case, "unknown")
            counts[source] = counts.get(source, 0) + 1
    return counts
