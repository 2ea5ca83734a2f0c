"""The gate's rules, one by one: what fails a release and what is only reported."""

from __future__ import annotations

from pathlib import Path

import pytest

from contracts.gate import CertificateError, compare, load_certificate, render
from contracts.report import Certificate, ClauseResult, VendorResult


def _certificate(**verdicts: str) -> Certificate:
    """One vendor "v"; keyword names are clause ids with `_` for `.`."""
    clauses = {
        name.replace("_", "."): ClauseResult(verdict=verdict, level="must")  # type: ignore[arg-type]
        for name, verdict in verdicts.items()
    }
    return Certificate(
        mode="replay",
        vendors=[VendorResult(vendor="v", model="m", base_url_host="h", clauses=clauses)],
    )


def _gate(before: Certificate, after: Certificate) -> tuple[bool, str]:
    changes = compare(before, after)
    return any(c.regression for c in changes), render(changes, markdown=False)


@pytest.mark.parametrize("after", ["fail", "xfail", "unsupported"])
def test_pass_to_anything_but_pass_or_not_exercised_is_a_regression(after: str) -> None:
    failed, text = _gate(_certificate(a_b="pass"), _certificate(a_b=after))
    assert failed
    assert text.startswith("gate FAILED: 1 regression(s)")
    assert f"regressions:\n- v a.b: pass -> {after}" in text
    assert "other changes" not in text


def test_a_clause_gone_is_a_regression() -> None:
    failed, text = _gate(_certificate(a_b="pass", c_d="pass"), _certificate(a_b="pass"))
    assert failed
    assert "- v c.d: pass -> missing" in text


def test_a_new_clause_that_passes_is_an_improvement() -> None:
    failed, text = _gate(_certificate(a_b="pass"), _certificate(a_b="pass", c_d="pass"))
    assert not failed
    assert text == "gate passed: no regression\nimprovements:\n- v c.d: missing -> pass\n"


def test_pass_to_not_exercised_is_a_change_not_a_regression() -> None:
    failed, text = _gate(_certificate(a_b="pass"), _certificate(a_b="not-exercised"))
    assert not failed
    assert text.startswith("gate passed: no regression")
    assert "other changes:\n- v a.b: pass -> not-exercised" in text


@pytest.mark.parametrize("before", ["fail", "xfail", "unsupported", "not-exercised"])
def test_anything_to_pass_is_an_improvement(before: str) -> None:
    failed, text = _gate(_certificate(a_b=before), _certificate(a_b="pass"))
    assert not failed
    assert f"improvements:\n- v a.b: {before} -> pass" in text


def test_fail_to_xfail_is_another_change() -> None:
    failed, text = _gate(_certificate(a_b="fail"), _certificate(a_b="xfail"))
    assert not failed
    assert "other changes:\n- v a.b: fail -> xfail" in text
    assert "regressions" not in text
    assert "improvements" not in text


def test_nothing_changed() -> None:
    failed, text = _gate(_certificate(a_b="pass"), _certificate(a_b="pass"))
    assert not failed
    assert text == "gate passed: no regression\nno clause changed its verdict\n"


def test_markdown_names_clauses_as_code() -> None:
    changes = compare(_certificate(a_b="pass"), _certificate(a_b="fail"))
    assert render(changes, markdown=True) == (
        "## gate FAILED: 1 regression(s)\n\n### regressions\n- v `a.b`: pass -> fail\n"
    )


def test_vendors_narrow_the_comparison() -> None:
    before = _certificate(a_b="pass")
    after = _certificate(a_b="fail")
    assert compare(before, after, ["other"]) == []
    assert len(compare(before, after, ["v"])) == 1


def test_a_baseline_that_is_not_utf8_is_one_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "baseline.json"
    path.write_bytes(b"\xff\xfe{")
    with pytest.raises(CertificateError, match="not UTF-8"):
        load_certificate(path)


def test_a_missing_baseline_says_it_cannot_be_read(tmp_path: Path) -> None:
    with pytest.raises(CertificateError, match=r"cannot read certificate .*nope\.json: No such"):
        load_certificate(tmp_path / "nope.json")


def test_a_file_that_is_no_certificate_names_the_first_problem(tmp_path: Path) -> None:
    path = tmp_path / "other.json"
    path.write_text('{"mode": "replay", "vendors": [{"vendor": "v"}]}', encoding="utf-8")
    with pytest.raises(
        CertificateError,
        match=r"other\.json is not a certificate \(vendors\.0\.model: Field required\)",
    ):
        load_certificate(path)


def test_a_round_trip_keeps_every_verdict(tmp_path: Path) -> None:
    path = tmp_path / "cert.json"
    original = _certificate(a_b="pass", c_d="not-exercised", e_f="xfail")
    path.write_text(original.model_dump_json(), encoding="utf-8")
    assert compare(original, load_certificate(path)) == []
