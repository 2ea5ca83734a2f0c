"""The contract as data: clauses (`clauses.toml`) and scenarios (`scenarios/*.toml`).

A scenario is a request plus what the vendor answers (or how it fails). Tests and
certificates are generated from scenarios x vendors: adding a scenario file adds cases
without code. A scenario whose finish is `*` expands into one case per finish value the
vendor profile lists.
"""

from __future__ import annotations

import json
import tomllib
import zlib
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import Field, ValidationError

from contracts.vendors import load_suite_profile
from providers.errors import LlmError, ProviderUnavailableError, StreamError
from providers.frozen import Frozen as _Spec
from providers.frozen import describe_errors
from providers.types import (
    AssistantMessage,
    CompletionRequest,
    ResponseFormat,
    StopReason,
    ThinkingConfig,
    ToolDefinition,
    ToolResultMessage,
    UserMessage,
)
from providers.vendors import StopMapping, VendorProfile

if TYPE_CHECKING:
    from contracts.expected import Expected

SPEC_DIR = Path(__file__).parent
SCENARIO_DIR = SPEC_DIR / "scenarios"
EACH_PROFILE_FINISH = "*"
Capability = Literal["streaming", "tool_calling", "vision", "extended_thinking"]


class SpecError(ValueError):
    """A clause or scenario file does not validate; the message names the file and field."""


class Clause(_Spec):
    id: str = Field(pattern=r"^[a-z]+(\.[a-z0-9-]+)+$")
    level: Literal["must", "should"]
    statement: str = Field(min_length=1)
    #: What usually makes this clause fail and how to fix it; shown with every failure.
    troubleshooting: str = Field(min_length=1)
    requires: Capability | None = None


class UsageSpec(_Spec):
    #: All input tokens, cached or not (the protocol may count cached ones apart on the wire).
    prompt: int = Field(ge=0)
    completion: int = Field(ge=0)
    #: Input tokens read from the vendor's prompt cache, and written to it; served only where
    #: the vendor's protocol and profile say it reports them.
    cache_read: int = Field(default=0, ge=0)
    cache_write: int = Field(default=0, ge=0)


class ToolCallSpec(_Spec):
    id: str
    name: str
    arguments: tuple[str, ...]

    @property
    def joined(self) -> str:
        return "".join(self.arguments)

    @property
    def input(self) -> dict[str, Any] | None:
        """The arguments as a call's input, by the rule every provider documents: a JSON
        object, blank text meaning none; anything else (`null`, `true`, JSON cut short) is
        None, an answer the provider must refuse with MalformedResponseError."""
        if not self.joined.strip():
            return {}
        try:
            parsed = json.loads(self.joined)
        except ValueError:
            return None
        return parsed if isinstance(parsed, dict) else None


class Answer(_Spec):
    """What the vendor sends back, independent of how it puts it on the wire."""

    text: tuple[str, ...] = ()
    thinking: tuple[str, ...] = ()
    tool_calls: tuple[ToolCallSpec, ...] = ()
    finish: str | None = None
    usage: UsageSpec | Literal["none"] = "none"
    #: An error payload sent after the content, inside the 200 stream.
    error: str | None = None
    #: End the body without finish reason and without [DONE].
    truncate: bool = False
    #: Drop the connection after this many body pieces.
    disconnect_after: int | None = None
    #: The last text piece rides on the chunk that carries the finish reason (vLLM and
    #: gateways do this), where the protocol allows content there.
    text_on_finish: bool = False
    #: What the model says instead when the request's response_format did not reach it
    #: (the replica answers this to a request that lost its format).
    unformatted_text: tuple[str, ...] = ()

    @property
    def malformed_calls(self) -> tuple[ToolCallSpec, ...]:
        """The calls whose arguments are no JSON object: the provider raises
        MalformedResponseError for such an answer, whatever else it carries."""
        return tuple(call for call in self.tool_calls if call.input is None)


class Fault(_Spec):
    """An HTTP error answer, in the vendor's own error-body shape."""

    status: int = Field(ge=400, le=599)
    message: str
    code: str
    retry_after: int | None = None


class Expect(_Spec):
    error: str | None = None
    retryable: bool | None = None
    retry_after: float | None = None


