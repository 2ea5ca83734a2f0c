"""SDK retries that stop where the deadline would: a wait the deadline cannot hold is no retry.

Both SDKs sleep for a 429's or a 529's `Retry-After` before retrying (the anthropic SDK for
any positive value up to 4,294,967 s). Sleeping past the call's deadline only turns a rate
limit with its `retry_after` into a timeout with neither. So the SDK is told not to retry
then, and the caller gets the vendor's own error, with its status and its `retry_after`.

The SDKs also read the header their own way (`1e12`, `inf`, fractions, overflowing digits),
so a value this package reads as no advice could still be slept on, past any deadline. The
SDK is given this package's reading instead: one reading decides the wait, the retry and the
error's `retry_after`.
"""

from __future__ import annotations

from contextvars import ContextVar
from typing import Any

import httpx2

from providers.body import Deadline
from providers.retry_after import retry_after_seconds

#: The deadline of the call the SDK is making in this task (set around each SDK call).
current_deadline: ContextVar[Deadline | None] = ContextVar("current_deadline", default=None)


class RetriesWithinDeadline:
    """Mixed into an SDK client class, before the SDK's own: `_should_retry` is the hook both
    SDKs (same generator) consult before sleeping for a retry."""

    def _parse_retry_after_header(
        self, response_headers: httpx2.Headers | None = None
    ) -> float | None:
        return None if response_headers is None else retry_after_seconds(response_headers)

    def _should_retry(self, response: httpx2.Response) -> bool:
        wait = retry_after_seconds(response.headers)
        deadline = current_deadline.get()
        if wait is not None and deadline is not None and wait >= deadline.remaining():
            return False
        should: Any = super()._should_retry(response)  # type: ignore[misc]
        return bool(should)
