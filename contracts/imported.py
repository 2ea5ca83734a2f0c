"""Imported recordings as contract cases: each replays one real exchange, judged by its frozen
`expected` block.

Another client sent the recorded request, so what our provider sends cannot equal it: replay
matches on method and endpoint (see `replay.request_difference`), and the case asks with a
stand-in request: the recorded request's last user text, with the tool names, tool choice,
response format and images it asked for, so tools.choice, structured.output and vision.input
judge the real answer to them. Which provider call runs follows
the recording: a streamed body replays through stream(), a JSON body through complete().
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import ValidationError

from contracts import cassettes
from contracts.expected import Expected
from contracts.importer import IMPORTED_DIR
from contracts.protocols import protocol_for
from contracts.runner import CaseSetupError, readable_cassette
from contracts.spec import Case, Expect, Fault, RequestSpec, Scenario
from providers import errors as error_types
from providers.vendors import find_profile, load_profile

#: The clauses a real streamed answer can speak to; checks answer "not exercised" where the
#: recording has nothing for one (no tool call, no reasoning, no token limit reached).
STREAM_CLAUSES = (
    "grammar.connected-first",
    "grammar.terminal-sequence",
    "grammar.blocks",
    "text.fidelity",
    "stop.mapping",
    "stop.max-tokens",
    "usage.reported",
    "tools.single",
    "tools.parallel",
    "thinking.deltas",
)
COMPLETE_CLAUSES = ("complete.agrees", "usage.consistent")
ERROR_CLAUSES: dict[type[error_types.LlmError], str] = {
    error_types.AuthenticationError: "errors.authentication",
    error_types.RateLimitError: "errors.rate-limit",
    error_types.InvalidRequestError: "errors.invalid-request",
    error_types.ModelNotFoundError: "errors.model-not-found",
    error_types.ProviderUnavailableError: "errors.unavailable",
    error_types.StreamError: "errors.mid-stream",
    # A call whose arguments are no JSON object: how calls are read is tools.single's.
    error_types.MalformedResponseError: "tools.single",
}
CASE_PREFIX = f"{IMPORTED_DIR}/"
STAND_IN = "(the request of an imported recording)"
REIMPORT = "llm-contracts import"


class ImportedCassetteError(ValueError):
    """An imported cassette lacks a readable `expected` block; the message names the file."""


def _clauses(expected: Expected) -> tuple[str, ...]:
    error = expected.error_class()
    if error is None:
        return STREAM_CLAUSES if expected.path == "stream" else COMPLETE_CLAUSES
    grammar = STREAM_CLAUSES[:3] if expected.path == "stream" else ()
    return (*grammar, ERROR_CLAUSES[error])


def _last_user_text(request: dict[str, Any] | None) -> str:
    for message in reversed((request or {}).get("messages") or []):
        if message.get("role") == "user" and isinstance(message.get("content"), str):
            return str(message["content"]) or STAND_IN
    return STAND_IN


def _features(
    recorded: dict[str, Any] | None, vendor: str
) -> tuple[dict[str, Any], tuple[str, ...]]:
    """The request features the recorded request asked for (its tools' names, a tool choice
    other than auto, a response format, images), read in its protocol's spelling, and the
    clauses that judge them; none when the vendor's profile or a feature cannot be read."""
    if recorded is None or find_profile(vendor) is None:
        return {}, ()
    protocol = protocol_for(load_profile(vendor))
    names = protocol.sent_tool_names(recorded)
    fields: dict[str, Any] = {}
    clauses: tuple[str, ...] = ()
    choice = protocol.sent_tool_choice(recorded)
    if names and (choice in ("none", "required") or choice in names):
        fields |= {"tools": tuple({"name": name} for name in names), "tool_choice": choice}
        clauses += ("tools.choice",)
    wanted = protocol.sent_format(recorded)
    if wanted is not None:
        if wanted["type"] == "json_schema":
            wanted = {"type": "json_schema", "name": "imported", "json_schema": wanted["schema"]}
        fields["response_format"] = wanted
        clauses += ("structured.output",)
    images = protocol.sent_images(recorded)
    if images:
        parts = [{"type": "text", "text": _last_user_text(recorded)}]
        parts += [{"type": "image", **image} for image in images]
        fields["messages"] = ({"role": "user", "content": parts},)
        clauses += ("vision.input",)
    try:
        RequestSpec(**{"messages": ({"role": "user", "content": "?"},), **fields})
    except ValidationError:
        return {}, ()
    return fields, clauses


def _scenario(path: Path, expected: Expected, document: dict[str, Any]) -> Scenario:
    interaction = document["interactions"][0]
    meta = document.get("meta") or {}
    origin = meta.get("origin") or {}
    recorded = cassettes.exchange_of(interaction).request
    failed = expected.status >= 400
    features, judged = ({}, ()) if failed else _features(recorded, str(meta.get("vendor", "")))
    return Scenario(
        id=f"{CASE_PREFIX}{path.stem}",
        description=f"imported from {origin.get('repository') or origin.get('file', path.name)}",
        clauses=(*_clauses(expected), *judged),
        paths=(expected.path,),
        request=RequestSpec(
            **{"messages": ({"role": "user", "content": _last_user_text(recorded)},), **features}
        ),
        answer=None if failed else expected.answer(),
        fault=Fault(status=expected.status, message="recorded", code="") if failed else None,
        expect=Expect(error=expected.error),
    )


def read_case(path: Path) -> Case:
    try:
        _, document = readable_cassette(path, REIMPORT)
    except CaseSetupError as exc:
        raise ImportedCassetteError(str(exc)) from None
    try:
        expected = Expected.model_validate(document.get("expected"))
    except ValidationError as exc:
        raise ImportedCassetteError(
            f"{path}: no valid `expected` block ({exc.error_count()} problem(s)); re-import the "
            f"recording with `{REIMPORT}`"
        ) from None
    if not document["interactions"]:
        raise ImportedCassetteError(f"{path}: no interaction to replay; re-import the recording")
    scenario = _scenario(path, expected, document)
    return Case(scenario.id, scenario, expected.finish, expected=expected)


def imported_cases(vendor: str, root: cassettes.CassetteRoot) -> list[Case]:
    """The vendor's imported recordings (root/vendor/imported/*.yaml) as cases; of two with
    the same name in several roots, the first root's."""
    found: dict[str, Path] = {}
    for folder in cassettes.roots_of(root):
        for path in (folder / vendor / IMPORTED_DIR).glob("*.yaml"):
            found.setdefault(path.name, path)
    return [read_case(found[name]) for name in sorted(found)]
