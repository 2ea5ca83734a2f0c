"""Certify one vendor: every applicable scenario case, every clause, folded into verdicts."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from pydantic import SecretStr

from contracts.cassettes import CassetteRoot
from contracts.checks import CHECKS, NOT_EXERCISED, Context, NotExercised, not_exercised
from contracts.checks_features import JUDGES_REFUSALS, refused_as_declared
from contracts.explain import REDACTED, Failure, wire_evidence
from contracts.imported import imported_cases
from contracts.protocols import protocol_for
from contracts.report import (
    ClauseResult,
    UsageSource,
    VendorResult,
    Verdict,
    sdk_label,
    shorten,
)
from contracts.runner import (
    CANNOT_PROVOKE,
    CASE_DEADLINE_SECONDS,
    CONTRACT_KEY,
    CaseSetupError,
    EndpointUnusable,
    LiveTarget,
    Mode,
    Outcome,
    ProviderFactory,
    connect_problem,
    run_case,
    unprovoked,
    unusable,
)
from contracts.spec import Case, Clause, Scenario, cases_for, load_clauses, load_scenarios
from contracts.vendors import load_suite_profile
from providers.types import MessageDelta, ProviderCapabilities, Usage
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


def usage_source(outcome: Outcome) -> UsageSource | None:
    """Whether the stream's Usage came from the vendor or was estimated; None without one."""
    usage = next((event for event in outcome.events if isinstance(event, Usage)), None)
    if usage is None:
        return None
    return "estimated" if usage.estimated else "reported"


def capabilities_of(factory: ProviderFactory) -> ProviderCapabilities:
    """What the factory's provider declares; building one sends nothing anywhere."""
    return factory("http://127.0.0.1:9/v1", SecretStr(CONTRACT_KEY)).capabilities


def missing_capability(requires: str | None, capabilities: ProviderCapabilities) -> str | None:
    if requires and not getattr(capabilities, requires):
        return requires
    return None


def applicable_cases(
    profile: VendorProfile, capabilities: ProviderCapabilities, *, live: LiveTarget | None = None
) -> list[tuple[Case, list[str]]]:
    """Each case the vendor can run (against `live`, when given), with the clauses it checks
    there."""
    found: list[tuple[Case, list[str]]] = []
    for scenario in load_scenarios():
        if missing_capability(scenario.requires, capabilities):
            continue
        if live is not None and unprovoked(scenario, live):
            continue
        checked = _checked(scenario.clauses, capabilities)
        found.extend((case, checked) for case in cases_for(scenario, profile))
    return found


def _checked(clause_ids: Iterable[str], capabilities: ProviderCapabilities) -> list[str]:
    """The clauses whose capability the provider declares."""
    clauses = load_clauses()
    return [c for c in clause_ids if not missing_capability(clauses[c].requires, capabilities)]


#: A known defect names a clause (every case) or a (case id, clause id) pair (that case only).
DefectKey = str | tuple[str, str]


def known_defect(known: Mapping[DefectKey, str], case_id: str, clause_id: str) -> str | None:
    """The reason this clause is known to fail on this case, if it is."""
    return known.get((case_id, clause_id)) or known.get(clause_id)


@dataclass
class _Findings:
    """What the cases said about one clause, before folding into a verdict."""

    details: list[tuple[str, str | None]] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def _result(clause: Clause, verdict: Verdict, reason: str, **more: Any) -> ClauseResult:
    return ClauseResult(verdict=verdict, level=clause.level, reason=reason, **more)


