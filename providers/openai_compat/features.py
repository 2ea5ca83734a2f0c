"""The request features in Chat Completions' spelling: tool_choice, parallel_tool_calls,
response_format, seed, top_p and the vendor's way of asking for thinking.

Whether the vendor takes each one was settled before (`providers.request_features`); here is
only how it is written, with the names the profile gives (the seed's field, the thinking
style).
"""

from __future__ import annotations

from typing import Any

from providers.request_features import thinking_on
from providers.types import CompletionRequest, JsonSchemaFormat
from providers.vendors import RequestQuirks


def chat_features(request: CompletionRequest, quirks: RequestQuirks) -> dict[str, Any]:
    """The body fields for the request's features (none for features it does not use)."""
    fields: dict[str, Any] = {}
    if request.tool_choice is not None:
        forced = request.forced_tool
        fields["tool_choice"] = (
            {"type": "function", "function": {"name": forced}} if forced else request.tool_choice
        )
    if request.parallel_tool_calls is not None:
        fields["parallel_tool_calls"] = request.parallel_tool_calls
    if request.response_format is not None:
        fields["response_format"] = _response_format(request.response_format)
    if request.seed is not None:
        fields[quirks.seed_param] = request.seed
    if request.top_p is not None:
        fields["top_p"] = request.top_p
    fields.update(_thinking(request, quirks))
    return fields


def _response_format(wanted: Any) -> dict[str, Any]:
    if not isinstance(wanted, JsonSchemaFormat):
        return {"type": "json_object"}
    spec: dict[str, Any] = {"name": wanted.name, "schema": wanted.json_schema}
    if wanted.description is not None:
        spec["description"] = wanted.description
    spec["strict"] = wanted.strict
    return {"type": "json_schema", "json_schema": spec}


def _thinking(request: CompletionRequest, quirks: RequestQuirks) -> dict[str, Any]:
    asked = request.thinking
    style = quirks.thinking.style
    if asked is None or style in ("none", "always"):
        return {}
    if style == "reasoning_effort":
        return {"reasoning_effort": asked.effort}
    if style == "reasoning_object":
        if asked.effort is not None:
            return {"reasoning": {"effort": asked.effort}}
        return {"reasoning": {"max_tokens": asked.budget_tokens}}
    if style == "thinking_type":
        return {"thinking": {"type": "enabled" if thinking_on(request) else "disabled"}}
    # budget (Anthropic's compatible endpoint takes Anthropic's thinking object)
    if not thinking_on(request):
        return {"thinking": {"type": "disabled"}}
    return {"thinking": {"type": "enabled", "budget_tokens": asked.budget_tokens}}
