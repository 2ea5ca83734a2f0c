"""The error clauses' checks, judged on hand-made outcomes: each way a provider can get an
error wrong, and the exact reason a user then reads.

No server runs here: an outcome is what a provider yielded and raised, plus the exchange the
server answered, which is all a check ever reads.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from contracts.checks import CHECKS, Context, not_exercised
from contracts.observed import Exchange
from contracts.runner import Outcome
from contracts.spec import Case, load_scenarios
from providers import errors
from providers.types import Connected, Done
from providers.vendors import load_profile

PROFILE = load_profile("openai")
SCENARIOS = {scenario.id: scenario for scenario in load_scenarios()}


def judge(
    clause: str,
    scenario: str,
    *,
    error: Exception | None,
    status: int,
    body: str = "{}",
    events: tuple[Any, ...] = (),
    ran: tuple[str, ...] = ("stream",),
) -> str | None:
    """`clause`'s verdict when every path of `scenario` raised `error` after the server
    answered `status` with `body`."""
    outcome = Outcome(
        events=list(events),
        stream_error=error,
        complete_error=error,
        ran=ran,
        exchanges=[Exchange(request={}, status=status, content_type="application/json", body=body)],
    )
    return CHECKS[clause](Context(Case(scenario, SCENARIOS[scenario], None), PROFILE, outcome))


def auth_error(message: str = "Incorrect API key provided") -> errors.AuthenticationError:
    return errors.AuthenticationError(message, provider="p", status_code=401)


def rate_limit(*, retryable: bool = True, retry_after: float | None = 3.0) -> errors.RateLimitError:
    return errors.RateLimitError(
        "Rate limit reached", provider="p", retryable=retryable, retry_after=retry_after
    )


def test_the_expected_error_holds() -> None:
    assert judge("errors.authentication", "error_auth", error=auth_error(), status=401) is None
    assert judge("errors.rate-limit", "error_rate_limit", error=rate_limit(), status=429) is None


@pytest.mark.parametrize(
    ("clause", "scenario", "reason"),
    [
        ("errors.authentication", "error_auth", "the server accepted an invalid key"),
        (
            "errors.model-not-found",
            "error_model_not_found",
            "the server accepted a model that does not exist",
        ),
        ("errors.unavailable", "error_server", "it did not answer 500"),
    ],
)
def test_a_fault_the_server_did_not_raise_says_what_it_answered(
    clause: str, scenario: str, reason: str
) -> None:
    verdict = judge(clause, scenario, error=None, status=200, ran=("stream", "complete"))
    assert verdict == f"{reason} (it answered 200 instead)"


def test_a_missing_error_is_named_per_path() -> None:
    verdict = judge(
        "errors.authentication", "error_auth", error=None, status=401, ran=("stream", "complete")
    )
    assert verdict == (
        "stream() gave no error, expected AuthenticationError; "
        "complete() gave no error, expected AuthenticationError"
    )


def test_the_wrong_error_type_is_named_with_its_message() -> None:
    wrong = errors.InvalidRequestError("nope", provider="p", status_code=401)
    verdict = judge("errors.authentication", "error_auth", error=wrong, status=401)
    assert verdict == (
        "stream() gave InvalidRequestError: [p HTTP 401] nope, expected AuthenticationError"
    )


def test_a_wrong_retryable_flag_is_reported() -> None:
    verdict = judge(
        "errors.rate-limit", "error_rate_limit", error=rate_limit(retryable=False), status=429
    )
    assert verdict == "stream(): retryable=False, expected True"


@pytest.mark.parametrize("retry_after", [None, 30.0])
def test_a_dropped_or_wrong_retry_after_is_reported(retry_after: float | None) -> None:
    verdict = judge(
        "errors.rate-limit",
        "error_rate_limit",
        error=rate_limit(retry_after=retry_after),
        status=429,
    )
    assert verdict == f"stream(): retry_after={retry_after}, expected 3.0"


def test_every_problem_of_every_path_is_listed() -> None:
    error = rate_limit(retryable=False, retry_after=None)
    verdict = judge(
        "errors.rate-limit", "error_rate_limit", error=error, status=429, ran=("stream", "complete")
    )
    assert verdict == (
        "stream(): retryable=False, expected True; "
        "stream(): retry_after=None, expected 3.0; "
        "complete(): retryable=False, expected True; "
        "complete(): retry_after=None, expected 3.0"
    )


def test_done_after_a_failure_is_reported() -> None:
    events = (Connected(provider="p", model="m"), Done())
    verdict = judge(
        "errors.authentication", "error_auth", error=auth_error(), status=401, events=events
    )
    assert verdict == "Done was yielded although the stream failed"


# -- errors.invalid-request: the vendor's own explanation must reach the user ---------------


OPENAI = {"error": {"message": "Invalid value for 'messages'", "type": "invalid_request_error"}}
MISTRAL = {
    "object": "error",
    "message": {"detail": [{"loc": ["body", "stream_options"], "msg": "Extra inputs"}]},
}
MISTRAL_UNAUTHORIZED = {"detail": "Unauthorized"}
GOOGLE = [{"error": {"code": 400, "message": "Invalid JSON payload", "status": "INVALID_ARGUMENT"}}]


def invalid(body: str, message: str, *, status: int = 400) -> str | None:
    error = errors.InvalidRequestError(message, provider="p", status_code=400)
    return judge("errors.invalid-request", "error_invalid", error=error, status=status, body=body)


@pytest.mark.parametrize(
    ("shape", "message"),
    [
        (OPENAI, "Invalid value for 'messages'"),
        (MISTRAL, "Extra inputs"),
        (MISTRAL_UNAUTHORIZED, "Unauthorized"),
        (GOOGLE, "Invalid JSON payload"),
    ],
)
def test_each_error_shape_s_message_must_be_kept(shape: Any, message: str) -> None:
    body = json.dumps(shape)
    assert invalid(body, f"{message} (and more)") is None
    assert invalid(body, "Error code: 400") == (
        f"stream() dropped the vendor's message {message!r}: it says '[p HTTP 400] Error code: 400'"
    )


def test_a_plain_text_body_is_the_message() -> None:
    assert invalid("  bad request  \n", "Error code: 400") == (
        "stream() dropped the vendor's message 'bad request': "
        "it says '[p HTTP 400] Error code: 400'"
    )
    assert invalid("  bad request  \n", "bad request") is None


@pytest.mark.parametrize("body", ["", "   ", '{"error": {"message": ""}}', '{"message": 3}'])
def test_a_body_with_no_explanation_asks_for_none(body: str) -> None:
    assert invalid(body, "Error code: 400") is None


def test_any_one_of_several_messages_will_do() -> None:
    body = json.dumps({"error": {"message": "first"}, "detail": "second"})
    assert invalid(body, "second") is None
    assert invalid(body, "first") is None


def test_a_successful_answer_s_body_is_not_an_explanation() -> None:
    """Only error answers carry explanations; a 2xx body is judged elsewhere."""
    body = json.dumps({"message": "hello"})
    error = errors.InvalidRequestError("Error code: 400", provider="p", status_code=400)
    outcome = Outcome(
        stream_error=error,
        ran=("stream",),
        exchanges=[
            Exchange(request={}, status=400, content_type="application/json", body="{}"),
            Exchange(request={}, status=399, content_type="application/json", body=body),
        ],
    )
    case = Case("error_invalid", SCENARIOS["error_invalid"], None)
    assert CHECKS["errors.invalid-request"](Context(case, PROFILE, outcome)) is None


def test_the_wrong_error_type_wins_over_the_message() -> None:
    verdict = judge(
        "errors.invalid-request",
        "error_invalid",
        error=auth_error("Invalid value"),
        status=400,
        body=json.dumps(OPENAI),
    )
    assert verdict == (
        "stream() gave AuthenticationError: [p HTTP 401] Invalid value, "
        "expected InvalidRequestError"
    )


def test_a_retry_after_expected_of_an_error_that_cannot_carry_one_is_reported() -> None:
    """Only RateLimitError carries Retry-After: a 503 that sent one loses it."""
    base = SCENARIOS["error_unavailable"]
    scenario = base.model_copy(
        update={"expect": base.expect.model_copy(update={"retry_after": 3.0})}
    )
    error = errors.ProviderUnavailableError("overloaded", provider="p", status_code=503)
    outcome = Outcome(
        stream_error=error,
        ran=("stream",),
        exchanges=[Exchange(request={}, status=503, content_type="application/json", body="{}")],
    )
    verdict = CHECKS["errors.unavailable"](
        Context(Case(scenario.id, scenario, None), PROFILE, outcome)
    )
    assert verdict == "stream(): retry_after=None, expected 3.0"


MISTRAL = load_profile("mistral")
#: What Mistral answers a request carrying stream_options (its suite file's refusal).
REFUSED_BODY = json.dumps(
    {"object": "error", "message": {"detail": [{"msg": "Extra inputs are not permitted"}]}}
)


def judge_refused_stream(clause: str, scenario: str, complete_error: Exception) -> str | None:
    """`clause`'s verdict when Mistral refused stream()'s request for its stream_options (422)
    and answered complete()'s, which carried none, with the scenario's fault."""
    refused = errors.InvalidRequestError("Extra inputs are not permitted", provider="p")
    outcome = Outcome(
        events=[],
        stream_error=refused,
        complete_error=complete_error,
        ran=("stream", "complete"),
        exchanges=[
            Exchange(
                request={"model": "m", "stream": True, "stream_options": {"include_usage": True}},
                status=422,
                content_type="application/json",
                body=REFUSED_BODY,
            ),
            Exchange(
                request={"model": "m"}, status=401, content_type="application/json", body="{}"
            ),
        ],
    )
    case = Case(scenario, SCENARIOS[scenario], None)
    return CHECKS[clause](Context(case, MISTRAL, outcome))


def test_a_path_refused_for_its_shape_is_not_blamed_for_the_fault() -> None:
    """The 422 is request.shape's: the error clause judges the path that reached the fault."""
    assert judge_refused_stream("errors.authentication", "error_auth", auth_error()) is None
    verdict = judge_refused_stream("errors.authentication", "error_auth", rate_limit())
    assert verdict is not None
    assert verdict.startswith("complete() gave RateLimitError")
    assert verdict.endswith("expected AuthenticationError")
    assert "stream()" not in verdict


