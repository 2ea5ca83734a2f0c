"""What a vendor takes of the request features beyond plain chat, as profile data, and the one
judgment every protocol's builder makes with it before anything is sent.

Tool choice, parallel tool calls, structured output, images, asking for thinking, seed and
top_p: vendors differ on each, and a request a vendor cannot honour is refused here with a
message that says what to change, never sent to fail there (or worse, be silently ignored).
How each feature is spelled on the wire is the protocol's builder's business; whether the
vendor takes it at all is data in its profile (`[request]`, `[request.thinking]`, and
`[[request.models]]` for rules that hold for some models only).
"""

from __future__ import annotations

from fnmatch import fnmatchcase
from typing import TYPE_CHECKING, Literal

from pydantic import Field

from providers.frozen import Frozen as _Section
from providers.types import (
    CompletionRequest,
    ProviderCapabilities,
    ThinkingEffort,
    UserMessage,
)

if TYPE_CHECKING:
    from providers.vendors import RequestQuirks

#: A tool choice as profiles name it: the three modes, or `named` for "this tool".
ToolChoiceMode = Literal["auto", "none", "required", "named"]
ResponseFormatKind = Literal["json_object", "json_schema"]
#: How a vendor is asked to think. none: it cannot be (refused, with the profile's hint);
#: always: the model always reasons and takes no field for it; reasoning_effort: a top-level
#: `reasoning_effort` level; reasoning_object: OpenRouter's `reasoning: {effort | max_tokens}`;
#: thinking_type: `thinking: {"type": "enabled" | "disabled"}` (Z.ai); budget:
#: `thinking: {"type": "enabled", "budget_tokens": N}` (Anthropic).
ThinkingStyle = Literal[
    "none", "always", "reasoning_effort", "reasoning_object", "thinking_type", "budget"
]

ALL_TOOL_CHOICES: tuple[ToolChoiceMode, ...] = ("auto", "none", "required", "named")


class ThinkingQuirks(_Section):
    """How the vendor (or a model) is asked for reasoning, and what it refuses while thinking."""

    style: ThinkingStyle = "none"
    #: Said when thinking cannot be asked for: what to do instead ("choose deepseek-reasoner").
    hint: str = ""
    #: The effort levels the vendor takes (reasoning_effort, reasoning_object).
    efforts: tuple[ThinkingEffort, ...] = ("low", "medium", "high")
    #: The smallest budget the vendor takes (budget style).
    budget_min: int | None = Field(default=None, ge=1)
    #: The budget must stay below max_tokens (the budget counts toward it).
    budget_below_max_tokens: bool = False
    #: While thinking, the only temperature the vendor takes (Anthropic: 1).
    temperature: float | None = None
    #: While thinking, the tool choices the vendor still takes (None: the same as without).
    tool_choice_modes: tuple[ToolChoiceMode, ...] | None = None


class ModelRule(_Section):
    """Request facts that hold only for some models, matched by glob on the model name
    (`o3*`); the first matching rule's fields replace the vendor's."""

    match: tuple[str, ...] = Field(min_length=1)
    temperature_range: tuple[float, float] | None = None
    thinking: ThinkingQuirks | None = None
    tool_choice_modes: tuple[ToolChoiceMode, ...] | None = None
    response_formats: tuple[ResponseFormatKind, ...] | None = None

    def matches(self, model: str) -> bool:
        return any(fnmatchcase(model, pattern) for pattern in self.match)

    def overrides(self) -> dict[str, object]:
        return {name: value for name, value in self if name != "match" and value is not None}


def thinking_on(request: CompletionRequest) -> bool:
    """Whether the request asks for reasoning (effort "none" asks for none)."""
    return request.thinking is not None and request.thinking.effort != "none"


_MODES: dict[str, ToolChoiceMode] = {"auto": "auto", "none": "none", "required": "required"}


def chosen_mode(request: CompletionRequest) -> ToolChoiceMode | None:
    """The request's tool choice as profiles name it."""
    if request.tool_choice is None:
        return None
    return _MODES.get(request.tool_choice, "named")


def refusal(
    request: CompletionRequest,
    quirks: RequestQuirks,
    capabilities: ProviderCapabilities,
    *,
    vendor: str,
    model: str,
    max_tokens: int | None,
) -> str | None:
    """Why `vendor` (with `quirks` already for `model`) cannot take this request's features,
    and what to do instead; None when it can. `max_tokens` is what will be sent, if any."""
    for problem in (
        _images(request, capabilities, vendor),
        _tool_choice(request, quirks.tool_choice_modes, vendor, ""),
        _parallel(request, quirks, vendor),
        _response_format(request, quirks, vendor, model),
        _sampling(request, quirks, vendor),
        _thinking(request, quirks.thinking, vendor, model, max_tokens),
    ):
        if problem:
            return problem
    return None