def _fold(
    clause: Clause,
    found: _Findings,
    capabilities: ProviderCapabilities,
    known_defects: Mapping[DefectKey, str],
    scenarios: list[Scenario],
) -> ClauseResult:
    needed = missing_capability(clause.requires, capabilities) or next(
        (s.requires for s in scenarios if clause.id in s.clauses and s.requires), None
    )
    if not found.details and needed and missing_capability(needed, capabilities):
        return _result(clause, "unsupported", f"the provider declares no {needed} capability")
    exercised = [(case, detail) for case, detail in found.details if not not_exercised(detail)]
    if not exercised:
        said = [detail for _, detail in found.details if detail and detail != NOT_EXERCISED]
        if found.problems:
            reason = f"cassette problem: {found.problems[0]}"
        elif said:
            reason = "; ".join(dict.fromkeys(said))
        elif found.details:
            reason = "no answer the vendor gave called for it"
        else:
            reason = CANNOT_PROVOKE
        return _result(clause, "not-exercised", reason)
    failing = [(case, detail) for case, detail in exercised if detail is not None]
    evidence = [f"{case}: {shorten(detail)}" for case, detail in failing if detail]
    unknown = [case for case, _ in failing if not known_defect(known_defects, case, clause.id)]
    if failing and not unknown:
        reasons = {known_defect(known_defects, case, clause.id) for case, _ in failing}
        return _result(
            clause,
            "xfail",
            "; ".join(sorted(filter(None, reasons))),
            evidence=evidence,
            cases=len(exercised),
        )
    if not failing:
        return _result(clause, "pass", "", cases=len(exercised))
    first = next(f for f in found.failures if f.case in unknown)
    return _result(
        clause,
        "fail",
        "",
        evidence=evidence,
        cases=len(exercised),
        troubleshooting=first.troubleshooting,
        wire=list(first.wire),
    )


def _judged_path(detail: str) -> str:
    """Checks of what complete() returned say so first; every other check judges the stream."""
    return "complete" if detail.startswith("complete()") else "stream"


def judge(
    case: Case, clause_id: str, profile: VendorProfile, outcome: Outcome
) -> tuple[str | None, Failure | None]:
    """The check's verdict detail for one case, and the failure to show when it fails."""
    context = Context(case, profile, outcome)
    if clause_id not in JUDGES_REFUSALS and refused_as_declared(context):
        # Nothing was sent, as the profile says it must not be: only the clause about that
        # feature has something to judge.
        return NOT_EXERCISED, None
    detail = CHECKS[clause_id](context)
    if detail is None or not_exercised(detail):
        return detail, None
    detail = f"{detail} [{evidence(outcome)}]"
    if outcome.secret:
        detail = detail.replace(outcome.secret, REDACTED)
    failure = Failure(
        clause=clause_id,
        vendor=profile.name,
        case=case.id,
        reason=detail,
        troubleshooting=load_clauses()[clause_id].troubleshooting,
        wire=tuple(wire_evidence(outcome.exchanges, outcome.secret, path=_judged_path(detail))),
    )
    return detail, failure


@dataclass(frozen=True)
class CaseFindings:
    """What one case said, before the verdicts: the cases of one vendor can run in several
    processes and be folded in one, in their order."""

    case: str
    provenance: str
    usage: UsageSource | None = None
    #: Why the case could not be run (a cassette problem), said of each of its `clauses`.
    problem: str | None = None
    clauses: tuple[str, ...] = ()
    #: Run: per clause it checks, the check's detail and the failure to show when it fails.
    judged: tuple[tuple[str, str | None, Failure | None], ...] = ()


def vendor_cases(
    profile: VendorProfile,
    capabilities: ProviderCapabilities,
    *,
    mode: Mode,
    cassette_root: CassetteRoot | None,
    live: LiveTarget | None,
) -> list[tuple[Case, list[str]]]:
    """Every case a certification of the vendor runs, in order, with the clauses it checks:
    the scenarios' and, replayed, the vendor's imported recordings."""
    cases = applicable_cases(profile, capabilities, live=live)
    if mode == "replay" and cassette_root is not None:
        cases += [
            (case, _checked(case.scenario.clauses, capabilities))
            for case in imported_cases(profile.name, cassette_root)
        ]
    return cases


async def run_cases(
    profile: VendorProfile,
    factory: ProviderFactory,
    cases: list[tuple[Case, list[str]]],
    *,
    mode: Mode,
    cassette_root: CassetteRoot | None = None,
    live: LiveTarget | None = None,
    model: str | None = None,
    progress: Progress | None = None,
    deadline: float = CASE_DEADLINE_SECONDS,
) -> list[CaseFindings]:
    """Each case run and judged, in turn. A case whose cassette cannot be played is a
    cassette problem, kept apart: never a provider failure."""
    findings = []
    for number, (case, clause_ids) in enumerate(cases, start=1):
        if progress:
            progress(case.id, number, len(cases))
        try:
            outcome = await run_case(
                case,
                profile,
                factory,
                mode=mode,
                cassette_root=cassette_root,
                live=live,
                deadline=deadline,
                model=model,
            )
        except CaseSetupError as exc:
            findings.append(
                CaseFindings(case.id, "missing", problem=str(exc), clauses=tuple(clause_ids))
            )
            continue
        if live is not None and (problem := await unusable(case, outcome, live)):
            raise EndpointUnusable(problem)
        judged = tuple(
            (clause_id, *judge(case, clause_id, profile, outcome)) for clause_id in clause_ids
        )
        findings.append(
            CaseFindings(case.id, outcome.provenance, usage_source(outcome), judged=judged)
        )
    return findings


