"""The certificate as one self-contained HTML page: what a release manager opens first.

Top down: the verdict, each endpoint (host, model, protocol, SDK, when), totals per vendor,
the comparison with a baseline when one is given, every failure already open with its reason,
troubleshooting and the decisive wire bytes, the vendor x clause matrix in colour with totals
per clause, and each vendor's cases with their provenance. Filters (by verdict, by text) work
in the page and from the address (`#verdict=fail,xfail&q=stream`), so a link can show just
the failures. Nothing is fetched: no font, stylesheet or script file, so the page can be
attached to a CI run or mailed as it is. Fields older certificates lack render as absent.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from html import escape

from contracts.gate import Change, compare
from contracts.report import Certificate, ClauseResult, VendorResult
from contracts.spec import load_clauses

#: Verdict -> (label, background colour), in the order totals are shown.
_LOOK = {
    "pass": ("pass", "#d4f4dd"),
    "fail": ("FAIL", "#f8c9c4"),
    "xfail": ("xfail", "#fbe7b5"),
    "unsupported": ("n/a", "#e6e6e6"),
    "not-exercised": ("not exercised", "#dfe7f3"),
}
_ABSENT = ("absent", "#f2f2f2")

_STYLE = """
body{font:14px/1.45 system-ui,sans-serif;margin:1.5em;color:#1b1b1b;max-width:110em}
h1{font-size:1.35em;margin-bottom:.2em}h2{font-size:1.1em;margin-top:1.6em}
table{border-collapse:collapse;margin:.4em 0}
th,td{border:1px solid #bbb;padding:.25em .5em;vertical-align:top;text-align:left}
th.clause{font-family:ui-monospace,monospace;font-weight:normal;white-space:nowrap}
.must{color:#8a1c10;font-size:.8em}.should{color:#555;font-size:.8em}
td.verdict{min-width:6em}td.verdict summary{cursor:pointer;font-weight:600}
td.verdict details[open]{max-width:36em}
td.dim{opacity:.25}
pre{white-space:pre-wrap;word-break:break-word;background:#fafafa;border:1px solid #ddd;
padding:.4em;max-height:26em;overflow:auto;font-size:12px;margin:.3em 0}
.banner{padding:.6em .9em;font-weight:600;font-size:1.1em;border-radius:4px}
.banner.ok{background:#d4f4dd}.banner.bad{background:#f8c9c4}
.failure{border:1px solid #d99;border-left:6px solid #c0392b;padding:.3em .8em;margin:.6em 0}
.failure.xfail{border-color:#e2c46f;border-left-color:#e0a800}
.failure summary{font-weight:600;cursor:pointer}
.filters{position:sticky;top:0;background:#fff;padding:.4em 0;border-bottom:1px solid #ddd}
.filters label{margin-right:.8em;padding:.1em .4em;border:1px solid #bbb;border-radius:3px}
.regression{color:#8a1c10;font-weight:600}.improvement{color:#1d6b2f}
.muted{color:#666}.scroll{overflow-x:auto}
"""

#: Filters: verdict checkboxes and a text box, applied on input and from `location.hash`.
_SCRIPT = """
(function(){
const boxes=[...document.querySelectorAll('.filters input[type=checkbox]')];
const text=document.getElementById('q');
function apply(){
  const shown=new Set(boxes.filter(b=>b.checked).map(b=>b.value));
  const q=text.value.trim().toLowerCase();
  for(const row of document.querySelectorAll('#matrix tbody tr')){
    const cells=[...row.querySelectorAll('td.verdict')];
    for(const c of cells) c.classList.toggle('dim',!shown.has(c.dataset.verdict));
    const hit=cells.some(c=>shown.has(c.dataset.verdict));
    row.hidden=!hit||(q&&!row.dataset.clause.toLowerCase().includes(q));
  }
  for(const item of document.querySelectorAll('[data-filter]')){
    const v=item.dataset.verdict;
    item.hidden=(v&&!shown.has(v))||(q&&!item.dataset.filter.toLowerCase().includes(q));
  }
}
const hash=new URLSearchParams(location.hash.slice(1));
if(hash.has('verdict')){const want=hash.get('verdict').split(',');
  for(const b of boxes) b.checked=want.includes(b.value);}
if(hash.has('q')) text.value=hash.get('q');
boxes.forEach(b=>b.addEventListener('change',apply));text.addEventListener('input',apply);
apply();
})();
"""


def _pre(title: str, lines: Iterable[str] | str) -> str:
    body = lines if isinstance(lines, str) else "\n".join(lines)
    if not body:
        return ""
    return f"<p><b>{escape(title)}</b></p><pre>{escape(body)}</pre>"


def _clause_ids(vendors: Iterable[VendorResult]) -> list[str]:
    seen = {clause for vendor in vendors for clause in vendor.clauses}
    known = [clause for clause in load_clauses() if clause in seen]
    return known + sorted(seen - set(known))


def _verdict_of(result: ClauseResult | None) -> str:
    return result.verdict if result is not None else ""


def _counts(verdicts: Iterable[str]) -> str:
    counted = Counter(verdicts)
    return " · ".join(
        f"{counted[verdict]} {label}" for verdict, (label, _) in _LOOK.items() if counted[verdict]
    )


def _banner(certificate: Certificate) -> str:
    failures = certificate.must_failures()
    problems = sum(len(vendor.problems) for vendor in certificate.vendors)
    if problems:
        text = f"could not judge everything: {problems} cassette problem(s), listed below"
    elif failures:
        text = f"{len(failures)} must-clause failure(s): " + ", ".join(
            f"{vendor} {clause}" for vendor, clause in failures
        )
    else:
        text = "all must clauses hold"
    good = not failures and not problems
    return f'<p class="banner {"ok" if good else "bad"}" id="verdict">{escape(text)}</p>'


def _endpoints(certificate: Certificate) -> str:
    rows = []
    for vendor in certificate.vendors:
        sources = Counter(vendor.provenance.values())
        cells = (
            vendor.vendor,
            vendor.base_url_host or "-",
            vendor.model,
            vendor.protocol or "-",
            vendor.sdk or "-",
            ", ".join(f"{count} {source}" for source, count in sorted(sources.items())) or "-",
            _counts(result.verdict for result in vendor.clauses.values()),
        )
        rows.append("<tr>" + "".join(f"<td>{escape(cell)}</td>" for cell in cells) + "</tr>")
    head = "".join(
        f"<th>{name}</th>"
        for name in ("vendor", "host", "model", "protocol", "SDK", "cases", "clauses")
    )
    return (
        f'<h2>Endpoints</h2><p class="muted">certified {escape(certificate.created_at)} '
        f"({escape(certificate.mode)})</p>"
        f'<table id="endpoints"><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody>'
        "</table>"
    )


def _baseline(changes: list[Change] | None) -> str:
    if changes is None:
        return ""
    if not changes:
        return '<h2>Against the baseline</h2><p id="baseline">no clause changed its verdict</p>'
    items = []
    for change in changes:
        kind = (
            "regression" if change.regression else "improvement" if change.improvement else "change"
        )
        what = f"{change.vendor} {change.clause}" + (f" ({change.case})" if change.case else "")
        items.append(
            f'<li class="{kind}">{kind}: {escape(what)}: {escape(change.before)} -&gt; '
            f"{escape(change.after)}</li>"
        )
    regressions = sum(change.regression for change in changes)
    return (
        f"<h2>Against the baseline: {regressions} regression(s)</h2>"
        f'<ul id="baseline">{"".join(items)}</ul>'
    )


def _failures(certificate: Certificate) -> str:
    cards = []
    for vendor in certificate.vendors:
        for problem in vendor.problems:
            cards.append(
                f'<div class="failure" data-filter="{escape(vendor.vendor)}">'
                f"<b>{escape(vendor.vendor)}: cassette problem</b><pre>{escape(problem)}</pre>"
                "</div>"
            )
        for clause_id, result in vendor.clauses.items():
            if result.verdict not in ("fail", "xfail"):
                continue
            label = f"{vendor.vendor} {clause_id}"
            reason = result.reason if result.verdict == "xfail" else ""
            cards.append(
                f'<details open class="failure {escape(result.verdict)}" '
                f'data-verdict="{escape(result.verdict)}" data-filter="{escape(label)}">'
                f"<summary>{escape(_LOOK[result.verdict][0])} {escape(label)} "
                f'<span class="{escape(result.level)}">{escape(result.level)}</span></summary>'
                + (f"<p>known defect: {escape(reason)}</p>" if reason else "")
                + _pre("what failed, per case", result.evidence)
                + _pre("troubleshooting", result.troubleshooting)
                + _pre("wire evidence (the exchange judged)", result.wire)
                + "</details>"
            )
    if not cards:
        return '<h2>Failures</h2><p id="failures">none</p>'
    return f'<h2>Failures</h2><div id="failures">{"".join(cards)}</div>'


def _cell(clause_id: str, result: ClauseResult | None, statement: str) -> str:
    verdict = _verdict_of(result)
    label, colour = _LOOK.get(verdict, _ABSENT)
    parts = [f"<summary>{escape(label)}</summary>", _pre("clause", statement)]
    if result is not None:
        parts.append(f"<p>{result.cases} case(s) judged</p>")
        parts.append(_pre("reason", result.reason))
        parts.append(_pre("evidence", result.evidence))
        parts.append(_pre("troubleshooting", result.troubleshooting))
        parts.append(_pre("wire evidence", result.wire))
    else:
        parts.append("<p>this clause was not judged for this vendor</p>")
    return (
        f'<td class="verdict" data-clause="{escape(clause_id)}" data-verdict="{escape(verdict)}" '
        f'style="background:{colour}"><details>{"".join(parts)}</details></td>'
    )


def _matrix(certificate: Certificate) -> str:
    clauses = load_clauses()
    vendors = certificate.vendors
    head = "".join(
        f'<th class="vendor" data-vendor="{escape(v.vendor)}">{escape(v.vendor)}</th>'
        for v in vendors
    )
    rows = []
    for clause_id in _clause_ids(vendors):
        spec = clauses.get(clause_id)
        level = spec.level if spec is not None else ""
        statement = spec.statement if spec is not None else ""
        results = [v.clauses.get(clause_id) for v in vendors]
        cells = "".join(_cell(clause_id, result, statement) for result in results)
        total = _counts(_verdict_of(result) for result in results)
        rows.append(
            f'<tr data-clause="{escape(clause_id)}"><th class="clause" '
            f'title="{escape(statement)}">{escape(clause_id)} '
            f'<span class="{escape(level)}">{escape(level)}</span></th>{cells}'
            f'<td class="total">{escape(total)}</td></tr>'
        )
    return (
        '<h2>Vendor x clause</h2><p class="muted">Click a cell for the clause, the reason, '
        "troubleshooting and evidence.</p>"
        f'<div class="scroll"><table id="matrix"><thead><tr><th>clause</th>{head}'
        f"<th>totals</th></tr></thead><tbody>{''.join(rows)}</tbody></table></div>"
    )


def _cases(certificate: Certificate) -> str:
    """Per vendor, each case with its provenance and the clauses that failed on it."""
    blocks = []
    for vendor in certificate.vendors:
        failed: dict[str, list[str]] = {}
        for clause_id, result in vendor.clauses.items():
            for line in result.evidence:
                case = line.partition(": ")[0]
                failed.setdefault(case, []).append(f"{clause_id} ({result.verdict})")
        rows = "".join(
            f'<tr data-filter="{escape(vendor.vendor)} {escape(case)}"><td>{escape(case)}</td>'
            f"<td>{escape(source)}</td><td>{escape(', '.join(failed.get(case, [])) or '-')}</td>"
            "</tr>"
            for case, source in sorted(vendor.provenance.items())
        )
        blocks.append(
            f'<details class="cases" data-filter="{escape(vendor.vendor)}"><summary>'
            f"{escape(vendor.vendor)}: {len(vendor.provenance)} case(s)</summary>"
            "<table><thead><tr><th>case</th><th>source</th><th>clauses failing here</th></tr>"
            f"</thead><tbody>{rows}</tbody></table></details>"
        )
    return f'<h2>Cases</h2><div id="cases">{"".join(blocks)}</div>'


def _filters() -> str:
    boxes = "".join(
        f'<label style="background:{colour}"><input type="checkbox" value="{verdict}" checked> '
        f"{escape(label)}</label>"
        for verdict, (label, colour) in _LOOK.items()
    )
    return (
        f'<div class="filters">{boxes}<input id="q" type="search" '
        'placeholder="filter by vendor, clause or case"></div>'
    )


def render_html(certificate: Certificate, baseline: Certificate | None = None) -> str:
    """The page; with a baseline, the clauses whose verdict changed since, regressions first."""
    title = f"Contract certificate ({certificate.mode}, {certificate.created_at})"
    changes = None
    if baseline is not None:
        changes = sorted(compare(baseline, certificate), key=lambda c: not c.regression)
    return (
        "<!DOCTYPE html>\n"
        f'<html lang="en"><head><meta charset="utf-8"><title>{escape(title)}</title>'
        f"<style>{_STYLE}</style></head><body>"
        f"<h1>{escape(title)}</h1>"
        f'<p class="muted">llm-contracts {escape(certificate.package_version)}</p>'
        + _banner(certificate)
        + _filters()
        + _endpoints(certificate)
        + _baseline(changes)
        + _failures(certificate)
        + _matrix(certificate)
        + _cases(certificate)
        + f"<script>{_SCRIPT}</script></body></html>\n"
    )
