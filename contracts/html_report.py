"""The certificate as one self-contained HTML page: the vendor x clause matrix in colour.

Every cell is a `<details>` that opens to the clause's statement, the verdict's reason, the
troubleshooting text and the evidence; no script, font or stylesheet is fetched, so the page
can be attached to a CI run or mailed as it is. Fields a certificate may or may not carry
(troubleshooting, wire evidence) are read defensively, so older certificates still render.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from html import escape
from pathlib import Path
from typing import Any

from contracts.report import Certificate, ClauseResult, VendorResult
from contracts.spec import load_clauses

#: Verdict -> (cell label, background colour); unknown verdicts fall back to grey.
_LOOK = {
    "pass": ("pass", "#d4f4dd"),
    "fail": ("FAIL", "#f8c9c4"),
    "xfail": ("xfail", "#fbe7b5"),
    "unsupported": ("n/a", "#e6e6e6"),
    "not-exercised": ("not exercised", "#dfe7f3"),
}
_MISSING = ("absent", "#f2f2f2")

_STYLE = """
body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#1b1b1b}
h1{font-size:1.3em}
table{border-collapse:collapse}
th,td{border:1px solid #bbb;padding:.25em .5em;vertical-align:top;text-align:left}
th.clause{font-family:ui-monospace,monospace;font-weight:normal;white-space:nowrap}
th.clause .must{color:#8a1c10}
td.verdict{min-width:7em}
td.verdict summary{cursor:pointer;font-weight:600}
td.verdict details[open]{max-width:40em}
td.verdict p{margin:.3em 0}
pre{white-space:pre-wrap;word-break:break-word;background:#fafafa;border:1px solid #ddd;
padding:.3em;max-height:20em;overflow:auto;font-size:12px}
.legend span{display:inline-block;padding:.1em .5em;margin-right:.4em;border:1px solid #bbb}
.summary{font-weight:600}
"""


def _field(value: Any, name: str) -> Any:
    return getattr(value, name, None)


def _text_block(title: str, body: Any) -> str:
    if not body:
        return ""
    if isinstance(body, list | tuple):
        body = "\n".join(str(item) for item in body)
    elif isinstance(body, dict):
        body = "\n".join(f"{key}: {item}" for key, item in body.items())
    return f"<p><b>{escape(title)}</b></p><pre>{escape(str(body))}</pre>"


def _cell(clause_id: str, result: ClauseResult | None, troubleshooting: str) -> str:
    verdict = result.verdict if result is not None else ""
    label, colour = _LOOK.get(verdict, _MISSING)
    parts = [f"<summary>{escape(label)}</summary>"]
    if result is not None:
        if result.cases:
            parts.append(f"<p>{result.cases} case(s) judged</p>")
        parts.append(_text_block("reason", result.reason))
        parts.append(_text_block("evidence", result.evidence))
        if verdict in ("fail", "xfail"):
            parts.append(
                _text_block("troubleshooting", _field(result, "troubleshooting") or troubleshooting)
            )
        parts.append(_text_block("wire evidence", _field(result, "wire")))
    else:
        parts.append("<p>this clause was not judged for this vendor</p>")
    return (
        f'<td class="verdict" data-clause="{escape(clause_id)}" data-verdict="{escape(verdict)}" '
        f'style="background:{colour}"><details>{"".join(parts)}</details></td>'
    )


def _clause_ids(vendors: Iterable[VendorResult]) -> list[str]:
    seen = {clause for vendor in vendors for clause in vendor.clauses}
    known = [clause for clause in load_clauses() if clause in seen]
    return known + sorted(seen - set(known))


def render_html(certificate: Certificate) -> str:
    clauses = load_clauses()
    vendors = certificate.vendors
    head = "".join(
        f'<th class="vendor" data-vendor="{escape(v.vendor)}">{escape(v.vendor)}<br>'
        f"<small>{escape(v.model)} · {escape('+'.join(sorted(set(v.provenance.values()))))}"
        "</small></th>"
        for v in vendors
    )
    rows = []
    for clause_id in _clause_ids(vendors):
        spec = clauses.get(clause_id)
        level = spec.level if spec is not None else ""
        statement = spec.statement if spec is not None else ""
        troubleshooting = str(_field(spec, "troubleshooting") or "")
        cells = "".join(
            _cell(clause_id, v.clauses.get(clause_id), troubleshooting) for v in vendors
        )
        rows.append(
            f'<tr><th class="clause" title="{escape(statement)}">{escape(clause_id)} '
            f'<small class="{escape(level)}">{escape(level)}</small></th>{cells}</tr>'
        )
    failures = certificate.must_failures()
    summary = (
        f"{len(failures)} must-clause failure(s): "
        + ", ".join(f"{vendor} {clause}" for vendor, clause in failures)
        if failures
        else "all must clauses hold"
    )
    legend = "".join(
        f'<span style="background:{colour}">{escape(label)}</span>'
        for label, colour in _LOOK.values()
    )
    title = f"Contract certificate ({certificate.mode}, {certificate.created_at})"
    sdks = ", ".join(sorted({v.sdk for v in certificate.vendors if v.sdk})) or "unknown"
    return (
        "<!DOCTYPE html>\n"
        f'<html lang="en"><head><meta charset="utf-8"><title>{escape(title)}</title>'
        f"<style>{_STYLE}</style></head><body>"
        f"<h1>{escape(title)}</h1>"
        f"<p>llm-contracts {escape(certificate.package_version)}, "
        f"SDK {escape(sdks)}. Click a cell for its reason, "
        "troubleshooting and evidence.</p>"
        f'<p class="legend">{legend}</p>'
        f'<p class="summary">{escape(summary)}</p>'
        f'<table id="matrix"><thead><tr><th>clause</th>{head}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table></body></html>\n"
    )


def emit_html(certificate: Certificate, out: Path | None) -> None:
    """Write the page to `out`, or to standard output without one."""
    page = render_html(certificate)
    if out is None:
        sys.stdout.write(page)
        return
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(page, encoding="utf-8")
    print(f"report: {out}")
