"""Clauses and scenarios are data: a new scenario file is a new case, bad files are named."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import ClassVar

import pytest

from contracts.certification import DefectKey
from contracts.spec import SCENARIO_DIR, SpecError, cases_for, load_clauses, load_scenarios
from contracts.suite import ContractDefinitionError, ProviderContract, contract_params
from contracts.vendors import SuiteProfile, load_suite_profile
from providers import load_profile


def test_every_clause_has_a_check_and_a_scenario() -> None:
    from contracts.checks import CHECKS

    exercised = {c for s in load_scenarios() for c in s.clauses}
    assert set(load_clauses()) == set(CHECKS) == exercised


def test_adding_a_scenario_file_adds_cases_without_code(tmp_path: Path) -> None:
    for path in SCENARIO_DIR.glob("*.toml"):
        shutil.copy(path, tmp_path)
    before = len(load_scenarios(tmp_path))
    (tmp_path / "text_short.toml").write_text(
        'description = "one word"\nclauses = ["text.fidelity"]\n'
        '[request]\nmessages = [{ role = "user", content = "hi" }]\n'
        '[answer]\ntext = ["Hi"]\nfinish = "stop"\n'
    )
    assert len(load_scenarios(tmp_path)) == before + 1


def test_unknown_clause_in_a_scenario_is_named(tmp_path: Path) -> None:
    (tmp_path / "bad.toml").write_text(
        'description = "x"\nclauses = ["text.fidelty"]\n'
        '[request]\nmessages = [{ role = "user", content = "hi" }]\n[answer]\ntext = ["x"]\n'
    )
    with pytest.raises(SpecError, match=r"bad\.toml: unknown clause.*text\.fidelty"):
        load_scenarios(tmp_path)


def test_finish_star_expands_to_the_profile_finish_values() -> None:
    scenario = next(s for s in load_scenarios() if s.id == "finish_values")
    ids = [case.id for case in cases_for(scenario, load_profile("glm"))]
    assert "finish_values[sensitive]" in ids
    assert "finish_values[network_error]" in ids


def test_xfail_without_reason_is_refused_in_a_contract_class() -> None:
    class TestCareless(ProviderContract):
        known_defects: ClassVar[dict[str, str]] = {"stop.mapping": "  "}

    with pytest.raises(ContractDefinitionError, match="needs a reason"):
        contract_params(TestCareless)


def test_xfail_with_reason_marks_that_clause() -> None:
    class TestHonest(ProviderContract):
        capabilities = load_profile("openai").capabilities
        known_defects: ClassVar[dict[DefectKey, str]] = {
            "stop.mapping": "vendor sends stop for tool calls; fixed upstream soon"
        }

    params = contract_params(TestHonest)
    assert all(any(m.name == "contract" for m in p.marks) for p in params)
    marked = [p for p in params if any(m.name == "xfail" for m in p.marks)]
    assert marked
    assert all(p.values[0][1] == "stop.mapping" for p in marked)


def test_xfail_without_reason_is_refused_in_a_vendor_suite_file() -> None:
    data = load_suite_profile("openai").model_dump()
    data["known_defects"] = {"stop.mapping": ""}
    with pytest.raises(ValueError, match="known_defects need a reason"):
        SuiteProfile.model_validate(data)
