"""One interface per wire protocol: everything the suite does that depends on the bytes.

A protocol serves a scenario's answer or fault as its bytes (the replica), reads an answer
back from recorded bytes (the independent oracle, sharing no code with any provider's
adapter), describes a recording's wire shape (drift), and judges whether a request is one
the vendor accepts. Clauses and scenarios are shared by all protocols; a vendor's profile
names its protocol, and `protocol_for` builds it with that vendor's facts.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

from pydantic import ValidationError

from contracts.observed import Exchange
from contracts.replica.server import RecordedRequest, ScriptedResponse
from contracts.spec import Answer, Case, Fault, RequestSpec
from contracts.vendors import Rejection, SuiteProfile, find_suite_file, load_suite_profile
from providers.frozen import Frozen, describe_errors
from providers.protocols import load_reference, protocol_entry
from providers.vendors import ProfileError, VendorProfile


class WireFacts(Frozen):
    """A vendor's facts for one protocol: the keys of `[wire]` in its suite file."""


@dataclass(frozen=True)
class WireShape:
    """What a recording looks like, values aside: compared between two recordings."""

    streamed: bool
    status: int
    fields: frozenset[str]
    finish_values: tuple[str, ...]
    #: Protocol-specific traits, name -> value (usage placement, tool-call cutting, ...).
    traits: tuple[tuple[str, Any], ...]


