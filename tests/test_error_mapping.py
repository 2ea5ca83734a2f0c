"""The error mapping pinned: every body shape, status and SDK failure, down to the message."""

from __future__ import annotations

from types import ModuleType
from typing import Any

import anthropic
import httpx2
import openai
import pytest

from providers import (
    AuthenticationError,
    ContextLengthError,
    InvalidRequestError,
    LlmError,
    MalformedResponseError,
    ModelNotFoundError,
    ProviderUnavailableError,
    RateLimitError,
    StreamError,
    load_profile,
)
from providers.anthropic.provider import SDK_ERRORS as ANTHROPIC_ERRORS
from providers.error_mapping import ErrorMapper, SdkErrors, VendorError, status_named_by
from providers.openai_sdk import SDK_ERRORS as OPENAI_ERRORS
from providers.vendors import ErrorQuirks

SECRET = "sk-mapping-secret-0123456789"
REQUEST = httpx2.Request("POST", "http://127.0.0.1:1/v1/chat/completions")


def mapper(
    api_key_env: str | None = "OPENAI_API_KEY",
    quirks: ErrorQuirks | None = None,
    sdk: SdkErrors = OPENAI_ERRORS,
) -> ErrorMapper:
    return ErrorMapper(
        "acme", quirks or load_profile("openai").errors, api_key_env, SECRET, sdk=sdk
    )


def status(code: int, body: object = None, **headers: str) -> LlmError:
    return mapper().from_status(code, body, headers)


# -- body shapes ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "message", "code"),
    [
        ({"error": {"message": "m", "code": "c"}}, "m", "c"),
        ({"error": "plain text"}, "plain text", None),
        ({"message": "top"}, "top", None),
        ({"detail": "fastapi"}, "fastapi", None),
        ({"msg": "short"}, "short", None),
        ({"message": "", "detail": "second"}, "second", None),
        ({"message": None, "error": "third"}, "third", None),
        ({"message": "first", "detail": "d", "msg": "x"}, "first", None),
        ({"error": {"type": "only_a_type"}}, "{'type': 'only_a_type'}", "only_a_type"),
        (
            {"code": "c", "status": "s", "type": "t"},
            "{'code': 'c', 'status': 's', 'type': 't'}",
            "c",
        ),
        ({"status": 429, "type": "t", "message": "m"}, "m", "429"),
        ({"type": "t", "message": "m"}, "m", "t"),
        ({"code": 0, "message": "m"}, "m", "0"),
        ([{"error": {"message": "listed", "code": 400}}], "listed", "400"),
        (["just text"], "just text", None),
        ([], "[]", None),
        (b"  bytes body \n", "bytes body", None),
        (b"caf\xe9 \xff", "caf\ufffd \ufffd", None),
        ("  text body  ", "text body", None),
        (None, "", None),
    ],
)
def test_every_body_shape_gives_its_message_and_code(
    body: object, message: str, code: str | None
) -> None:
    assert VendorError.from_body(body) == VendorError(message, code)


def test_codes_are_read_from_every_entry_and_every_code_field() -> None:
    body = [
        {"error": {"code": "a", "status": "B"}},
        {"error": {"type": "c"}},
        {"code": "d"},
        {"error": {"code": None, "status": "", "type": 0}},
        "text",
    ]
    assert VendorError.codes(body) == {"a", "B", "c", "d"}
    assert VendorError.codes({"error": "text", "code": "outer"}) == {"outer"}
    assert VendorError.codes("text") == set()


