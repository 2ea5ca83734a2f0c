"""Map SDK exceptions and every vendor error-body shape onto the LlmError hierarchy.

Vendor bodies differ: OpenAI `{"error": {...}}`, Gemini a list of `{"error": {...}}`, Mistral
`{"detail": ...}` / `{"message": ...}` / `{"object": "error", ...}`, proxies plain text. The
mapping reads them all, keeps the vendor's own message, and removes the API key from anything
it repeats.
"""

from __future__ import annotations

import email.utils
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import openai

from providers.errors import (
    AuthenticationError,
    ContextLengthError,
    InvalidRequestError,
    LlmError,
    ModelNotFoundError,
    ProviderUnavailableError,
    RateLimitError,
    StreamError,
)
from providers.vendors import ErrorQuirks

_REDACTED = "[REDACTED]"
_MAX_MESSAGE = 500
_RETRYABLE_STREAM_TYPES = frozenset(
    {"server_error", "overloaded_error", "api_error", "unavailable", "rate_limit_exceeded"}
)


@dataclass(frozen=True, slots=True)
class VendorError:
    """What any body shape says: the message and the vendor's code, if it gave one."""

    message: str
    code: str | None = None

    @classmethod
    def from_body(cls, body: object) -> VendorError:
        if isinstance(body, list) and body:
            return cls.from_body(body[0])
        if isinstance(body, Mapping):
            inner = body.get("error")
            if isinstance(inner, Mapping):
                return cls.from_body(inner)
            message = next(
                (
                    str(body[key])
                    for key in ("message", "detail", "error", "msg")
                    if body.get(key) not in (None, "")
                ),
                "",
            )
            code = next(
                (str(body[key]) for key in ("code", "status", "type") if body.get(key) is not None),
                None,
            )
            return cls(message or str(dict(body)), code)
        if isinstance(body, bytes):
            body = body.decode("utf-8", "replace")
        return cls(str(body).strip() if body is not None else "")

    def codes(self, body: object) -> set[str]:
        """Every code-like value in the body, for matching profile code lists."""
        found = {self.code} if self.code else set()
        if isinstance(body, list) and body:
            body = body[0]
        if isinstance(body, Mapping):
            body = body.get("error", body)
        if isinstance(body, Mapping):
            found.update(str(body[k]) for k in ("code", "status", "type") if body.get(k))
        return found


def retry_after_seconds(headers: Mapping[str, str]) -> float | None:
    """Retry-After as seconds (delta or HTTP date); retry-after-ms wins when both are sent."""
    milliseconds = headers.get("retry-after-ms")
    if milliseconds:
        try:
            return float(milliseconds) / 1000
        except ValueError:
            pass
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        parsed = email.utils.parsedate_to_datetime(value) if value.strip() else None
        return max(parsed.timestamp() - time.time(), 0.0) if parsed else None


class ErrorMapper:
    """Per provider: knows its name, key variable, quirks and the secret to keep out."""

    def __init__(
        self, provider: str, quirks: ErrorQuirks, api_key_env: str | None, secret: str
    ) -> None:
        self.provider = provider
        self._quirks = quirks
        self._key_hint = f"set {api_key_env}" if api_key_env else "pass api_key="
        self._secret = secret

    def scrub(self, text: str) -> str:
        if len(self._secret) >= 4:
            text = text.replace(self._secret, _REDACTED)
        return text if len(text) <= _MAX_MESSAGE else text[:_MAX_MESSAGE] + "..."

    def from_sdk(self, exc: openai.OpenAIError, *, timeout: float) -> LlmError:
        if isinstance(exc, openai.APIStatusError):
            return self.from_status(exc.status_code, exc.body, exc.response.headers)
        if isinstance(exc, openai.APITimeoutError):
            return ProviderUnavailableError(
                f"no response within {timeout:g}s (after retries): retry later or raise timeout=",
                provider=self.provider,
            )
        if isinstance(exc, openai.APIConnectionError):
            cause = exc.__cause__ or exc
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
            "request_id": headers.get("x-request-id") or headers.get("request-id"),
            "vendor_code": vendor.code,
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
            return ProviderUnavailableError(message, **common)
        return InvalidRequestError(message, **common)

    def from_stream_payload(self, payload: Mapping[str, Any]) -> StreamError:
        """A `data: {"error": ...}` inside a 200 stream."""
        vendor = VendorError.from_body(payload)
        codes = vendor.codes(payload)
        return StreamError(
            f"the vendor reported an error mid-stream: {self.scrub(vendor.message)}",
            provider=self.provider,
            vendor_code=vendor.code,
            retryable=bool(codes & _RETRYABLE_STREAM_TYPES),
        )

    def _is_context_length(self, codes: set[str], message: str) -> bool:
        if codes & set(self._quirks.context_length_codes):
            return True
        lowered = message.lower()
        return any(phrase in lowered for phrase in self._quirks.context_length_phrases)
