"""The checks of the request features: tool choice, structured output, images and thinking.

Each judges two things from outside the provider: what the request carried, read back from
the recorded body in the protocol's spelling, and what came out. Where the vendor's profile
says it cannot take the feature, the clause holds when the provider refused before sending
and fails when it sent the request anyway.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import jsonschema

from contracts.checks import NOT_EXERCISED, Context, NotExercised, _succeeded, check
from contracts.protocols import protocol_for
from contracts.spec import Answer
from providers.errors import InvalidRequestError
from providers.request_features import refusal, thinking_on
from providers.types import (
    AssistantMessage,
    CompletionRequest,
    ImagePart,
    StopReason,
    UserMessage,
)

Judge = Callable[[Context, CompletionRequest], str | None]


def declared_refusal(ctx: Context, request: CompletionRequest) -> str | None:
    """Why the vendor's profile says it cannot take this request, if it says so."""
    model = request.model or ctx.profile.default_model
    return refusal(
        request,
        ctx.profile.request.for_model(model),
        ctx.profile.capabilities,
        vendor=ctx.profile.name,
        model=model,
        max_tokens=request.max_tokens,
    )


#: The clauses whose check judges a declared refusal (the others have nothing to judge then).
JUDGES_REFUSALS: set[str] = set()


def refused_as_declared(ctx: Context) -> bool:
    """The profile says the vendor cannot take the case's request, nothing was sent, and
    every path raised InvalidRequestError."""
    if ctx.outcome.sent or not ctx.errors():
        return False
    if not all(isinstance(error, InvalidRequestError) for _, error in ctx.errors()):
        return False
    return declared_refusal(ctx, ctx.case.scenario.request.build()) is not None


def feature_check(clause_id: str) -> Callable[[Judge], Judge]:
    """Register a check that first settles a declared refusal, then judges what was sent."""

    def register(judge: Judge) -> Judge:
        def checked(ctx: Context) -> str | None:
            request = ctx.case.scenario.request.build()
            declared = declared_refusal(ctx, request)
            if declared is None:
                if not ctx.outcome.sent:
                    return _succeeded(ctx) or "no request was recorded"
                return judge(ctx, request)
            if ctx.outcome.sent:
                return f"the profile says the vendor cannot take this ({declared}), yet it was sent"
            for path, error in ctx.errors():
                if not isinstance(error, InvalidRequestError):
                    return (
                        f"{path}() gave {type(error).__name__ if error else 'no error'}, "
                        f"expected InvalidRequestError before sending ({declared})"
                    )
            return None

        check(clause_id)(checked)
        JUDGES_REFUSALS.add(clause_id)
        return judge

    return register


def _sent(ctx: Context, read: Callable[[dict[str, Any]], Any]) -> list[Any]:
    """What `read` finds in each request body sent (one per path that ran)."""
    return [read(body) for body in ctx.outcome.sent]


def _answered(ctx: Context) -> Answer | str:
    """What the vendor answered to the judged path, or why there is nothing to judge.

    A feature is judged on the vendor's answer: whether the provider passed that answer on
    faithfully (its text, its calls) is the content clauses' to report, one fault one clause.
    A raise where the vendor finished normally is still a failure to answer; where the vendor
    sent no finish reason, the raise is the provider's right answer to a cut stream.
    """
    path = ctx.judged_path()
    answer = ctx.observed(path)
    if answer is not None and answer.malformed_calls:
        call = answer.malformed_calls[0]
        return NotExercised(
            f"the vendor's call {call.name!r} came with arguments {call.joined[:60]!r}, no JSON "
            "object: a malformed answer shows no feature (the provider's refusal of it is "
            "tools.single's to judge)"
        )
    reason = ctx.refused() or (_succeeded(ctx) if answer is None or answer.finish else None)
    if reason or answer is None:
        return reason or f"no {path}() response was recorded"
    return answer


def _cut_at_cap(ctx: Context) -> NotExercised | None:
    """The vendor stopped the answer at the max_tokens cap: a call or a JSON text cut there
    says nothing of the feature (a small live model can run out of tokens mid-call), and the
    cap is stop.max-tokens' to judge."""
    answer = ctx.observed(ctx.judged_path())
    if answer is None or answer.finish is None:
        return None
    if ctx.expected_stop(answer) != StopReason.MAX_TOKENS:
        return None
    return NotExercised(f"the vendor stopped at the max_tokens cap ({answer.finish!r})")


# -- tools.choice ------------------------------------------------------------------------------


@feature_check("tools.choice")
def _tool_choice(ctx: Context, request: CompletionRequest) -> str | None:
    wanted = request.tool_choice
    if wanted is None:
        return None
    sent = _sent(ctx, protocol_for(ctx.profile).sent_tool_choice)
    if any(choice != wanted for choice in sent):
        return f"tool_choice {wanted!r} was sent as {sent} in this protocol's spelling"
    cut = _cut_at_cap(ctx)
    if cut is not None and wanted != "none":
        return cut
    answer = _answered(ctx)
    if isinstance(answer, str):
        return answer
    return _obeyed(wanted, [call.name for call in answer.tool_calls])


