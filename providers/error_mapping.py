"""Map SDK exceptions and every vendor error-body shape onto the LlmError hierarchy.

Protocol-neutral. Vendor bodies differ: OpenAI `{"error": {...}}`, Gemini a list of
`{"error": {...}}`, Mistral `{"detail": ...}` / `{"message": ...}` / `{"object": "error", ...}`,
Anthropic `{"type": "error", "error": {...}}`, proxies plain text. The mapping reads them all,
keeps the vendor's own message, and removes the API key from anything it repeats: message,
request id, vendor code. The `openai` and `anthropic` SDKs raise the same four kinds of
exception (status, timeout, connection, any other); `SdkErrors` names one SDK's classes, so
no SDK is imported here.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Protocol, cast

import httpx2

from providers.errors import (
    AuthenticationError,
    ContextLengthError,
    InvalidRequestError,
    LlmError,
    MalformedResponseError,
    ModelNotFoundError,
    ProviderUnavailableError,
    RateLimitError,
    StreamError,
)
from providers.retry_after import retry_after_seconds
from providers.scrub import Scrubber
from providers.vendors import ErrorQuirks

_MAX_MESSAGE = 500
#: Request ids and vendor codes are short; a long one is noise (or an echo of the request).
_MAX_LABEL = 100
_CODE_KEYS = ("code", "status", "type")
_RETRYABLE_STREAM_TYPES = frozenset(
    {"server_error", "overloaded_error", "api_error", "unavailable", "rate_limit_exceeded"}
)
#: The HTTP status an error code stands for, when an error body arrives with HTTP 200: the
#: OpenAI, Google (gRPC status names) and Anthropic vocabularies, lower-cased.
_STATUS_OF_CODE = {
    "invalid_api_key": 401,
    "authentication_error": 401,
    "unauthenticated": 401,
    "permission_denied": 403,
    "permission_error": 403,
    "model_not_found": 404,
    "not_found": 404,
    "not_found_error": 404,
    "invalid_request_error": 400,
    "invalid_argument": 400,
    "context_length_exceeded": 400,
    "rate_limit_exceeded": 429,
    "rate_limit_error": 429,
    "insufficient_quota": 429,
    "resource_exhausted": 429,
    "server_error": 500,
    "api_error": 500,
    "internal": 500,
    "unavailable": 503,
    "overloaded_error": 529,
}


def _entries(body: object) -> Iterator[Mapping[str, Any]]:
    """Each error object in a body: the body itself, its `error`, each entry of a list."""
    if isinstance(body, list):
        for entry in body:
            yield from _entries(entry)
    elif isinstance(body, Mapping):
        inner = body.get("error")
        yield inner if isinstance(inner, Mapping) else body


@dataclass(frozen=True, slots=True)
class VendorError:
    """What any body shape says: the message and the vendor's code, if it gave one."""

    message: str
    code: str | None = None

    @classmethod
    def from_body(cls, body: object) -> VendorError:
        entry = next(_entries(body), None)
        if entry is None and isinstance(body, list) and body:
            return cls.from_body(body[0])
        if entry is not None:
            message = next(
                (
                    str(entry[key])
                    for key in ("message", "detail", "error", "msg")
                    if entry.get(key) not in (None, "")
                ),
                "",
            )
            code = next((str(entry[key]) for key in _CODE_KEYS if entry.get(key) is not None), None)
            return cls(message or str(dict(entry)), code)
        if isinstance(body, bytes):
            body = body.decode("utf-8", "replace")
        return cls(str(body).strip() if body is not None else "")

    @staticmethod
    def codes(body: object) -> set[str]:
        """Every code-like value in every entry of the body, for matching profile code lists."""
        return {str(entry[key]) for entry in _entries(body) for key in _CODE_KEYS if entry.get(key)}


def _status_of(code: object) -> int | None:
    """The HTTP status one code value stands for: a number in range, or a known code word."""
    text = str(code)
    if text.isdigit():
        return int(text) if 400 <= int(text) <= 599 else None
    return _STATUS_OF_CODE.get(text.lower())


def _entry_status(entry: Mapping[str, Any]) -> int | None:
    """The status one error object names: its most specific key decides (`code` before
    `status` before `type`), as OpenAI's rejected key says `code: invalid_api_key` beside
    the generic `type: invalid_request_error`."""
    for key in _CODE_KEYS:
        if entry.get(key) is not None and (status := _status_of(entry[key])) is not None:
            return status
    return None


def status_named_by(body: object) -> int | None:
    """The HTTP status an error body names, if any; across several error objects, the lowest."""
    named = [status for entry in _entries(body) if (status := _entry_status(entry)) is not None]
    return min(named) if named else None


class _HasHeaders(Protocol):
    @property
    def headers(self) -> Mapping[str, str]: ...


class _StatusError(Protocol):
    """What both SDKs' `APIStatusError` carry: the status, the parsed body, the response."""

    status_code: int
    body: object

    @property
    def response(self) -> _HasHeaders: ...


@dataclass(frozen=True, slots=True)
class SdkErrors:
    """One SDK's exception classes: its base, status, timeout and connection errors."""

    base: type[Exception]
    status: type[Exception]
    timeout: type[Exception]
    connection: type[Exception]


def _innermost(exc: BaseException) -> BaseException:
    """The first leaf of an exception group: anyio wraps connect failures in one."""
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    return exc


