"""The gate's rules, one by one: what fails a release and what is only reported."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from support import run_cli

from contracts.gate import (
    CertificateError,
    GateRefused,
    check_judgeable,
    chosen_vendors,
    compare,
    load_certificate,
    render,
)
from contracts.report import Certificate, ClauseResult, UsageSource, VendorResult

REPO = Path(__file__).resolve().parent.parent
BASELINE = REPO / "certificates" / "baseline.json"


def _vendor(name: str = "v", **verdicts: str) -> VendorResult:
    """Keyword names are clause ids with `_` for `.`."""
    clauses = {
        clause.replace("_", "."): ClauseResult(verdict=verdict, level="must")  # type: ignore[arg-type]
        for clause, verdict in verdicts.items()
    }
    return VendorResult(vendor=name, model="m", base_url_host="h", clauses=clauses)


def _certificate(**verdicts: str) -> Certificate:
    """One vendor "v"."""
    return Certificate(mode="replay", vendors=[_vendor(**verdicts)])


def _with_usage(**sources: UsageSource) -> Certificate:
    """Vendor "v", usage.reported passing, and how each named case's usage came."""
    certificate = _certificate(usage_reported="pass")
    certificate.vendors[0].usage = dict(sources)
    return certificate


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


# -- what the gate refuses rather than compares ----------------------------------------------


def test_a_certificate_without_vendors_is_refused() -> None:
    with pytest.raises(GateRefused, match=r"^baseline b\.json lists no vendor"):
        check_judgeable(Certificate(mode="replay"), "baseline b.json")


def test_a_vendor_without_verdicts_is_refused() -> None:
    with pytest.raises(GateRefused, match=r"holds no clause verdict for v$"):
        check_judgeable(Certificate(mode="replay", vendors=[_vendor()]), "baseline")


def test_a_vendor_listed_twice_in_a_certificate_is_refused() -> None:
    twice = Certificate(mode="replay", vendors=[_vendor("w", a_b="pass"), _vendor("w", a_b="fail")])
    with pytest.raises(GateRefused, match="lists vendor w more than once"):
        check_judgeable(twice, "baseline")


def test_cases_that_could_not_run_are_refused_not_counted_as_not_exercised() -> None:
    broken = _certificate(a_b="not-exercised")
    broken.vendors[0].problems = ["missing cassette c/v/x.yaml: record it with `...`", "another"]
    with pytest.raises(
        GateRefused,
        match=r"^the run cannot be judged: 2 case\(s\) of v could not run; "
        r"the first: missing cassette c/v/x\.yaml",
    ):
        check_judgeable(broken, "the run")


def test_a_judgeable_certificate_passes_the_check() -> None:
    check_judgeable(_certificate(a_b="pass"), "baseline")


def test_a_vendor_named_twice_is_refused() -> None:
    with pytest.raises(GateRefused, match="--vendor v is given more than once"):
        chosen_vendors(_certificate(a_b="pass"), ["v", "v"])


def test_a_vendor_the_baseline_does_not_hold_is_refused_with_what_it_holds() -> None:
    with pytest.raises(
        GateRefused, match=r"--vendor x: the baseline holds no such vendor \(it holds: v\)"
    ):
        chosen_vendors(_certificate(a_b="pass"), ["x"])


def test_no_vendor_named_means_every_vendor_of_the_baseline() -> None:
    baseline = Certificate(
        mode="replay", vendors=[_vendor("v", a_b="pass"), _vendor("w", a_b="pass")]
    )
    assert chosen_vendors(baseline, []) == ["v", "w"]
    assert chosen_vendors(baseline, ["w"]) == ["w"]


# -- usage that stops being reported --------------------------------------------------------


def test_usage_turning_from_reported_to_estimated_is_a_regression_naming_the_case() -> None:
    changes = compare(_with_usage(text_basic="reported"), _with_usage(text_basic="estimated"))
    assert [c.regression for c in changes] == [True]
    assert render(changes, markdown=False) == (
        "gate FAILED: 1 regression(s)\nregressions:\n"
        "- v usage.reported (text_basic): reported -> estimated\n"
        "    text_basic: the vendor sent no usage, so Usage is estimated "
        "(token counts are guesses)\n"
    )