class WireProtocol(ABC):
    """One wire protocol, bound to one vendor's profile and suite facts."""

    name: ClassVar[str]
    #: What the path of a request of this protocol ends with ("chat/completions"), and the
    #: protocol's name in messages ("Chat Completions").
    endpoint: ClassVar[str]
    title: ClassVar[str]
    facts_model: ClassVar[type[WireFacts]]

    def __init__(self, profile: VendorProfile, suite: SuiteProfile) -> None:
        self.profile = profile
        self.suite = suite
        try:
            self.facts = self.facts_model.model_validate(suite.wire)
        except ValidationError as exc:
            where = find_suite_file(suite.name) or f"the suite file of {suite.name}"
            problems = describe_errors(exc, prefix="wire.")
            raise ProfileError(f"{where}: invalid for protocol {self.name}: {problems}") from None

    @property
    def sdk(self) -> str:
        """The distribution whose version cassettes and certificates record as the SDK."""
        return protocol_entry(self.name).sdk

    # -- serve --------------------------------------------------------------------------------

    def responder(self, case: Case) -> Callable[[RecordedRequest], ScriptedResponse]:
        """A ReplicaServer responder that answers every request with this case, its body cut
        into reads the way this case's seed says."""

        def respond(request: RecordedRequest) -> ScriptedResponse:
            return self.respond(case, request).delivered_in(case.seed)

        return respond

    def respond(self, case: Case, request: RecordedRequest) -> ScriptedResponse:
        """Refuse what the vendor refuses, as it does; else play the fault or the answer."""
        body = request.json() or {}
        rule = self.refusal(body)
        if rule is not None:
            if isinstance(rule.body, str):
                return ScriptedResponse.text(rule.body, rule.status)
            return ScriptedResponse.json(rule.body, rule.status)
        fault = case.scenario.fault
        if fault is not None:
            return self.error_response(fault)
        assert case.answer is not None, "a scenario has an answer or a fault"
        return self.answer_response(self.honoured(case, case.answer, body), body)

    def honoured(self, case: Case, answer: Answer, request: dict[str, Any]) -> Answer:
        """The answer a model gives to this request: the scenario's answer, shaped by what the
        request carried in this protocol's spelling (a tool choice, a response format, a
        thinking switch). A provider that drops or misspells one gets the answer a model
        would give without it."""
        choice = self.sent_tool_choice(request)
        if choice == "none" and answer.tool_calls:
            finish = "stop" if answer.finish == "tool_calls" else answer.finish
            answer = answer.model_copy(update={"tool_calls": (), "finish": finish})
        elif choice not in (None, "auto", "none") and answer.tool_calls:
            calls = tuple(c for c in answer.tool_calls if choice in ("required", c.name))
            answer = answer.model_copy(update={"tool_calls": calls, "text": ()})
        if answer.unformatted_text and self.sent_format(request) is None:
            answer = answer.model_copy(update={"text": answer.unformatted_text})
        if case.scenario.request.thinking is not None and not self.sent_thinking(request):
            answer = answer.model_copy(update={"thinking": ()})
        return answer

    @abstractmethod
    def answer_response(self, answer: Answer, request: dict[str, Any]) -> ScriptedResponse:
        """The answer as the vendor sends it to this request (streamed or whole)."""

    @abstractmethod
    def error_response(self, fault: Fault) -> ScriptedResponse:
        """An HTTP error in the vendor's own error-body shape (see `fault_headers`)."""

    def finish_on_wire(self, finish: str) -> str:
        """A scenario's finish value (OpenAI's words) as this protocol says it."""
        return finish

    #: Whether this protocol's usage report carries prompt-cache reads, and writes.
    reports_cache: ClassVar[tuple[bool, bool]] = (False, False)

    def cache_reported(self) -> tuple[bool, bool]:
        """Which cache counts (read, write) this vendor reports."""
        return self.reports_cache

    def as_sent(self, answer: Answer, *, streamed: bool) -> Answer:
        """A scenario's answer as the vendor puts it on the wire, with what the vendor adds or
        renames (text ahead of its reasoning, its own finish word after tool calls), and
        without the cache counts it does not report."""
        usage = answer.usage
        if usage == "none":
            return answer
        read, write = self.cache_reported()
        reported = usage.model_copy(
            update={
                "cache_read": usage.cache_read if read else 0,
                "cache_write": usage.cache_write if write else 0,
            }
        )
        return answer.model_copy(update={"usage": reported})

    # -- read ---------------------------------------------------------------------------------

    @abstractmethod
    def is_answer(self, payload: dict[str, Any], *, streamed: bool) -> bool:
        """Whether one JSON payload (a streamed event's, or a whole body's) is this
        protocol's: what tells recorded traffic of this protocol from another's."""

    def carries_error(self, payload: dict[str, Any]) -> bool:
        """Whether one streamed payload reports a failure after the 200."""
        return bool(payload.get("error"))

    @abstractmethod
    def read(self, exchange: Exchange) -> Answer | None:
        """What the vendor answered in `exchange`, straight from the bytes; None for an HTTP
        error."""

    # -- drift --------------------------------------------------------------------------------

    @abstractmethod
    def wire_shape(self, exchange: Exchange) -> WireShape: ...

    @abstractmethod
    def mismatches(self, shape: WireShape) -> list[str]:
        """Where one recorded shape contradicts this vendor's `[wire]` facts."""

    def breaks(self, rule: str, body: dict[str, Any]) -> bool:
        """Whether the body breaks a refusal rule this protocol names (see the suite files'
        `rule`); a rule the protocol does not know is broken by nothing."""
        return False

    # -- what a request asked for, in neutral words ---------------------------------------------

    #: Whether the protocol sends reasoning blocks back (signed, unchanged) in later turns.
    echoes_thinking: ClassVar[bool] = False

    def sent_tool_choice(self, body: dict[str, Any]) -> str | None:
        """The tool choice as "auto", "none", "required" or the tool's name; None if absent."""
        return None

    def sent_tool_names(self, body: dict[str, Any]) -> list[str]:
        """The names of the tools the request offers, in order."""
        return []

    def sent_format(self, body: dict[str, Any]) -> dict[str, Any] | None:
        """The response format as {"type": "json_object"} or {"type": "json_schema",
        "schema": ...}; None if absent."""
        return None

    def sent_images(self, body: dict[str, Any]) -> list[dict[str, str]]:
        """Each image in the request, in order: {"url": ...} or {"data": ..., "media_type":
        ...}."""
        return []

    def sent_thinking_blocks(self, body: dict[str, Any]) -> list[dict[str, str]]:
        """Reasoning blocks sent back in assistant turns: {"text", "signature"} or
        {"redacted_data"}."""
        return []

    def sent_thinking(self, body: dict[str, Any]) -> bool:
        """Whether the request asks for reasoning in the form the vendor's profile names for
        its model (a model that always reasons needs no field)."""
        style = self.profile.request.for_model(str(body.get("model", ""))).thinking.style
        if style == "always":
            return True
        if style == "reasoning_effort":
            return body.get("reasoning_effort") not in (None, "none")
        if style == "reasoning_object":
            reasoning = body.get("reasoning")
            return isinstance(reasoning, dict) and bool(reasoning)
        if style in ("thinking_type", "budget"):
            thinking = body.get("thinking")
            return isinstance(thinking, dict) and thinking.get("type") == "enabled"
        return False

    def sent_thinking_amount(self, body: dict[str, Any]) -> tuple[str, Any] | None:
        """How much reasoning the request asks for, in the field the profile's form has:
        ("effort", level) or ("budget_tokens", n); None where the form carries no amount."""
        style = self.profile.request.for_model(str(body.get("model", ""))).thinking.style
        if style == "reasoning_effort":
            return "effort", body.get("reasoning_effort")
        reasoning, thinking = body.get("reasoning"), body.get("thinking")
        if style == "reasoning_object" and isinstance(reasoning, dict) and "effort" in reasoning:
            return "effort", reasoning.get("effort")
        if style == "budget" and isinstance(thinking, dict):
            return "budget_tokens", thinking.get("budget_tokens")
        return None

    # -- judge --------------------------------------------------------------------------------

    def refusal(self, body: Any) -> Rejection | None:
        """The vendor's documented refusal of this request body, if it refuses it."""
        return self.suite.rejection(body, self.breaks) if isinstance(body, dict) else None

    def judge_request(self, body: dict[str, Any], spec: RequestSpec) -> list[str]:
        """Why the vendor would refuse or misread this request; empty when it is fine."""
        problems = [
            f"{rule.describe()}: {self.profile.name} refuses it ({rule.status})"
            for rule in self.suite.rejects
            if rule.refuses(body, self.breaks)
        ]
        return problems + self.judge_protocol(body, spec)

    @abstractmethod
    def judge_protocol(self, body: dict[str, Any], spec: RequestSpec) -> list[str]:
        """The protocol's documented request rules, and the scenario's content carried over."""


def fault_headers(fault: Fault) -> dict[str, str]:
    """The headers every protocol sends with a fault: Retry-After when it has one."""
    return {"retry-after": str(fault.retry_after)} if fault.retry_after is not None else {}


#: Bound protocols by the identity of their profile and suite facts (both immutable), each
#: kept with the objects it was bound to so an identity is never reused while cached.
_BOUND: dict[tuple[int, int], tuple[VendorProfile, SuiteProfile, WireProtocol]] = {}
_BOUND_LIMIT = 64


def protocol_for(profile: VendorProfile) -> WireProtocol:
    """The vendor's protocol (its registered suite class), bound to its facts.

    Bound once per profile: every case and every check of a vendor asks for it.
    """
    suite = load_suite_profile(profile.name)
    key = (id(profile), id(suite))
    bound = _BOUND.get(key)
    if bound is None:
        protocol: type[WireProtocol] = load_reference(protocol_entry(profile.protocol).suite)
        if len(_BOUND) >= _BOUND_LIMIT:
            _BOUND.clear()
        bound = _BOUND[key] = (profile, suite, protocol(profile, suite))
    return bound[2]