def _obeyed(choice: str, calls: list[str]) -> str | None:
    if choice == "none":
        return f"tool calls {calls} came under tool_choice 'none'" if calls else None
    if choice == "auto":
        return None
    if not calls:
        return f"no tool call came under tool_choice {choice!r}"
    other = [name for name in calls if choice not in ("required", name)]
    return f"{other} called although tool_choice named {choice!r}" if other else None


# -- structured.output -------------------------------------------------------------------------


@feature_check("structured.output")
def _structured(ctx: Context, request: CompletionRequest) -> str | None:
    wanted = request.response_format
    if wanted is None:
        return None
    schema = wanted.json_schema if wanted.type == "json_schema" else None
    expected = {"type": wanted.type, **({"schema": schema} if schema is not None else {})}
    sent = _sent(ctx, protocol_for(ctx.profile).sent_format)
    if any(found != expected for found in sent):
        return f"response_format {wanted.type} was not sent in this protocol's spelling: {sent}"
    cut = _cut_at_cap(ctx)
    if cut is not None:
        return cut
    answer = _answered(ctx)
    if isinstance(answer, str):
        return answer
    if answer.tool_calls and not "".join(answer.text):
        return NOT_EXERCISED  # the model called a tool instead of answering
    return _valid("".join(answer.text), schema)


def _valid(text: str, schema: dict[str, Any] | None) -> str | None:
    """Why the answer text is not what the format asked for, if it is not."""
    try:
        value = json.loads(text)
    except ValueError:
        return f"the answer {text[:60]!r} is not JSON"
    if schema is None:
        return None if isinstance(value, dict) else "the answer is JSON but no object"
    validator = jsonschema.validators.validator_for(schema)(schema)
    error = jsonschema.exceptions.best_match(validator.iter_errors(value))
    if error is None:
        return None
    where = "/".join(map(str, error.absolute_path)) or "the root"
    return f"the answer breaks the schema at {where}: {error.message}"


# -- vision.input ------------------------------------------------------------------------------


@feature_check("vision.input")
def _vision(ctx: Context, request: CompletionRequest) -> str | None:
    expected = [_neutral(image) for image in _images(request)]
    if not expected:
        return None
    sent = _sent(ctx, protocol_for(ctx.profile).sent_images)
    wrong = [images for images in sent if images != expected]
    if wrong:
        return f"the images were sent as {wrong[0]}, expected {expected}"
    answer = _answered(ctx)
    if isinstance(answer, str):
        return answer
    return None if "".join(answer.text) else "the image was sent but no answer text came"


def _images(request: CompletionRequest) -> list[ImagePart]:
    return [
        image
        for message in request.messages
        if isinstance(message, UserMessage)
        for image in message.images
    ]


def _neutral(image: ImagePart) -> dict[str, str]:
    if image.url is not None:
        return {"url": image.url}
    return {"data": image.data or "", "media_type": image.media_type or ""}


# -- thinking.requested ------------------------------------------------------------------------


@feature_check("thinking.requested")
def _thinking(ctx: Context, request: CompletionRequest) -> str | None:
    if request.thinking is None:
        return None
    protocol = protocol_for(ctx.profile)
    if thinking_on(request) and not all(_sent(ctx, protocol.sent_thinking)):
        return "thinking was asked for, but the request does not carry it in the vendor's form"
    for amount in _sent(ctx, protocol.sent_thinking_amount):
        field, value = amount or (None, None)
        wanted = getattr(request.thinking, field) if field else None
        if wanted is not None and value != wanted:
            return f"thinking {field}={wanted!r} was asked for, but {value!r} was sent"
    expected = _echoes(request) if protocol.echoes_thinking else []
    for blocks in _sent(ctx, protocol.sent_thinking_blocks):
        if blocks != expected:
            return f"thinking sent back as {blocks}, expected {expected} unchanged"
    # Where the reasoning then goes (ThinkingDelta, never the text) is thinking.deltas' and
    # text.fidelity's to report on the same scenarios: one fault, one clause.
    answer = _answered(ctx)
    return answer if isinstance(answer, str) else None


def _echoes(request: CompletionRequest) -> list[dict[str, str]]:
    """The reasoning blocks a protocol that echoes them must send back: the signed ones."""
    blocks: list[dict[str, str]] = []
    for message in request.messages:
        if not isinstance(message, AssistantMessage):
            continue
        for block in message.thinking:
            if block.redacted_data is not None:
                blocks.append({"redacted_data": block.redacted_data})
            elif block.signature is not None:
                blocks.append({"text": block.text, "signature": block.signature})
    return blocks
