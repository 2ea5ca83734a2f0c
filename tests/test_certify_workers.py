"""Offline certify of several vendors runs them in worker processes, each vendor's cases
shared among them, and says so no differently: the same certificate, in the order asked for,
whatever order the work ran in; each vendor's line as soon as that vendor is done."""

from __future__ import annotations

import asyncio
import os
import ssl
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from contracts import certify_run
from contracts.certify_run import Work, work_plan
from contracts.report import Certificate
from contracts.targets import cassette_root, profiles_named
from providers.vendors import load_profile

#: Not in alphabetical order: the order asked for is the order of the results.
VENDORS = ["xai", "claude_subscription"]
_real_worker = certify_run._certify_in_worker
_real_plan = certify_run.work_plan
_PIDS = "LLM_CONTRACTS_TEST_PIDS"


def _noting_pid(task: list[Work], *args: Any, **kwargs: Any) -> Any:
    """The worker, noting which process ran which share of which vendor's cases (module
    level: a worker finds it by name)."""
    with Path(os.environ[_PIDS]).open("a", encoding="utf-8") as pids:
        for work in task:
            assert work.profile is not None
            pids.write(f"{os.getpid()} {work.profile.name} {work.part} {work.parts}\n")
    return _real_worker(task, *args, **kwargs)


def _last_vendor_first(*args: Any) -> tuple[str, list[list[Work]]]:
    """The plan with its tasks handed out last first: the last vendor asked for is done
    first."""
    protocol, plan = _real_plan(*args)
    return protocol, plan[::-1]


def _certify(cores: int, monkeypatch: pytest.MonkeyPatch) -> Certificate:
    monkeypatch.setattr(os, "cpu_count", lambda: cores)
    return asyncio.run(
        certify_run.certify_profiles(
            profiles_named(VENDORS),
            mode="replay",
            cassette_root=cassette_root(None),
            targets={},
            model=None,
        )
    )


def test_vendors_in_worker_processes_give_the_same_certificate_in_the_order_asked(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    pids = tmp_path / "pids"
    monkeypatch.setenv(_PIDS, str(pids))
    monkeypatch.setattr(certify_run, "_certify_in_worker", _noting_pid)
    monkeypatch.setattr(certify_run, "work_plan", _last_vendor_first)
    side_by_side = _certify(2, monkeypatch)
    lines = capsys.readouterr().err.splitlines()
    shares = [line.split() for line in pids.read_text(encoding="utf-8").splitlines()]
    one_by_one = _certify(1, monkeypatch)

    assert shares  # the vendors ran in processes other than this one
    assert str(os.getpid()) not in {pid for pid, *_ in shares}
    # Each vendor's cases in as many shares as there are workers, so its line comes as soon
    # as every core has done its share of that vendor.
    assert sorted(tuple(share) for _, *share in shares) == [
        (vendor, str(part), "2") for vendor in sorted(VENDORS) for part in range(2)
    ]
    # The line of the vendor done first comes first; the certificate keeps the order asked.
    assert [line.split(":")[0] for line in lines] == VENDORS[::-1]
    assert [result.vendor for result in side_by_side.vendors] == VENDORS
    assert side_by_side.vendors == one_by_one.vendors


def test_the_protocol_most_vendors_speak_is_imported_before_forking_others_run_whole() -> None:
    names = ("deepseek", "anthropic", "xai", "openai_responses", "groq")
    profiles = [load_profile(name) for name in names]

    protocol, plan = work_plan(profiles, 2)

    assert protocol == "openai_chat"
    assert plan == [
        # the first vendor of that protocol shared among the workers, for a first line soon,
        [Work(0, 0, 2)],
        [Work(0, 1, 2)],
        # then each vendor of another protocol whole, in one worker that alone imports what
        # its protocol needs (the Anthropic SDK; the Responses part of the OpenAI SDK),
        [Work(1)],
        [Work(3)],
        # then every other vendor shared.
        [Work(2, 0, 2)],
        [Work(2, 1, 2)],
        [Work(4, 0, 2)],
        [Work(4, 1, 2)],
    ]


def test_vendors_of_one_other_protocol_run_together_in_one_task() -> None:
    names = ("anthropic", "xai", "anthropic", "groq", "mistral")
    profiles = [load_profile(name) for name in names]

    protocol, plan = work_plan(profiles, 3)

    assert protocol == "openai_chat"
    assert plan[3] == [Work(0), Work(2)]
    assert len(plan) == 1 + 3 * 3


def test_a_vendor_whose_sdk_is_missing_is_one_line_from_its_worker() -> None:
    # The Anthropic SDK is imported by the worker that certifies anthropic, not before
    # forking: its absence still ends the run in one line, exit 2.
    code = (
        "import sys; sys.modules['anthropic'] = None\n"
        "from contracts.__main__ import main\n"
        "sys.argv[1:] = ['certify', '--vendor', 'xai', '--vendor', 'anthropic']\n"
        "raise SystemExit(main())"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 2
    assert result.stderr.splitlines()[-1] == (
        "llm-contracts: error: AnthropicProvider needs the 'anthropic' package, which is not "
        "installed: pip install 'llm-contracts[anthropic]'"
    )
    assert "Traceback" not in result.stderr


def test_an_offline_workers_client_trusts_no_certificate() -> None:
    # Offline, the workers reach only the loopback replica over plain HTTP: any TLS server
    # is refused, none is trusted.
    context = certify_run.trusting_nothing()
    assert context.verify_mode == ssl.CERT_REQUIRED
    assert context.check_hostname
    assert context.cert_store_stats()["x509_ca"] == 0
