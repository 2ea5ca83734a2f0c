"""The HTML certificate: one self-contained page whose matrix matches the certificate."""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path

from contracts.cli import main
from contracts.html_report import render_html
from contracts.report import Certificate, ClauseResult, VendorResult


class _Page(HTMLParser):
    """Collects the matrix cells and every reference to something outside the page."""

    def __init__(self) -> None:
        super().__init__()
        self.cells: dict[tuple[str, str], str] = {}
        self.vendors: list[str] = []
        self.external: list[str] = []
        self.details = 0
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "td" and "data-clause" in found:
            self.cells[(len(self.cells), str(found["data-clause"]))] = str(found["data-verdict"])
        if tag == "th" and "data-vendor" in found:
            self.vendors.append(str(found["data-vendor"]))
        if tag == "details":
            self.details += 1
        for name in ("src", "href"):
            if found.get(name):
                self.external.append(f"{tag} {name}={found[name]}")
        if tag == "link" or (tag == "script" and "src" in found):
            self.external.append(tag)

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def _certificate() -> Certificate:
    failing = ClauseResult(
        verdict="fail",
        level="must",
        evidence=["truncated: stream() gave no error <script>alert(1)</script>"],
        cases=2,
    )
    return Certificate(
        mode="replica",
        vendors=[
            VendorResult(
                vendor="openai",
                model="gpt-4o",
                base_url_host="api.openai.com",
                provenance={"text_basic": "replica"},
                clauses={
                    "grammar.connected-first": ClauseResult(verdict="pass", level="must", cases=3),
                    "stream.truncation": failing,
                },
            ),
            VendorResult(
                vendor="glm",
                model="glm-4.6",
                base_url_host="api.z.ai",
                clauses={
                    "grammar.connected-first": ClauseResult(verdict="pass", level="must"),
                    "stream.truncation": ClauseResult(
                        verdict="unsupported", level="must", reason="no capability"
                    ),
                },
            ),
        ],
    )


def _parse(page: str) -> _Page:
    parser = _Page()
    parser.feed(page)
    parser.close()
    return parser


def test_matrix_has_one_cell_per_vendor_and_clause_with_its_verdict() -> None:
    page = _parse(render_html(_certificate()))
    assert page.vendors == ["openai", "glm"]
    verdicts = [(clause, verdict) for (_, clause), verdict in page.cells.items()]
    assert verdicts == [
        ("grammar.connected-first", "pass"),
        ("grammar.connected-first", "pass"),
        ("stream.truncation", "fail"),
        ("stream.truncation", "unsupported"),
    ]
    # four cells, the one failure (open), and each vendor's cases
    assert page.details == 4 + 1 + 2


def test_cells_open_to_reason_evidence_and_statement_escaped() -> None:
    html = render_html(_certificate())
    page = _parse(html)
    text = "".join(page.text)
    assert "no capability" in text
    assert "stream() gave no error <script>alert(1)</script>" in text
    assert "<script>alert(1)</script>" not in html
    assert "1 must-clause failure(s): openai stream.truncation" in text


def test_page_is_self_contained() -> None:
    page = _parse(render_html(_certificate()))
    assert page.external == []


def test_absent_clause_renders_as_its_own_state() -> None:
    certificate = _certificate()
    del certificate.vendors[1].clauses["stream.truncation"]
    page = _parse(render_html(certificate))
    assert list(page.cells.values())[-1] == ""


def test_certify_format_html_writes_the_page(tmp_path: Path) -> None:
    out = tmp_path / "report.html"
    cassettes = Path(__file__).resolve().parent.parent / "cassettes"
    code = main(
        [
            "certify",
            "--vendor",
            "glm",
            "--format",
            "html",
            "--out",
            str(out),
            "--cassettes",
            str(cassettes),
        ]
    )
    page = _parse(out.read_text(encoding="utf-8"))
    assert code == 0
    assert page.vendors == ["glm"]
    assert set(page.cells.values()) <= {"pass", "unsupported", "xfail", "not-exercised"}
    assert len(page.cells) >= 20


def test_the_release_managers_view() -> None:
    """Endpoint, totals per vendor and per clause, the failure open with its reason,
    troubleshooting and wire bytes, and each case with its provenance."""
    certificate = _certificate()
    openai = certificate.vendors[0]
    openai.protocol = "openai_chat"
    openai.sdk = "openai 3.57.0"
    failing = openai.clauses["stream.truncation"]
    failing.troubleshooting = "Track whether a finish reason arrived."
    failing.wire = ["request (stream): {}", "served: 200 text/event-stream", "  data: [DONE]"]
    html = render_html(certificate)
    text = "".join(_parse(html).text)
    endpoints = html[html.index('<table id="endpoints">') : html.index("</table>")]
    assert "<td>api.openai.com</td><td>gpt-4o</td><td>openai_chat</td>" in endpoints
    assert "<td>1 pass · 1 FAIL</td>" in endpoints  # totals per vendor
    assert '<td class="total">1 FAIL · 1 n/a</td>' in html  # totals per clause
    card = html[html.index('<details open class="failure fail"') :]
    card = card[: card.index("</details>")]
    assert "Track whether a finish reason arrived." in card
    assert "  data: [DONE]" in card
    assert "truncated: stream() gave no error" in card
    assert "text_basic" in text  # the per-case view
    assert 'id="baseline"' not in html  # no baseline given, no comparison


def test_a_baseline_shows_what_changed_regressions_first() -> None:
    baseline = _certificate()
    baseline.vendors[0].clauses["stream.truncation"] = ClauseResult(verdict="pass", level="must")
    baseline.vendors[1].clauses["grammar.connected-first"] = ClauseResult(
        verdict="fail", level="must"
    )
    html = render_html(_certificate(), baseline)
    listed = html[html.index('<ul id="baseline">') : html.index("</ul>")]
    assert listed.index("regression: openai stream.truncation: pass -&gt; fail") < listed.index(
        "improvement: glm grammar.connected-first: fail -&gt; pass"
    )
    assert "Against the baseline: 1 regression(s)" in html
