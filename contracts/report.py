"""The certificate (JSON) and its vendor x clause matrix (terminal table or Markdown)."""

from __future__ import annotations

import datetime as dt
import importlib.metadata
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from contracts.cassettes import scrub
from contracts.escaping import markdown, markdown_block, markdown_code, terminal
from contracts.spec import load_clauses

#: unsupported: the provider declares the capability the clause needs absent.
#: not-exercised: the provider claims it, but nothing in this run could provoke it.
Verdict = Literal["pass", "fail", "xfail", "unsupported", "not-exercised"]
#: Where a case's streamed Usage came from: the vendor's report, or our estimate without one.
UsageSource = Literal["reported", "estimated"]
_SYMBOL = {
    "pass": "pass",
    "fail": "FAIL",
    "xfail": "xfail",
    "unsupported": "n/a",
    "not-exercised": "n/e",
}
_COLOUR = {"pass": "32", "fail": "1;31", "xfail": "33", "unsupported": "2", "not-exercised": "36"}
LEGEND = (
    "n/a: unsupported (the provider declares the capability absent); "
    "n/e: not exercised (nothing in this run could provoke it)"
)
_EVIDENCE_CHARS = 300
#: Traffic a vendor really sent, as opposed to what our replica made up from its wire facts.
REAL_SOURCES = ("imported", "live")


def shorten(text: str, limit: int = _EVIDENCE_CHARS) -> str:
    """Scrubbed, then cut: cutting first could keep the start of a key that straddles the cut."""
    text = scrub(text)
    return text if len(text) <= limit else text[: limit - 3] + "..."


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ClauseResult(_Model):
    verdict: Verdict
    level: Literal["must", "should"]
    reason: str = ""
    evidence: list[str] = Field(default_factory=list)
    cases: int = 0
    #: For a failure: what usually causes it and how to fix it.
    troubleshooting: str = ""
    #: For a failure: the first failing case's request and served bytes, trimmed, scrubbed.
    wire: list[str] = Field(default_factory=list)
    #: Exercised cases per provenance: real evidence (imported, live) or replica.
    sources: dict[str, int] = Field(default_factory=dict)

    @property
    def real(self) -> bool:
        return any(self.sources.get(source) for source in REAL_SOURCES)


class VendorResult(_Model):
    vendor: str
    model: str
    #: The SDK that sent the requests, with its version ("anthropic 0.60.0"); empty in
    #: certificates written before it was recorded.
    sdk: str = ""
    #: The wire protocol spoken (`openai_chat`, `anthropic_messages`, ...); empty in older
    #: certificates.
    protocol: str = ""
    base_url_host: str
    provenance: dict[str, str] = Field(default_factory=dict)
    #: Cases that could not run (a missing or broken cassette), each naming its fix.
    problems: list[str] = Field(default_factory=list)
    #: Per case that streamed a Usage: reported by the vendor or estimated (the gate fails
    #: a case that turns from reported to estimated).
    usage: dict[str, UsageSource] = Field(default_factory=dict)
    clauses: dict[str, ClauseResult] = Field(default_factory=dict)

    def must_failures(self) -> list[str]:
        return [c for c, r in self.clauses.items() if r.verdict == "fail" and r.level == "must"]


def installed_version(package: str) -> str:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def sdk_label(distribution: str) -> str:
    """An SDK and its installed version, as cassettes and certificates name it."""
    try:
        return f"{distribution} {importlib.metadata.version(distribution)}"
    except importlib.metadata.PackageNotFoundError:
        return f"{distribution} (not installed)"


class Certificate(_Model):
    created_at: str = Field(
        default_factory=lambda: dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()
    )
    package_version: str = Field(default_factory=lambda: installed_version("llm-contracts"))
    #: Read from older certificates only (it named the openai SDK for every vendor); each
    #: vendor's result names the SDK of its own protocol now.
    sdk_version: str | None = Field(default=None, exclude=True)
    mode: str
    vendors: list[VendorResult] = Field(default_factory=list)

    def must_failures(self) -> list[tuple[str, str]]:
        return [(v.vendor, clause) for v in self.vendors for clause in v.must_failures()]


def _provenance(vendor: VendorResult) -> str:
    sources = sorted(set(vendor.provenance.values()))
    return "+".join(sources) or "none"


def real_evidence(vendor: VendorResult) -> str:
    """The matrix's count row: cases replayed from real traffic out of all cases."""
    real = sum(1 for source in vendor.provenance.values() if source in REAL_SOURCES)
    return f"{real}/{len(vendor.provenance)} real"


