"""The one error hierarchy every vendor failure is mapped into.

Callers catch these, never an SDK or transport exception. Messages say what happened and what
to do next; they never contain a credential.
"""

from __future__ import annotations


class LlmError(Exception):
    """Base of every provider failure.

    `retryable` tells a caller whether the same request may succeed later unchanged.
    """

    default_retryable = False

    def __init__(
        self,
        message: str,
        *,
        provider: str,
        status_code: int | None = None,
        request_id: str | None = None,
        retryable: bool | None = None,
        vendor_code: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.provider = provider
        self.status_code = status_code
        self.request_id = request_id
        self.retryable = self.default_retryable if retryable is None else retryable
        self.vendor_code = vendor_code

    def __str__(self) -> str:
        where = f"{self.provider}"
        if self.status_code is not None:
            where += f" HTTP {self.status_code}"
        if self.request_id:
            where += f", request {self.request_id}"
        return f"[{where}] {self.message}"

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(provider={self.provider!r}, status_code={self.status_code!r}, "
            f"retryable={self.retryable!r}, message={self.message!r})"
        )


class AuthenticationError(LlmError):
    """401 / 403: the key is missing, wrong, or lacks access."""


class MissingApiKeyError(AuthenticationError):
    """No key was given and the profile's environment variable is unset: nothing was sent."""

    def __init__(self, provider: str, variable: str | None) -> None:
        where = f"set the environment variable {variable}, or pass" if variable else "pass"
        super().__init__(f"no API key for {provider}: {where} api_key=", provider=provider)
        self.variable = variable


class RateLimitError(LlmError):
    """429. `retry_after` is the vendor's Retry-After in seconds, when it sent one."""

    default_retryable = True

    def __init__(
        self,
        message: str,
        *,
        provider: str,
        status_code: int | None = 429,
        request_id: str | None = None,
        retryable: bool | None = None,
        vendor_code: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(
            message,
            provider=provider,
            status_code=status_code,
            request_id=request_id,
            retryable=retryable,
            vendor_code=vendor_code,
        )
        self.retry_after = retry_after


class InvalidRequestError(LlmError):
    """400 / 422 from the vendor, or bad input caught before anything was sent."""


class ContextLengthError(InvalidRequestError):
    """The prompt (plus max_tokens) does not fit the model's context window."""


class ModelNotFoundError(LlmError):
    """404: the model name is unknown to this vendor or this key."""


class ProviderUnavailableError(LlmError):
    """5xx, 529, connection failures and timeouts: worth retrying later."""

    default_retryable = True


class StreamError(LlmError):
    """A failure after `Connected`: the events already yielded stay valid."""


class StreamTruncatedError(StreamError):
    """The stream ended without a finish reason: the answer is incomplete."""

    default_retryable = True


class MalformedResponseError(StreamError):
    """The vendor sent something unparsable: a broken chunk or invalid tool-call JSON."""