def test_every_path_refused_for_its_shape_leaves_the_fault_not_exercised() -> None:
    refused = errors.InvalidRequestError("Extra inputs are not permitted", provider="p")
    outcome = Outcome(
        events=[],
        stream_error=refused,
        complete_error=None,
        ran=("stream",),
        exchanges=[
            Exchange(
                request={"stream": True, "stream_options": {"include_usage": True}},
                status=422,
                content_type="application/json",
                body=REFUSED_BODY,
            )
        ],
    )
    verdict = CHECKS["errors.mid-stream"](
        Context(Case("midstream_error", SCENARIOS["midstream_error"], None), MISTRAL, outcome)
    )
    assert not_exercised(verdict)
    assert verdict == (
        "the server refused the request for its shape (422: Extra inputs are not permitted) "
        "before the scenario could play: request.shape judges what was sent"
    )


def _rate_limited_at(*times: float) -> str | None:
    """errors.rate-limit's verdict when stream() sent a 429-answered request at each time."""
    exchanges = [
        Exchange(request={}, status=429, content_type="application/json", body="{}", at=t)
        for t in times
    ]
    outcome = Outcome(stream_error=rate_limit(), ran=("stream",), exchanges=exchanges)
    case = Case("error_rate_limit", SCENARIOS["error_rate_limit"], None)
    return CHECKS["errors.rate-limit"](Context(case, PROFILE, outcome))