class ErrorMapper:
    """Per provider: knows its name, key variable, quirks and the secrets to keep out.

    `secret` is the API key; `also` any other credential the provider sends (header values).
    `sdk` names the exceptions `from_sdk` maps.
    """

    def __init__(
        self,
        provider: str,
        quirks: ErrorQuirks,
        api_key_env: str | None,
        secret: str,
        *,
        sdk: SdkErrors,
        also: Iterable[str] = (),
    ) -> None:
        self.provider = provider
        self.sdk = sdk
        self._quirks = quirks
        self._key_hint = f"set {api_key_env}" if api_key_env else "pass api_key="
        self.scrubber = Scrubber((secret, *also))

    def scrub(self, text: str) -> str:
        """`text` without secrets, cut to the message length cap (scrubbed before the cut)."""
        return self.scrubber.snippet(text, _MAX_MESSAGE)

    def label(self, value: object) -> str | None:
        """A request id or vendor code fit to repeat: scrubbed, short, or None when empty."""
        if value is None or value == "":
            return None
        return self.scrubber.snippet(str(value), _MAX_LABEL)

    def request_id(self, headers: Mapping[str, str]) -> str | None:
        return self.label(headers.get("x-request-id") or headers.get("request-id"))

    def from_sdk(self, exc: Exception, *, timeout: float) -> LlmError:
        """The typed error for an exception of the SDK: never chain `exc` (it holds the body)."""
        if isinstance(exc, self.sdk.status):
            status = cast(_StatusError, exc)
            return self.from_status(status.status_code, status.body, status.response.headers)
        if isinstance(exc, self.sdk.timeout):
            return self.timed_out(timeout)
        if isinstance(exc, self.sdk.connection):
            cause = _innermost(exc.__cause__ or exc)
            if isinstance(cause, httpx2.DecodingError):
                return self.undecodable(cause)
            return ProviderUnavailableError(
                f"could not connect ({self.scrub(str(cause)) or type(cause).__name__}): check "
                "base_url and that the server is running",
                provider=self.provider,
            )
        return LlmError(self.scrub(str(exc)), provider=self.provider)

    def from_status(self, status: int, body: object, headers: Mapping[str, str]) -> LlmError:
        vendor = VendorError.from_body(body)
        codes = vendor.codes(body)
        message = self.scrub(vendor.message) or f"HTTP {status}"
        common: dict[str, Any] = {
            "provider": self.provider,
            "status_code": status,
            "request_id": self.request_id(headers),
            "vendor_code": self.label(vendor.code),
        }
        if status in (401, 403):
            return AuthenticationError(
                f"{message} ({self._key_hint} to a valid key with access to this model)", **common
            )
        if status == 404:
            return ModelNotFoundError(f"{message} (check the model name and base_url)", **common)
        if status == 429:
            return RateLimitError(
                message,
                retry_after=retry_after_seconds(headers),
                retryable=not codes & set(self._quirks.non_retryable_rate_limit_codes),
                **common,
            )
        if status in (400, 413, 422):
            if self._is_context_length(codes, vendor.message):
                return ContextLengthError(
                    f"{message} (shorten the messages or lower max_tokens)", **common
                )
            return InvalidRequestError(message, **common)
        if status >= 500 or status in (408, 409):
            return ProviderUnavailableError(
                message, retry_after=retry_after_seconds(headers), **common
            )
        return InvalidRequestError(message, **common)

    def from_error_body_over_200(self, body: object, headers: Mapping[str, str]) -> LlmError:
        """A JSON error body answered with HTTP 200: mapped as the status it names.

        The error keeps status_code 200 (what the wire said); its type and retryability are
        those of the status the body names. A body naming none is a mid-stream error payload.
        """
        named = status_named_by(body)
        if named is None:
            return self.from_stream_payload(body)
        error = self.from_status(named, body, headers)
        error.status_code = 200
        return error

    def from_stream_payload(self, payload: object) -> StreamError:
        """A `data: {"error": ...}` inside a 200 stream."""
        vendor = VendorError.from_body(payload)
        codes = vendor.codes(payload)
        return StreamError(
            f"the vendor reported an error mid-stream: {self.scrub(vendor.message)}",
            provider=self.provider,
            vendor_code=self.label(vendor.code),
            retryable=bool(codes & _RETRYABLE_STREAM_TYPES),
        )

    def timed_out(self, timeout: float) -> ProviderUnavailableError:
        return ProviderUnavailableError(
            f"no response within {timeout:g}s (after retries): retry later or raise timeout=",
            provider=self.provider,
        )

    def undecodable(self, cause: Exception) -> MalformedResponseError:
        """A body whose content-encoding does not decode: corrupt on the way, worth a retry."""
        return MalformedResponseError(
            f"the response body could not be decoded ({self.scrub(str(cause))}): its "
            "content-encoding is corrupt; retry the request",
            provider=self.provider,
            retryable=True,
        )

    def not_json(self, what: str, data: bytes | str) -> MalformedResponseError:
        return MalformedResponseError(
            f"the vendor sent {what} that is not JSON: {self.scrubber.snippet(data, 120)!r}",
            provider=self.provider,
        )

    def _is_context_length(self, codes: set[str], message: str) -> bool:
        if codes & set(self._quirks.context_length_codes):
            return True
        lowered = message.lower()
        return any(phrase in lowered for phrase in self._quirks.context_length_phrases)
