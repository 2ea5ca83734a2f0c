"""The CI recipe works: its `run:` steps, in order, in a project folder, as GitHub Actions runs
them (`bash -eo pipefail`), with the job summary in a file. The first run passes the gate; a run
against a baseline where a clause held that now fails is stopped by the gate (exit 1), with the
regression in the summary and the log. `uses:` steps (checkout, Python, upload) are GitHub's;
the install step is checked to name an existing extra, not run (no network here).

A `.ci/run` stage: three certify runs take longer than a default test should.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[2]
WORKFLOW = Path(__file__).with_name("llm-contracts.yml")


def _steps() -> list[dict[str, Any]]:
    document = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))
    [job] = document["jobs"].values()
    return list(job["steps"])


def _run_steps(project: Path) -> tuple[int, str, str]:
    """Every step up to the first failure (`if: always()` ones also after it), as Actions
    would; the exit code of the first failing step, the log, and the job summary."""
    summary = project / "summary.md"
    env = {**os.environ, "GITHUB_STEP_SUMMARY": str(summary), "HTTPS_PROXY": "http://127.0.0.1:9"}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env['PATH']}"
    failed, log = 0, ""
    for step in _steps():
        if "run" not in step or step.get("name") == "Install":
            continue
        if failed and step.get("if") != "always()":
            continue
        result = subprocess.run(
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step["run"]],
            cwd=project,
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        log += result.stdout + result.stderr
        failed = failed or result.returncode
    return failed, log, summary.read_text(encoding="utf-8") if summary.exists() else ""


def test_the_install_step_names_an_existing_extra() -> None:
    [install] = [step for step in _steps() if step.get("name") == "Install"]
    extras = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    for extra in re.findall(r"llm-contracts\[(\w+)\]", install["run"]):
        assert extra in extras["optional-dependencies"]


def test_the_workflow_passes_then_fails_on_a_regression(tmp_path: Path) -> None:
    (tmp_path / "ci").mkdir()
    baseline = tmp_path / "ci" / "baseline.json"
    made = subprocess.run(
        [shutil.which("llm-contracts") or "llm-contracts", "certify", "--vendor", "openai",
         "--out", str(baseline)],
        cwd=tmp_path, capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert made.returncode == 0, made.stdout + made.stderr

    code, log, summary = _run_steps(tmp_path)
    assert code == 0, log
    assert "gate passed: no regression" in log
    assert "## Contract certificate" in summary
    assert "## gate passed" in summary
    assert (tmp_path / "certificate.html").read_text(encoding="utf-8").startswith("<!DOCTYPE")

    # A baseline in which a clause passed that this run reports unsupported: a regression.
    document = json.loads(baseline.read_text(encoding="utf-8"))
    vendor, clause = next(
        (v, c)
        for v in document["vendors"]
        for c, r in v["clauses"].items()
        if r["verdict"] == "unsupported"
    )
    vendor["clauses"][clause]["verdict"] = "pass"
    baseline.write_text(json.dumps(document), encoding="utf-8")
    (tmp_path / "summary.md").unlink()

    code, log, summary = _run_steps(tmp_path)
    assert code == 1, log
    regression = f"{vendor['vendor']} {clause}: pass -> unsupported"
    assert regression in log
    assert "## gate FAILED: 1 regression(s)" in summary
    assert (tmp_path / "certificate.html").is_file()  # kept even when the gate fails