@pytest.mark.parametrize(
    ("body", "named"),
    [
        ({"error": {"code": 401}}, 401),
        ({"error": {"code": "429"}}, 429),
        ({"error": {"code": 399}}, None),
        ({"error": {"code": 600}}, None),
        ({"error": {"code": 400}}, 400),
        ({"error": {"code": 599}}, 599),
        ({"error": {"status": "UNAUTHENTICATED"}}, 401),
        ({"error": {"type": "Permission_Denied"}}, 403),
        ({"error": {"type": "overloaded_error"}}, 529),
        ([{"error": {"code": 503}}, {"error": {"code": 401}}], 401),
        ([{"error": {"type": "unavailable"}}, {"error": {"type": "not_found"}}], 404),
        ({"error": {"code": 500, "type": "invalid_api_key"}}, 500),
        # OpenAI's real 401 body: the specific code outranks the generic type.
        (
            {
                "error": {
                    "message": "Incorrect API key provided: sk-abc***.",
                    "type": "invalid_request_error",
                    "param": None,
                    "code": "invalid_api_key",
                }
            },
            401,
        ),
        ({"error": {"code": None, "type": "invalid_request_error"}}, 400),
        ({"error": {"type": "mystery"}}, None),
        ("text", None),
    ],
)
def test_status_named_by_a_body(body: object, named: int | None) -> None:
    assert status_named_by(body) == named


# -- statuses ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "expected", "retryable"),
    [
        (400, InvalidRequestError, False),
        (401, AuthenticationError, False),
        (403, AuthenticationError, False),
        (404, ModelNotFoundError, False),
        (408, ProviderUnavailableError, True),
        (409, ProviderUnavailableError, True),
        (413, InvalidRequestError, False),
        (418, InvalidRequestError, False),
        (422, InvalidRequestError, False),
        (429, RateLimitError, True),
        (499, InvalidRequestError, False),
        (500, ProviderUnavailableError, True),
        (502, ProviderUnavailableError, True),
        (503, ProviderUnavailableError, True),
        (529, ProviderUnavailableError, True),
    ],
)
def test_each_status_maps_to_its_type(code: int, expected: type[LlmError], retryable: bool) -> None:
    error = status(
        code, {"error": {"message": "vendor says", "code": "vc"}}, **{"x-request-id": "r1"}
    )
    assert type(error) is expected
    assert error.retryable is retryable
    assert error.status_code == code
    assert error.provider == "acme"
    assert error.request_id == "r1"
    assert error.vendor_code == "vc"
    assert error.message.startswith("vendor says")


def test_messages_say_what_to_do() -> None:
    assert (
        status(401).message
        == "HTTP 401 (set OPENAI_API_KEY to a valid key with access to this model)"
    )
    assert mapper(None).from_status(403, "no", {}).message == (
        "no (pass api_key= to a valid key with access to this model)"
    )
    assert status(404, "gone").message == "gone (check the model name and base_url)"
    assert status(400, "bad").message == "bad"
    assert status(500).message == "HTTP 500"


def test_request_id_falls_back_to_request_id_header_and_is_none_when_absent() -> None:
    assert status(500, **{"request-id": "r2"}).request_id == "r2"
    assert status(500, **{"x-request-id": "r1", "request-id": "r2"}).request_id == "r1"
    assert status(500).request_id is None
    assert status(500).vendor_code is None


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"error": {"message": "m", "code": "context_length_exceeded"}}, ContextLengthError),
        ({"error": {"message": "This model's maximum context length is 8192"}}, ContextLengthError),
        ({"error": {"message": "Too Many Tokens in the prompt"}}, ContextLengthError),
        (
            [{"error": {"code": "x"}}, {"error": {"code": "context_length_exceeded"}}],
            ContextLengthError,
        ),
        ({"error": {"message": "temperature too high"}}, InvalidRequestError),
    ],
)
@pytest.mark.parametrize("code", [400, 413, 422])
def test_context_length_by_code_or_phrase(
    body: object, expected: type[LlmError], code: int
) -> None:
    error = status(code, body)
    assert type(error) is expected
    if expected is ContextLengthError:
        assert error.message.endswith("(shorten the messages or lower max_tokens)")


def test_context_length_is_not_read_from_other_statuses() -> None:
    assert (
        type(status(500, {"error": {"code": "context_length_exceeded"}}))
        is ProviderUnavailableError
    )


def test_rate_limit_codes_beyond_the_first_entry_decide_retryability() -> None:
    body = [{"error": {"code": "rate_limit"}}, {"error": {"code": "insufficient_quota"}}]
    error = status(429, body, **{"retry-after": "7"})
    assert isinstance(error, RateLimitError)
    assert error.retryable is False
    assert error.retry_after == 7.0
    assert status(429, {"error": {"code": "rate_limit"}}).retryable is True