def _clause_ids(certificate: Certificate) -> list[str]:
    seen = {clause for vendor in certificate.vendors for clause in vendor.clauses}
    return [clause for clause in load_clauses() if clause in seen]


def _notes(certificate: Certificate) -> list[str]:
    """One line per verdict worth a word, each field as the certificate holds it (unescaped)."""
    notes = []
    for vendor in certificate.vendors:
        for clause, result in vendor.clauses.items():
            if result.verdict == "fail":
                first = result.evidence[0] if result.evidence else result.reason
                notes.append(f"{vendor.vendor} {clause} ({result.level}) FAILED: {first}")
                if result.troubleshooting:
                    notes.append(f"    troubleshooting: {result.troubleshooting}")
            elif result.verdict != "pass":
                notes.append(f"{vendor.vendor} {clause}: {result.verdict}: {result.reason}")
    return notes


def render_table(certificate: Certificate, *, colour: bool) -> str:
    vendors = certificate.vendors
    clauses = _clause_ids(certificate)
    names = [terminal(v.vendor) for v in vendors]
    sources = [terminal(_provenance(v)) for v in vendors]
    width = max([len(c) for c in clauses] + [6])
    columns = [
        max(len(name), len(source), len(real_evidence(v)), 5)
        for v, name, source in zip(vendors, names, sources, strict=True)
    ]

    def paint(verdict: str, cell: str) -> str:
        return f"\x1b[{_COLOUR[verdict]}m{cell}\x1b[0m" if colour else cell

    lines = [
        "clause".ljust(width)
        + "  "
        + "  ".join(name.ljust(w) for name, w in zip(names, columns, strict=True)),
        "source".ljust(width)
        + "  "
        + "  ".join(source.ljust(w) for source, w in zip(sources, columns, strict=True)),
        "evidence".ljust(width)
        + "  "
        + "  ".join(real_evidence(v).ljust(w) for v, w in zip(vendors, columns, strict=True)),
    ]
    for clause in clauses:
        cells = []
        for vendor, w in zip(vendors, columns, strict=True):
            result = vendor.clauses.get(clause)
            verdict = result.verdict if result else "unsupported"
            cells.append(paint(verdict, _SYMBOL[verdict].ljust(w)))
        lines.append(clause.ljust(width) + "  " + "  ".join(cells))
    failures = certificate.must_failures()
    lines += [LEGEND, ""]
    lines.extend(_terminal_note(note) for note in _notes(certificate))
    lines.append(f"{len(failures)} must-clause failure(s)" if failures else "all must clauses hold")
    return "\n".join(lines)


def _terminal_note(note: str) -> str:
    """A note on one terminal line; its own indent (troubleshooting) kept."""
    indent = note[: len(note) - len(note.lstrip(" "))]
    return indent + terminal(note.lstrip(" "))


def render_markdown(certificate: Certificate) -> str:
    """Every field a server or a file controls is escaped: it shows, never acts."""
    vendors = certificate.vendors
    header = "| clause | " + " | ".join(markdown(v.vendor) for v in vendors) + " |"
    lines = [
        f"## Contract certificate ({certificate.mode}, {certificate.created_at})",
        "",
        header,
        "|" + "---|" * (len(vendors) + 1),
        "| *source* | " + " | ".join(markdown(_provenance(v)) for v in vendors) + " |",
        "| *evidence* | " + " | ".join(real_evidence(v) for v in vendors) + " |",
    ]
    for clause in _clause_ids(certificate):
        cells = []
        for vendor in vendors:
            result = vendor.clauses.get(clause)
            verdict = result.verdict if result else "unsupported"
            cells.append("**FAIL**" if verdict == "fail" else _SYMBOL[verdict])
        lines.append(f"| {markdown_code(clause)} | " + " | ".join(cells) + " |")
    lines += ["", LEGEND]
    notes = [note for note in _notes(certificate) if not note.startswith(" ")]
    if notes:
        lines += ["", *(f"- {markdown(note)}" for note in notes)]
    lines += _failure_details(certificate)
    return "\n".join(lines) + "\n"


def _failure_details(certificate: Certificate) -> list[str]:
    """Per failing clause: troubleshooting and the wire evidence, for a reviewer to act on."""
    lines = []
    for vendor in certificate.vendors:
        for clause, result in vendor.clauses.items():
            if result.verdict != "fail":
                continue
            lines += ["", f"### {markdown(vendor.vendor)} {markdown_code(clause)}", ""]
            lines += [f"- {markdown(line)}" for line in result.evidence]
            if result.troubleshooting:
                lines += ["", f"Troubleshooting: {markdown(result.troubleshooting)}"]
            if result.wire:
                lines += ["", *markdown_block(result.wire)]
    return lines
