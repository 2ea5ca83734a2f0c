"""A deliberately broken provider fails both pytest and certify, naming the clause and vendor."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import defects
import pytest

from contracts import certify_run, cli
from contracts.runner import ProviderFactory
from providers.vendors import VendorProfile

REPO = Path(__file__).resolve().parent.parent


def break_certify(monkeypatch: pytest.MonkeyPatch, rewrite: defects.Rewrite) -> None:
    """certify builds providers through `bundled_factory`: wrap what it builds."""
    real = certify_run.bundled_factory

    def broken(profile: VendorProfile, model: str | None = None, **options: Any) -> ProviderFactory:
        build = real(profile, model, **options)
        return lambda base_url, api_key: defects.RewrittenStream(build(base_url, api_key), rewrite)

    monkeypatch.setattr(certify_run, "bundled_factory", broken)


DEFECTS = [
    ("usage_before_message_delta", "grammar.terminal-sequence"),
    ("length_as_end_turn", "stop.max-tokens"),
]


@pytest.mark.parametrize(("defect", "clause"), DEFECTS)
def test_certify_fails_naming_clause_and_vendor(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    defect: str,
    clause: str,
) -> None:
    break_certify(monkeypatch, getattr(defects, defect))
    code = cli.main(["certify", "--vendor", "mistral", "--cassettes", str(REPO / "cassettes")])
    out = capsys.readouterr().out
    assert code == 1
    assert f"mistral {clause} (must) FAILED" in out


CONTRACT_MODULE = """
from pathlib import Path
import defects
from contracts.suite import ProviderContract
from providers import OpenAiCompatibleProvider

class TestMistral(ProviderContract):
    vendor = "mistral"
    cassette_root = Path({cassettes!r})

    def make_provider(self, base_url, api_key):
        provider = OpenAiCompatibleProvider.from_vendor(
            "mistral", api_key=api_key, base_url=base_url, max_retries=0)
        return {wrap}
"""


def contract_module(wrap: str) -> str:
    return CONTRACT_MODULE.format(cassettes=str(REPO / "cassettes"), wrap=wrap)


PYTEST_ARGS = ("-q", "-p", "no:cacheprovider", "-o", "asyncio_default_fixture_loop_scope=function")


def test_pytest_passes_the_provider_without_a_defect(pytester: pytest.Pytester) -> None:
    """What the defects below break: the same contract holds on the provider they wrap."""
    pytester.syspathinsert(Path(__file__).parent)
    pytester.makepyfile(test_contract=contract_module("provider"))
    assert pytester.runpytest_inprocess(*PYTEST_ARGS).ret == pytest.ExitCode.OK


@pytest.mark.parametrize(("defect", "clause"), DEFECTS)
def test_pytest_fails_naming_clause_and_vendor(
    pytester: pytest.Pytester, defect: str, clause: str
) -> None:
    pytester.syspathinsert(Path(__file__).parent)
    pytester.makepyfile(
        test_contract=contract_module(f"defects.RewrittenStream(provider, defects.{defect})")
    )
    broken = pytester.runpytest_inprocess(*PYTEST_ARGS)
    assert broken.ret == pytest.ExitCode.TESTS_FAILED
    broken.stdout.fnmatch_lines([f"*[[]mistral[]] {clause} on *"])
    broken.stdout.fnmatch_lines(["troubleshooting: *", "wire evidence:", "  request (*): {*"])
    broken.stdout.fnmatch_lines([f"TestMistral (mistral): * pass, * fail, *; FAILED: *{clause}*"])