@pytest.mark.parametrize(
    ("headers", "seconds"),
    [
        ({"retry-after": "7"}, 7.0),
        ({"retry-after": "0"}, 0.0),
        ({"retry-after": "-3"}, None),
        ({"retry-after": "soon"}, None),
        ({"retry-after": "Wed, 21 Oct 2015 07:28:00 GMT"}, 0.0),
        ({"retry-after-ms": "1500"}, 1.5),
        ({}, None),
    ],
)
def test_rate_limit_retry_after_forms(headers: dict[str, str], seconds: float | None) -> None:
    error = mapper().from_status(429, "slow", headers)
    assert isinstance(error, RateLimitError)
    assert error.retry_after == seconds


def test_a_long_message_is_cut_after_scrubbing() -> None:
    long = "x" * 495 + SECRET + "y" * 200
    message = status(400, {"error": {"message": long}}).message
    assert message == "x" * 495 + "[REDA..."
    assert status(400, "z" * 500).message == "z" * 500
    assert status(400, "z" * 501).message == "z" * 500 + "..."


def test_secrets_never_reach_message_request_id_or_code() -> None:
    error = status(
        500,
        {"error": {"message": f"bad {SECRET}", "code": f"c{SECRET}"}},
        **{"x-request-id": SECRET},
    )
    assert SECRET not in repr(vars(error))
    assert error.message == "bad [REDACTED]"
    assert error.request_id == "[REDACTED]"
    assert error.vendor_code == "c[REDACTED]"


def test_labels_are_short_and_empty_ones_are_none() -> None:
    errors = mapper()
    assert errors.label(None) is None
    assert errors.label("") is None
    assert errors.label(0) == "0"
    assert errors.label("r" * 100) == "r" * 100
    assert errors.label("r" * 101) == "r" * 100 + "..."


def test_a_short_secret_is_not_replaced_everywhere() -> None:
    tiny = ErrorMapper("acme", ErrorQuirks(), None, "abc", sdk=OPENAI_ERRORS)
    assert tiny.scrub("abcabc") == "abcabc"
    four = ErrorMapper("acme", ErrorQuirks(), None, "abcd", sdk=OPENAI_ERRORS)
    assert four.scrub("xabcdx") == "x[REDACTED]x"


# -- SDK failures --------------------------------------------------------------------------------


#: Both SDKs raise the same four kinds of exception; the one mapping serves both.
SDKS = {"openai": (openai, OPENAI_ERRORS), "anthropic": (anthropic, ANTHROPIC_ERRORS)}


@pytest.fixture(params=sorted(SDKS))
def sdk(request: pytest.FixtureRequest) -> ModuleType:
    module: ModuleType = SDKS[request.param][0]
    return module


def from_sdk(exc: Exception) -> LlmError:
    module = type(exc).__module__.partition(".")[0]
    return mapper(sdk=SDKS[module][1]).from_sdk(exc, timeout=7.5)


def test_sdk_status_errors_go_through_the_status_mapping(sdk: ModuleType) -> None:
    response = httpx2.Response(
        429, headers={"retry-after": "3", "x-request-id": "r9"}, request=REQUEST
    )
    exc = sdk.RateLimitError("slow", response=response, body={"error": {"message": "slow down"}})
    error = from_sdk(exc)
    assert isinstance(error, RateLimitError)
    assert (error.message, error.retry_after, error.request_id) == ("slow down", 3.0, "r9")


def test_anthropic_overloaded_is_retryable_and_keeps_its_type() -> None:
    response = httpx2.Response(529, headers={"request-id": "req_1"}, request=REQUEST)
    body = {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}
    error = from_sdk(anthropic.InternalServerError("x", response=response, body=body))
    assert type(error) is ProviderUnavailableError
    assert error.retryable
    assert (error.message, error.vendor_code, error.request_id) == (
        "Overloaded",
        "overloaded_error",
        "req_1",
    )


def test_sdk_timeout_names_the_timeout_setting(sdk: ModuleType) -> None:
    error = from_sdk(sdk.APITimeoutError(request=REQUEST))
    assert type(error) is ProviderUnavailableError
    assert error.provider == "acme"
    assert error.message == "no response within 7.5s (after retries): retry later or raise timeout="