def test_usage_turning_from_estimated_to_reported_is_an_improvement() -> None:
    [change] = compare(_with_usage(a="estimated"), _with_usage(a="reported"))
    assert change.improvement
    assert not change.regression


def test_usage_unchanged_or_of_a_case_no_longer_run_is_no_change() -> None:
    assert compare(_with_usage(a="reported", b="estimated"), _with_usage(a="reported")) == []


def test_usage_of_a_vendor_not_named_is_not_compared() -> None:
    assert compare(_with_usage(a="reported"), _with_usage(a="estimated"), ["other"]) == []


# -- what a regression shows ----------------------------------------------------------------


def _failing(**fields: object) -> Certificate:
    certificate = _certificate(usage_reported="pass")
    certificate.vendors[0].clauses["usage.reported"] = ClauseResult.model_validate(
        {"level": "must", **fields}
    )
    return certificate


def test_a_failed_regression_shows_each_case_with_reason_and_the_wire() -> None:
    current = _failing(
        verdict="fail",
        evidence=["text_basic: 2 Usage events, expected exactly 1 [events: TextDelta Done]"],
        wire=["request 1: {}", "served 1: 200 text/event-stream: 'data: x'"],
        troubleshooting="Usually usage is summed",
    )
    text = render(compare(_certificate(usage_reported="pass"), current), markdown=False)
    assert text == (
        "gate FAILED: 1 regression(s)\nregressions:\n"
        "- v usage.reported: pass -> fail\n"
        "    text_basic: 2 Usage events, expected exactly 1 [events: TextDelta Done]\n"
        "    wire: request 1: {}\n"
        "    wire: served 1: 200 text/event-stream: 'data: x'\n"
    )


def test_an_xfail_regression_shows_the_evidence_and_the_known_defect() -> None:
    current = _failing(verdict="xfail", reason="vendor repeats usage", evidence=["c: twice"])
    [change] = compare(_certificate(usage_reported="pass"), current)
    assert change.details == ("c: twice", "known defect: vendor repeats usage")


def test_an_unsupported_regression_shows_its_reason() -> None:
    current = _failing(verdict="unsupported", reason="the provider declares no tool_calling")
    [change] = compare(_certificate(usage_reported="pass"), current)
    assert change.details == ("the provider declares no tool_calling",)


def test_a_clause_gone_says_the_certificate_holds_no_verdict() -> None:
    [change] = compare(_certificate(a_b="pass"), _certificate(c_d="pass", a_b="pass"))
    assert change.improvement  # c.d is new; a.b is unchanged
    [gone] = compare(_certificate(a_b="pass", c_d="pass"), _certificate(a_b="pass"))
    assert gone.details == ("the current certificate holds no verdict for this clause",)


def test_markdown_lists_each_detail_as_a_nested_item() -> None:
    current = _failing(verdict="fail", evidence=["c: why"], wire=["request 1: {}"])
    assert render(compare(_certificate(usage_reported="pass"), current), markdown=True) == (
        "## gate FAILED: 1 regression(s)\n\n### regressions\n"
        "- v `usage.reported`: pass -> fail\n  - c: why\n  - wire: request 1: {}\n"
    )


def test_improvements_and_other_changes_list_no_details() -> None:
    current = _failing(verdict="xfail", reason="known", evidence=["c: why"])
    text = render(compare(_certificate(usage_reported="fail"), current), markdown=False)
    assert text == "gate passed: no regression\nother changes:\n- v usage.reported: fail -> xfail\n"


# -- the command, as CI runs it ---------------------------------------------------------------


def _write(certificate: Certificate, path: Path) -> str:
    path.write_text(certificate.model_dump_json(), encoding="utf-8")
    return str(path)


