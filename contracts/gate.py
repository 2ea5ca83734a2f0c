"""The release gate: compare two certificates clause by clause.

A clause that passed in the baseline and now fails, is unsupported, xfail or gone is a
regression and fails the gate; so is a case whose usage the vendor reported in the baseline and
that is now estimated (the vendor stopped sending it: every token count is a guess). Anything
that now passes and did not is an improvement; other changes (pass -> not-exercised among them:
nothing in this run could provoke the clause, which says nothing about the provider) are listed
without failing.

The gate never fails open: inputs it cannot judge by (an empty certificate, a vendor listed
twice, a `--vendor` it does not hold, cases that could not run) are refused, never compared.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from pydantic import ValidationError

from contracts import bounded_files
from contracts.escaping import markdown as markdown_text
from contracts.escaping import markdown_code, terminal
from contracts.report import Certificate, ClauseResult, UsageSource, VendorResult

GONE = "missing"
#: A usage change that fails the gate: the vendor sent usage before and sends none now.
USAGE_LOST = ("reported", "estimated")
USAGE_CLAUSE = "usage.reported"


class GateRefused(ValueError):
    """The gate cannot judge these inputs; the message says what and how to fix it."""


class CertificateError(GateRefused):
    """A certificate file is missing or not a certificate."""


def load_certificate(path: Path) -> Certificate:
    try:
        return Certificate.model_validate_json(bounded_files.read_text(path, "certificate"))
    except bounded_files.UnreadableFile as exc:
        raise CertificateError(str(exc)) from None
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(map(str, first["loc"])) or "the whole file"
        raise CertificateError(f"{path} is not a certificate ({where}: {first['msg']})") from None


def check_judgeable(certificate: Certificate, name: str) -> None:
    """Refuse a certificate that cannot stand for a run: nothing in it, a vendor twice (which
    entry counts?), or cases that could not run (a missing or broken cassette is not
    'not exercised': it hides whatever the provider would have done)."""
    if not certificate.vendors:
        raise GateRefused(f"{name} lists no vendor, so there is nothing to compare")
    twice = _repeated(vendor.vendor for vendor in certificate.vendors)
    if twice:
        raise GateRefused(f"{name} lists vendor {twice} more than once; keep one entry per vendor")
    for vendor in certificate.vendors:
        if not vendor.clauses:
            raise GateRefused(f"{name} holds no clause verdict for {vendor.vendor}")
        if vendor.problems:
            raise GateRefused(
                f"{name} cannot be judged: {len(vendor.problems)} case(s) of {vendor.vendor} "
                f"could not run; the first: {vendor.problems[0]}"
            )


def chosen_vendors(baseline: Certificate, named: Sequence[str]) -> list[str]:
    """The vendors to compare: those named (each once, each in the baseline), else all the
    baseline's."""
    held = [vendor.vendor for vendor in baseline.vendors]
    twice = _repeated(named)
    if twice:
        raise GateRefused(f"--vendor {twice} is given more than once")
    unknown = [name for name in named if name not in held]
    if unknown:
        raise GateRefused(
            f"--vendor {unknown[0]}: the baseline holds no such vendor "
            f"(it holds: {', '.join(held)})"
        )
    return list(named) or held


def _repeated(names: Iterator[str] | Sequence[str]) -> str | None:
    counts = Counter(names)
    return next((name for name, count in counts.items() if count > 1), None)


@dataclass(frozen=True)
class Change:
    """One verdict that changed, or one case whose usage changed from reported to estimated or
    back (then `case` names it). `details` say why the current verdict is what it is."""

    vendor: str
    clause: str
    before: str
    after: str
    case: str = ""
    details: tuple[str, ...] = ()

    @property
    def regression(self) -> bool:
        if (self.before, self.after) == USAGE_LOST:
            return True
        return self.before == "pass" and self.after not in ("pass", "not-exercised")

    @property
    def improvement(self) -> bool:
        if (self.after, self.before) == USAGE_LOST:
            return True
        return self.after == "pass" and self.before != "pass"


