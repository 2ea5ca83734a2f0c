"""A deliberately broken adapter fails both pytest and certify, naming the clause and vendor."""

from __future__ import annotations

from pathlib import Path

import pytest

from contracts.cli import main
from providers.openai_compat.adapter import StreamAdapter
from providers.types import MessageDelta, StopReason, StreamEvent, Usage

REPO = Path(__file__).resolve().parent.parent


def usage_before_message_delta(monkeypatch: pytest.MonkeyPatch) -> None:
    original = StreamAdapter.finish

    def finish(self: StreamAdapter) -> list[StreamEvent]:
        events = original(self)
        delta = next(e for e in events if isinstance(e, MessageDelta))
        usage = next(e for e in events if isinstance(e, Usage))
        i, j = events.index(delta), events.index(usage)
        events[i], events[j] = usage, delta
        return events

    monkeypatch.setattr(StreamAdapter, "finish", finish)


def length_as_end_turn(monkeypatch: pytest.MonkeyPatch) -> None:
    original = StreamAdapter._message_delta

    def message_delta(self: StreamAdapter, raw: str) -> MessageDelta:
        if raw == "length":
            return MessageDelta(stop_reason=StopReason.END_TURN, raw_stop_reason=raw)
        return original(self, raw)

    monkeypatch.setattr(StreamAdapter, "_message_delta", message_delta)


DEFECTS = [
    (usage_before_message_delta, "grammar.terminal-sequence"),
    (length_as_end_turn, "stop.max-tokens"),
]


@pytest.mark.parametrize(("break_adapter", "clause"), DEFECTS)
def test_certify_fails_naming_clause_and_vendor(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    break_adapter: object,
    clause: str,
) -> None:
    break_adapter(monkeypatch)  # type: ignore[operator]
    code = main(["certify", "--vendor", "mistral", "--cassettes", str(REPO / "cassettes")])
    out = capsys.readouterr().out
    assert code == 1
    assert f"mistral {clause} (must) FAILED" in out


CONTRACT_MODULE = f"""
from pathlib import Path
from contracts.suite import ProviderContract
from providers import OpenAiCompatibleProvider

class TestMistral(ProviderContract):
    vendor = "mistral"
    cassette_root = Path({str(REPO / "cassettes")!r})

    def make_provider(self, base_url, api_key):
        return OpenAiCompatibleProvider.from_vendor(
            "mistral", api_key=api_key, base_url=base_url, max_retries=0)
"""


@pytest.mark.parametrize(("break_adapter", "clause"), DEFECTS)
def test_pytest_fails_naming_clause_and_vendor(
    monkeypatch: pytest.MonkeyPatch,
    pytester: pytest.Pytester,
    break_adapter: object,
    clause: str,
) -> None:
    pytester.makepyfile(test_contract=CONTRACT_MODULE)
    args = ("-q", "-p", "no:cacheprovider", "-o", "asyncio_default_fixture_loop_scope=function")
    assert pytester.runpytest_inprocess(*args).ret == pytest.ExitCode.OK
    break_adapter(monkeypatch)  # type: ignore[operator]
    broken = pytester.runpytest_inprocess(*args)
    assert broken.ret == pytest.ExitCode.TESTS_FAILED
    broken.stdout.fnmatch_lines([f"*[[]mistral[]] {clause} on *"])
    broken.stdout.fnmatch_lines(["troubleshooting: *", "wire evidence:", "  request 1: {*"])
    broken.stdout.fnmatch_lines([f"TestMistral (mistral): * pass, * fail, *; FAILED: *{clause}*"])