def _images(request: CompletionRequest, capabilities: ProviderCapabilities, vendor: str) -> str:
    has_images = any(
        isinstance(message, UserMessage) and message.images for message in request.messages
    )
    if has_images and not capabilities.vision:
        return (
            f"{vendor} declares no vision: remove the image parts, or use a vendor (or a "
            "profile override) with capabilities.vision = true"
        )
    return ""


def _tool_choice(
    request: CompletionRequest,
    modes: tuple[ToolChoiceMode, ...],
    vendor: str,
    while_thinking: str,
) -> str:
    mode = chosen_mode(request)
    if mode is None or mode in modes:
        return ""
    takes = ", ".join(modes) or "no tool_choice at all"
    return (
        f"{vendor} does not take tool_choice={request.tool_choice!r}{while_thinking} (it takes "
        f"{takes}): choose one of those or drop tool_choice"
    )


def _parallel(request: CompletionRequest, quirks: RequestQuirks, vendor: str) -> str:
    if request.parallel_tool_calls is not None and not quirks.parallel_tool_calls:
        return f"{vendor} refuses parallel_tool_calls: drop it (leave it None)"
    return ""


def _response_format(
    request: CompletionRequest, quirks: RequestQuirks, vendor: str, model: str
) -> str:
    wanted = request.response_format
    if wanted is None or wanted.type in quirks.response_formats:
        return ""
    if "json_object" in quirks.response_formats:
        instead = (
            'ask for {"type": "json_object"}, describe the schema in the prompt and validate '
            "the answer yourself"
        )
    else:
        instead = "describe the format in the prompt and validate the answer yourself"
    return f"{vendor} ({model}) takes no response_format of type {wanted.type}: {instead}"


def _sampling(request: CompletionRequest, quirks: RequestQuirks, vendor: str) -> str:
    if request.seed is not None and not quirks.seed_param:
        return f"{vendor} takes no seed: drop it"
    if request.top_p is not None and not quirks.top_p:
        return f"{vendor} takes no top_p: drop it"
    return ""


def _thinking(
    request: CompletionRequest,
    thinking: ThinkingQuirks,
    vendor: str,
    model: str,
    max_tokens: int | None,
) -> str:
    asked = request.thinking
    if asked is None:
        return ""
    where = f"{vendor} ({model})"
    if thinking.style == "none":
        return f"{where} cannot be asked for thinking" + (
            f": {thinking.hint}" if thinking.hint else ""
        )
    if thinking.style == "always" and asked.effort == "none":
        return f"{where} always reasons: effort='none' cannot turn it off; drop thinking"
    levels = thinking.style in ("reasoning_effort", "reasoning_object")
    if levels and asked.effort is not None and asked.effort not in thinking.efforts:
        return f"{where} takes thinking effort {', '.join(thinking.efforts)}, not {asked.effort!r}"
    if thinking.style == "reasoning_effort" and asked.effort is None:
        return (
            f"{where} takes a thinking effort ({', '.join(thinking.efforts)}), not a token "
            "budget: give ThinkingConfig(effort=...)"
        )
    if thinking.style == "budget" and thinking_on(request):
        problem = _budget(asked.budget_tokens, thinking, where, max_tokens)
        if problem:
            return problem
    if thinking_on(request):
        return _while_thinking(request, thinking, vendor)
    return ""


def _budget(
    budget: int | None, thinking: ThinkingQuirks, where: str, max_tokens: int | None
) -> str:
    least = thinking.budget_min or 1
    if budget is None:
        return (
            f"{where} takes a thinking token budget, not an effort level: give "
            f"ThinkingConfig(budget_tokens=...) of at least {least}"
        )
    if budget < least:
        return f"{where} takes a thinking budget of at least {least} tokens, got {budget}"
    if thinking.budget_below_max_tokens and max_tokens is not None and budget >= max_tokens:
        return (
            f"max_tokens ({max_tokens}) must be greater than thinking.budget_tokens ({budget}) "
            f"for {where}: the budget counts toward max_tokens; raise max_tokens or lower the "
            "budget"
        )
    return ""


def _while_thinking(request: CompletionRequest, thinking: ThinkingQuirks, vendor: str) -> str:
    if (
        thinking.temperature is not None
        and request.temperature is not None
        and request.temperature != thinking.temperature
    ):
        return (
            f"{vendor} takes only temperature {thinking.temperature:g} while thinking, got "
            f"{request.temperature:g}: drop temperature or thinking"
        )
    if thinking.tool_choice_modes is not None:
        return _tool_choice(request, thinking.tool_choice_modes, vendor, " while thinking")
    return ""


__all__ = [
    "ALL_TOOL_CHOICES",
    "ModelRule",
    "ResponseFormatKind",
    "ThinkingQuirks",
    "ThinkingStyle",
    "ToolChoiceMode",
    "chosen_mode",
    "refusal",
    "thinking_on",
]