def test_an_empty_cassette_folder_is_refused_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run_cli(
        capsys, "gate", "--baseline", str(BASELINE), "--vendor", "glm", "--cassettes", str(tmp_path)
    )
    assert code == 2
    assert out == ""
    [refusal] = [line for line in err.splitlines() if line.startswith("llm-contracts: error:")]
    assert "could not run; the first: missing cassette" in refusal
    assert "llm-contracts record --vendor glm" in err


@pytest.mark.parametrize("folder", ["", "imported"], ids=["replica", "imported"])
def test_corrupt_cassettes_are_refused_naming_the_file(
    folder: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    shutil.copytree(REPO / "cassettes" / "glm", tmp_path / "glm")
    for recording in (tmp_path / "glm" / folder).glob("*.yaml"):
        recording.write_text("interactions: [\n", encoding="utf-8")
    code, _, err = run_cli(
        capsys, "gate", "--baseline", str(BASELINE), "--vendor", "glm", "--cassettes", str(tmp_path)
    )
    assert code == 2
    [refusal] = [line for line in err.splitlines() if line.startswith("llm-contracts: error:")]
    assert f"cassette problem: {tmp_path / 'glm' / folder}" in refusal
    assert ".yaml: not valid YAML" in err


def test_a_cassette_that_stops_reporting_usage_fails_the_gate(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    shutil.copytree(REPO / "cassettes" / "glm", tmp_path / "glm")
    recording = tmp_path / "glm" / "text_basic.yaml"
    text = recording.read_text(encoding="utf-8")
    usage = ', "usage": {"prompt_tokens": 12, "completion_tokens": 4, "total_tokens": 16}'
    assert usage in text
    recording.write_text(text.replace(usage, ""), encoding="utf-8")
    code, out, _ = run_cli(
        capsys, "gate", "--baseline", str(BASELINE), "--vendor", "glm", "--cassettes", str(tmp_path)
    )
    assert code == 1
    assert "- glm usage.reported (text_basic): reported -> estimated\n" in out


def test_markdown_for_the_summary_still_shows_regressions_in_the_log(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    baseline = _write(_certificate(a_b="pass"), tmp_path / "baseline.json")
    current = _failing(verdict="fail", evidence=["c: why"])
    current.vendors[0].clauses["a.b"] = current.vendors[0].clauses.pop("usage.reported")
    args = ("gate", "--baseline", baseline, "--current", _write(current, tmp_path / "now.json"))
    code, out, err = run_cli(capsys, *args, "--format", "markdown")
    assert code == 1
    assert out.startswith("## gate FAILED: 1 regression(s)")
    assert err == "gate FAILED: 1 regression(s)\nregressions:\n- v a.b: pass -> fail\n    c: why\n"


def test_markdown_without_regressions_keeps_the_log_quiet(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    baseline = _write(_certificate(a_b="pass"), tmp_path / "baseline.json")
    code, out, err = run_cli(
        capsys, "gate", "--baseline", baseline, "--current", baseline, "--format", "markdown"
    )
    assert (code, err) == (0, "")
    assert out.startswith("## gate passed")


@pytest.mark.parametrize(
    ("baseline", "vendors", "says"),
    [
        (Certificate(mode="replay"), (), "lists no vendor"),
        (_certificate(a_b="pass"), ("--vendor", "mistral"), "--vendor mistral: the baseline"),
        (_certificate(a_b="pass"), ("--vendor", "v", "--vendor", "v"), "given more than once"),
    ],
    ids=["empty-baseline", "unknown-vendor", "vendor-twice"],
)
def test_the_command_refuses_what_it_cannot_judge_with_exit_2(
    baseline: Certificate,
    vendors: tuple[str, ...],
    says: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = _write(baseline, tmp_path / "baseline.json")
    code, out, err = run_cli(capsys, "gate", "--baseline", path, "--current", path, *vendors)
    assert code == 2
    assert out == ""
    assert err.startswith("llm-contracts: error: ")
    assert says in err
    assert err.count("\n") == 1
