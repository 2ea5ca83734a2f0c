"""The release gate: compare two certificates clause by clause.

A clause that passed in the baseline and now fails, is unsupported, xfail or gone is a
regression and fails the gate; anything that now passes and did not is an improvement; other
changes (pass -> not-exercised among them: nothing in this run could provoke the clause, which
says nothing about the provider) are listed without failing.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path

from pydantic import ValidationError

from contracts.escaping import markdown as markdown_text
from contracts.escaping import markdown_code, terminal
from contracts.report import Certificate

GONE = "missing"


class CertificateError(ValueError):
    """A certificate file is missing or not a certificate."""


def load_certificate(path: Path) -> Certificate:
    try:
        return Certificate.model_validate_json(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise CertificateError(f"cannot read certificate {path}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise CertificateError(f"{path} is not UTF-8 text, so not a certificate") from None
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(map(str, first["loc"]))
        raise CertificateError(f"{path} is not a certificate ({where}: {first['msg']})") from None


@dataclass(frozen=True)
class Change:
    vendor: str
    clause: str
    before: str
    after: str

    @property
    def regression(self) -> bool:
        return self.before == "pass" and self.after not in ("pass", "not-exercised")

    @property
    def improvement(self) -> bool:
        return self.after == "pass" and self.before != "pass"


def _verdicts(certificate: Certificate, vendors: Collection[str]) -> dict[tuple[str, str], str]:
    return {
        (vendor.vendor, clause): result.verdict
        for vendor in certificate.vendors
        if not vendors or vendor.vendor in vendors
        for clause, result in vendor.clauses.items()
    }


def compare(
    baseline: Certificate, current: Certificate, vendors: Collection[str] = ()
) -> list[Change]:
    """Every clause whose verdict changed; only for `vendors` when some are named."""
    before, after = _verdicts(baseline, vendors), _verdicts(current, vendors)
    changes = [
        Change(
            vendor, clause, before.get((vendor, clause), GONE), after.get((vendor, clause), GONE)
        )
        for vendor, clause in sorted(before.keys() | after.keys())
    ]
    return [change for change in changes if change.before != change.after]


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
        # Vendor, clause and verdicts come from certificate files: shown, never acted on.
        show = markdown_text if markdown else terminal
        for change in group:
            clause = markdown_code(change.clause) if markdown else terminal(change.clause)
            lines.append(
                f"- {show(change.vendor)} {clause}: {show(change.before)} -> {show(change.after)}"
            )
    if not changes:
        lines.append("no clause changed its verdict")
    return "\n".join(lines) + "\n"