def connection_error(sdk: ModuleType, cause: BaseException | None) -> Exception:
    exc: Exception = sdk.APIConnectionError(request=REQUEST)
    exc.__cause__ = cause
    return exc


def test_the_cause_of_a_connection_error_is_in_the_message(sdk: ModuleType) -> None:
    error = from_sdk(connection_error(sdk, httpx2.ConnectError(f"refused by {SECRET}")))
    assert type(error) is ProviderUnavailableError
    assert error.retryable
    assert error.provider == "acme"
    assert error.message == (
        "could not connect (refused by [REDACTED]): check base_url and that the server is running"
    )


def test_a_grouped_or_silent_cause_is_named_by_its_innermost_type(sdk: ModuleType) -> None:
    grouped = ExceptionGroup("unhandled errors", [OSError("network unreachable")])
    assert "(network unreachable)" in from_sdk(connection_error(sdk, grouped)).message
    silent = from_sdk(connection_error(sdk, httpx2.ConnectError("")))
    assert silent.message.startswith("could not connect (ConnectError)")
    assert "(Connection error.)" in from_sdk(connection_error(sdk, None)).message


def test_a_body_that_does_not_decode_is_malformed_and_retryable(sdk: ModuleType) -> None:
    error = from_sdk(connection_error(sdk, httpx2.DecodingError("incorrect header check")))
    assert type(error) is MalformedResponseError
    assert error.retryable
    assert error.provider == "acme"
    assert error.message == (
        "the response body could not be decoded (incorrect header check): its "
        "content-encoding is corrupt; retry the request"
    )


def test_any_other_sdk_error_keeps_its_scrubbed_message() -> None:
    assert from_sdk(openai.OpenAIError(f"odd {SECRET}")).message == "odd [REDACTED]"
    error = from_sdk(anthropic.AnthropicError(f"odd {SECRET}"))
    assert type(error) is LlmError
    assert error.provider == "acme"
    assert error.message == "odd [REDACTED]"


# -- errors inside a 200 -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("payload", "retryable"),
    [
        ({"error": {"message": "m", "type": "server_error"}}, True),
        ({"error": {"message": "m", "type": "overloaded_error"}}, True),
        ({"error": {"message": "m", "type": "api_error"}}, True),
        ({"error": {"message": "m", "code": "unavailable"}}, True),
        ({"error": {"message": "m", "code": "rate_limit_exceeded"}}, True),
        ({"error": {"message": "m", "type": "invalid_request_error"}}, False),
        ({"error": {"message": "m"}}, False),
    ],
)
def test_mid_stream_payloads(payload: dict[str, Any], retryable: bool) -> None:
    error = mapper().from_stream_payload(payload)
    assert type(error) is StreamError
    assert error.provider == "acme"
    assert error.vendor_code == next(iter(VendorError.codes(payload)), None)
    assert error.retryable is retryable
    assert error.message == "the vendor reported an error mid-stream: m"


def test_an_error_body_over_200_keeps_status_200_and_the_named_type() -> None:
    error = mapper().from_error_body_over_200(
        {"error": {"message": "bad key", "code": 401}}, {"x-request-id": "r3"}
    )
    assert type(error) is AuthenticationError
    assert (error.status_code, error.request_id, error.retryable) == (200, "r3", False)
    assert error.message.startswith("bad key (set OPENAI_API_KEY")
    unnamed = mapper().from_error_body_over_200(["odd"], {})
    assert type(unnamed) is StreamError
    assert unnamed.message == "the vendor reported an error mid-stream: odd"
    plain = mapper().from_error_body_over_200({"error": {"message": "m", "type": "x"}}, {})
    assert plain.message == "the vendor reported an error mid-stream: m"


def test_not_json_quotes_a_scrubbed_snippet() -> None:
    error = mapper().not_json("a chunk", b"x" * 115 + SECRET.encode())
    assert error.provider == "acme"
    assert error.message == f"the vendor sent a chunk that is not JSON: '{'x' * 115}[REDA...'"