def vendor_result(
    profile: VendorProfile,
    capabilities: ProviderCapabilities,
    findings: Iterable[CaseFindings],
    *,
    model: str | None = None,
    live: LiveTarget | None = None,
    known_defects: Mapping[DefectKey, str] | None = None,
) -> VendorResult:
    """The cases' findings, in case order, folded into a verdict per clause. In live mode
    the clauses of the cases a live endpoint cannot provoke come out not-exercised, with the
    reason."""
    known: dict[DefectKey, str] = {}
    known.update(load_suite_profile(profile.name).known_defects)
    known.update(known_defects or {})
    provenance: dict[str, str] = {}
    usage: dict[str, UsageSource] = {}
    problems: list[str] = []
    found: dict[str, _Findings] = defaultdict(_Findings)
    for case in findings:
        provenance[case.case] = case.provenance
        if case.problem is not None:
            problems.append(case.problem)
            for clause_id in case.clauses:
                found[clause_id].problems.append(case.problem)
            continue
        if case.usage is not None:
            usage[case.case] = case.usage
        for clause_id, detail, failure in case.judged:
            found[clause_id].details.append((case.case, detail))
            if failure:
                found[clause_id].failures.append(failure)
    if live is not None:  # why what this endpoint cannot be made to do was left out
        for case_left_out, clause_ids in applicable_cases(profile, capabilities):
            why = unprovoked(case_left_out.scenario, live)
            if why and why != CANNOT_PROVOKE:
                for clause_id in clause_ids:
                    if not found[clause_id].details:
                        found[clause_id].details.append((case_left_out.id, NotExercised(why)))
    scenarios = load_scenarios()
    return VendorResult(
        vendor=profile.name,
        model=model or profile.default_model,
        sdk=sdk_label(protocol_for(profile).sdk),
        protocol=profile.protocol,
        base_url_host=urlsplit(live.base_url if live else profile.base_url).hostname or "",
        provenance=provenance,
        problems=problems,
        usage=usage,
        clauses={
            clause.id: _fold(clause, found[clause.id], capabilities, known, scenarios).model_copy(
                update={"sources": _sources(found[clause.id].details, provenance)}
            )
            for clause in load_clauses().values()
        },
    )


async def certify_vendor(
    profile: VendorProfile,
    factory: ProviderFactory,
    *,
    mode: Mode,
    cassette_root: CassetteRoot | None = None,
    live: LiveTarget | None = None,
    model: str | None = None,
    known_defects: Mapping[DefectKey, str] | None = None,
    progress: Progress | None = None,
    deadline: float = CASE_DEADLINE_SECONDS,
) -> VendorResult:
    """Verdicts per clause for one vendor. In live mode only cases a live endpoint can
    provoke run; the others' clauses come out not-exercised, with the reason. A case whose
    cassette cannot be played is a cassette problem, listed apart: never a provider failure."""
    capabilities = capabilities_of(factory)
    cases = vendor_cases(profile, capabilities, mode=mode, cassette_root=cassette_root, live=live)
    if live is not None:  # say why what this endpoint cannot be made to do is left out
        problem = await connect_problem(live.base_url)
        if problem:
            raise EndpointUnusable(problem)
    findings = await run_cases(
        profile,
        factory,
        cases,
        mode=mode,
        cassette_root=cassette_root,
        live=live,
        model=model,
        progress=progress,
        deadline=deadline,
    )
    return vendor_result(
        profile, capabilities, findings, model=model, live=live, known_defects=known_defects
    )


def _sources(results: list[tuple[str, str | None]], provenance: dict[str, str]) -> dict[str, int]:
    """How many exercised cases of each provenance (replica, imported, live) judged a clause."""
    counts: dict[str, int] = {}
    for case, detail in results:
        if not not_exercised(detail):
            source = provenance.get(case, "unknown")
            counts[source] = counts.get(source, 0) + 1
    return counts