class RequestSpec(_Spec):
    system: str | None = None
    messages: tuple[dict[str, Any], ...]
    tools: tuple[ToolDefinition, ...] = ()
    tool_choice: str | None = None
    parallel_tool_calls: bool | None = None
    response_format: ResponseFormat | None = None
    thinking: ThinkingConfig | None = None
    max_tokens: int | None = None
    temperature: float | None = None
    top_p: float | None = None
    seed: int | None = None

    def build(self) -> CompletionRequest:
        roles: dict[str, type[UserMessage | AssistantMessage | ToolResultMessage]] = {
            "user": UserMessage,
            "assistant": AssistantMessage,
            "tool": ToolResultMessage,
        }
        return CompletionRequest(
            system=self.system,
            messages=tuple(roles[m["role"]].model_validate(m) for m in self.messages),
            tools=self.tools,
            tool_choice=self.tool_choice,
            parallel_tool_calls=self.parallel_tool_calls,
            response_format=self.response_format,
            thinking=self.thinking,
            max_tokens=self.max_tokens,
            temperature=self.temperature,
            top_p=self.top_p,
            seed=self.seed,
        )


class Scenario(_Spec):
    id: str
    description: str
    clauses: tuple[str, ...]
    requires: Capability | None = None
    paths: tuple[Literal["stream", "complete"], ...] = ("stream", "complete")
    replica_only: bool = False
    #: How the case runs against a live endpoint: as_is (send the request, judge whatever
    #: comes back), bad_key / bad_model (provoke the error), over_context (a prompt longer
    #: than the profile's context window), over_output (max_tokens at the profile's output
    #: limit, over a small window), skip (cannot be provoked live).
    live: Literal["as_is", "bad_key", "bad_model", "over_context", "over_output", "skip"] = "skip"
    request: RequestSpec
    answer: Answer | None = None
    fault: Fault | None = None
    expect: Expect = Expect()


@dataclass(frozen=True)
class Case:
    """One scenario for one vendor, with its finish value resolved."""

    id: str
    scenario: Scenario
    finish: str | None
    #: For a real recording: what it must yield, frozen at import; checks judge against it.
    expected: Expected | None = None

    @property
    def seed(self) -> int:
        """How this case's response bodies are cut into reads, replica and replay alike: the
        same cuts every run, other cuts for another case."""
        return zlib.crc32(self.id.encode())

    @property
    def answer(self) -> Answer | None:
        answer = self.scenario.answer
        if answer is None or self.finish == answer.finish:
            return answer
        return answer.model_copy(update={"finish": self.finish})


#: What a stream raises when the profile maps its finish value to a failure.
STOP_FAILURES: dict[str, type[LlmError]] = {
    "error": StreamError,
    "retryable_error": ProviderUnavailableError,
}


def expected_stop(profile: VendorProfile, raw: str, *, tool_calls: bool) -> StopMapping:
    """What the contract says a finish value means for this vendor."""
    mapped = profile.stop_mapping().get(raw, StopReason.OTHER)
    if mapped is StopReason.END_TURN and tool_calls and profile.wire.tool_calls_imply_tool_use:
        return StopReason.TOOL_USE
    return mapped


def _load(path: Path, model: type[_Spec], **extra: Any) -> Any:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        return model.model_validate({**data, **extra})
    except tomllib.TOMLDecodeError as exc:
        raise SpecError(f"{path}: not valid TOML: {exc}") from None
    except ValidationError as exc:
        raise SpecError(f"{path}: {describe_errors(exc)}") from None


class _ClauseFile(_Spec):
    clause: tuple[Clause, ...]


@cache
def load_clauses() -> dict[str, Clause]:
    clauses = _load(SPEC_DIR / "clauses.toml", _ClauseFile).clause
    return {clause.id: clause for clause in clauses}


def load_scenarios(directory: Path = SCENARIO_DIR) -> list[Scenario]:
    """The directory's scenarios by file name. Read once per set of files as they stand (a
    vendor's certification asks for them more than once, every vendor of a run again)."""
    files = tuple((path, path.stat().st_mtime_ns) for path in sorted(directory.glob("*.toml")))
    return list(_scenarios_in(files))


@cache
def _scenarios_in(files: tuple[tuple[Path, int], ...]) -> tuple[Scenario, ...]:
    clauses = load_clauses()
    scenarios = []
    for path, _modified in files:
        scenario: Scenario = _load(path, Scenario, id=path.stem)
        unknown = [c for c in scenario.clauses if c not in clauses]
        if unknown:
            raise SpecError(f"{path}: unknown clause(s) {unknown}; known: {sorted(clauses)}")
        if (scenario.answer is None) == (scenario.fault is None):
            raise SpecError(f"{path}: a scenario has exactly one of [answer] or [fault]")
        scenarios.append(scenario)
    return tuple(scenarios)


def cases_for(scenario: Scenario, profile: VendorProfile) -> list[Case]:
    answer = scenario.answer
    if answer is not None and answer.finish == EACH_PROFILE_FINISH:
        values = load_suite_profile(profile.name).finish_values
        return [Case(f"{scenario.id}[{value}]", scenario, value) for value in values]
    return [Case(scenario.id, scenario, answer.finish if answer else None)]
