"""The request features in Anthropic Messages' spelling.

tool_choice is an object (`auto`, `any` for "required", `tool` with a name, `none`) that also
carries `disable_parallel_tool_use`; structured output is `output_config.format` with a JSON
schema (the protocol has no "any JSON object" mode, so profiles declare json_object absent);
thinking is `{"type": "enabled", "budget_tokens": N}` or `{"type": "disabled"}`.
"""

from __future__ import annotations

from typing import Any

from providers.errors import InvalidRequestError
from providers.request_features import thinking_on
from providers.types import CompletionRequest, JsonSchemaFormat
from providers.vendors import RequestQuirks

_MODES = {"auto": "auto", "none": "none", "required": "any"}


def messages_features(
    request: CompletionRequest, quirks: RequestQuirks, *, provider: str
) -> dict[str, Any]:
    """The body fields for the request's features (none for features it does not use)."""
    fields: dict[str, Any] = {}
    choice = _tool_choice(request)
    if choice is not None:
        fields["tool_choice"] = choice
    wanted = request.response_format
    if isinstance(wanted, JsonSchemaFormat):
        fields["output_config"] = {"format": {"type": "json_schema", "schema": wanted.json_schema}}
    if request.top_p is not None:
        fields["top_p"] = request.top_p
    if request.seed is not None and quirks.seed_param:
        fields[quirks.seed_param] = request.seed
    if request.thinking is not None and quirks.thinking.style not in ("none", "always"):
        if quirks.thinking.style != "budget":
            raise InvalidRequestError(
                f"the profile asks for thinking in style {quirks.thinking.style!r}; the "
                "Messages protocol takes only a budget: set [request.thinking] style = "
                '"budget"',
                provider=provider,
            )
        fields["thinking"] = (
            {"type": "enabled", "budget_tokens": request.thinking.budget_tokens}
            if thinking_on(request)
            else {"type": "disabled"}
        )
    return fields


def _tool_choice(request: CompletionRequest) -> dict[str, Any] | None:
    if request.tool_choice is None and request.parallel_tool_calls is None:
        return None
    forced = request.forced_tool
    choice: dict[str, Any] = (
        {"type": "tool", "name": forced}
        if forced
        else {"type": _MODES[request.tool_choice or "auto"]}
    )
    if request.parallel_tool_calls is not None and choice["type"] != "none":
        choice["disable_parallel_tool_use"] = not request.parallel_tool_calls
    return choice
