"""The request features in the Responses API's spelling.

`tool_choice` is a mode string or `{"type": "function", "name": ...}`; structured output is
`text.format` (`json_object`, or `json_schema` with its name, schema and `strict` beside the
type); reasoning is `reasoning: {"effort": ...}` (the API takes no token budget). The API has
no seed: the profile declares it absent.
"""

from __future__ import annotations

from typing import Any

from providers.errors import InvalidRequestError
from providers.types import CompletionRequest, JsonSchemaFormat
from providers.vendors import RequestQuirks


def responses_features(
    request: CompletionRequest, quirks: RequestQuirks, *, provider: str
) -> dict[str, Any]:
    """The body fields for the request's features (none for features it does not use)."""
    fields: dict[str, Any] = {}
    if request.tool_choice is not None:
        forced = request.forced_tool
        fields["tool_choice"] = (
            {"type": "function", "name": forced} if forced else request.tool_choice
        )
    if request.parallel_tool_calls is not None:
        fields["parallel_tool_calls"] = request.parallel_tool_calls
    wanted = request.response_format
    if isinstance(wanted, JsonSchemaFormat):
        schema: dict[str, Any] = {"type": "json_schema", "name": wanted.name}
        if wanted.description is not None:
            schema["description"] = wanted.description
        fields["text"] = {
            "format": {**schema, "schema": wanted.json_schema, "strict": wanted.strict}
        }
    elif wanted is not None:
        fields["text"] = {"format": {"type": "json_object"}}
    if request.top_p is not None:
        fields["top_p"] = request.top_p
    thinking = request.thinking
    if thinking is not None and quirks.thinking.style not in ("none", "always"):
        if thinking.effort is None:
            raise InvalidRequestError(
                "the Responses API takes a reasoning effort, not a token budget: give "
                "ThinkingConfig(effort=...)",
                provider=provider,
            )
        fields["reasoning"] = {"effort": thinking.effort}
    return fields