def test_retries_within_the_retry_after_are_counted_in_the_reason() -> None:
    assert _rate_limited_at(0.0, 3.5) is None  # one retry, after the 3 s asked for
    assert _rate_limited_at(0.0, 0.1) == (
        "1 retry, 1 sooner than the Retry-After: 3 the 429 asked for"
    )
    assert _rate_limited_at(0.0, 0.1, 3.5) == (
        "2 retries, 1 sooner than the Retry-After: 3 the 429 asked for"
    )


def test_a_refusal_without_a_message_is_told_by_its_body_on_one_line() -> None:
    body = '{"error":\n  {"code": 400}}'
    outcome = Outcome(
        ran=("stream",),
        exchanges=[Exchange(request={}, status=400, content_type="application/json", body=body)],
    )
    refused = Context(Case("text_basic", SCENARIOS["text_basic"], "stop"), PROFILE, outcome)
    said = '{"error": {"code": 400}}'
    assert refused.refused() == f"the server refused the request (400: {said})"


def test_a_shape_refusal_without_a_message_is_told_by_its_body_on_one_line() -> None:
    body = '{"detail":\n  [{"loc": ["body", "stream_options"]}]}'
    exchange = Exchange(
        request={"stream": True, "stream_options": {"include_usage": True}},
        status=422,
        content_type="application/json",
        body=body,
    )
    outcome = Outcome(ran=("stream",), exchanges=[exchange])
    context = Context(Case("midstream_error", SCENARIOS["midstream_error"], None), MISTRAL, outcome)
    assert context.shape_refused("stream") == f"422: {' '.join(body.split())}"
