"""Map the `anthropic` SDK's exceptions onto the LlmError hierarchy.

Status errors go through the shared `ErrorMapper`, which already reads Anthropic's body
`{"type": "error", "error": {"type": ..., "message": ...}}` (message and type kept, key
scrubbed) and its `request-id` header; 529 overloaded is a retryable ProviderUnavailableError
like any 5xx. Only the SDK's exception classes are this module's.
"""

from __future__ import annotations

import anthropic

from providers.errors import LlmError, ProviderUnavailableError
from providers.openai_compat.error_mapping import ErrorMapper


def from_sdk(errors: ErrorMapper, exc: anthropic.AnthropicError, *, timeout: float) -> LlmError:
    if isinstance(exc, anthropic.APIStatusError):
        return errors.from_status(exc.status_code, exc.body, exc.response.headers)
    if isinstance(exc, anthropic.APITimeoutError):
        return ProviderUnavailableError(
            f"no response within {timeout:g}s (after retries): retry later or raise timeout=",
            provider=errors.provider,
        )
    if isinstance(exc, anthropic.APIConnectionError):
        cause = exc.__cause__ or exc
        return ProviderUnavailableError(
            f"could not connect ({errors.scrub(str(cause)) or type(cause).__name__}): check "
            "base_url and that the server is running",
            provider=errors.provider,
        )
    return LlmError(errors.scrub(str(exc)), provider=errors.provider)