def _compared(certificate: Certificate, vendors: Collection[str]) -> list[VendorResult]:
    return [v for v in certificate.vendors if not vendors or v.vendor in vendors]


def _results(
    certificate: Certificate, vendors: Collection[str]
) -> dict[tuple[str, str], ClauseResult]:
    return {
        (vendor.vendor, clause): result
        for vendor in _compared(certificate, vendors)
        for clause, result in vendor.clauses.items()
    }


def _usage(
    certificate: Certificate, vendors: Collection[str]
) -> dict[tuple[str, str], UsageSource]:
    return {
        (vendor.vendor, case): source
        for vendor in _compared(certificate, vendors)
        for case, source in vendor.usage.items()
    }


def _details(result: ClauseResult | None) -> tuple[str, ...]:
    """Case, reason and evidence of a current verdict, as the certificate holds them."""
    if result is None:
        return ("the current certificate holds no verdict for this clause",)
    lines = list(result.evidence) or ([result.reason] if result.reason else [])
    if result.verdict == "xfail" and result.evidence and result.reason:
        lines.append(f"known defect: {result.reason}")
    lines += [f"wire: {line}" for line in result.wire]
    return tuple(lines)


def _usage_detail(case: str, after: UsageSource) -> str:
    if after == "estimated":
        return f"{case}: the vendor sent no usage, so Usage is estimated (token counts are guesses)"
    return f"{case}: the vendor's usage report is back"


def compare(
    baseline: Certificate, current: Certificate, vendors: Collection[str] = ()
) -> list[Change]:
    """Every clause whose verdict changed and every case whose usage changed between reported
    and estimated; only for `vendors` when some are named."""
    before, after = _results(baseline, vendors), _results(current, vendors)
    changes = []
    for vendor, clause in sorted(before.keys() | after.keys()):
        was, now = before.get((vendor, clause)), after.get((vendor, clause))
        was_verdict, now_verdict = (r.verdict if r else GONE for r in (was, now))
        if was_verdict != now_verdict:
            changes.append(Change(vendor, clause, was_verdict, now_verdict, details=_details(now)))
    used_before, used_after = _usage(baseline, vendors), _usage(current, vendors)
    for (vendor, case), was_source in sorted(used_before.items()):
        now_source = used_after.get((vendor, case))
        if now_source is not None and now_source != was_source:
            detail = _usage_detail(case, now_source)
            changes.append(Change(vendor, USAGE_CLAUSE, was_source, now_source, case, (detail,)))
    return changes


def render(changes: list[Change], *, markdown: bool) -> str:
    regressions = [c for c in changes if c.regression]
    improvements = [c for c in changes if c.improvement]
    others = [c for c in changes if not c.regression and not c.improvement]
    verdict = (
        f"gate FAILED: {len(regressions)} regression(s)"
        if regressions
        else "gate passed: no regression"
    )
    lines = [f"## {verdict}" if markdown else verdict]
    for title, group in (
        ("regressions", regressions),
        ("improvements", improvements),
        ("other changes", others),
    ):
        if not group:
            continue
        lines.append(f"\n### {title}" if markdown else f"{title}:")
        for change in group:
            lines += _change_lines(change, markdown=markdown, detailed=group is regressions)
    if not changes:
        lines.append("no clause changed its verdict")
    return "\n".join(lines) + "\n"


def _change_lines(change: Change, *, markdown: bool, detailed: bool) -> list[str]:
    # Everything here comes from certificate files (a vendor's own words among it): shown,
    # never acted on; each detail is one line or one list item of its own.
    show = markdown_text if markdown else terminal
    clause = markdown_code(change.clause) if markdown else terminal(change.clause)
    where = f" ({show(change.case)})" if change.case else ""
    lines = [
        f"- {show(change.vendor)} {clause}{where}: {show(change.before)} -> {show(change.after)}"
    ]
    if detailed:
        lines += [
            f"  - {show(line)}" if markdown else f"    {show(line)}" for line in change.details
        ]
    return lines
