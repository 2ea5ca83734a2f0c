"""Retry-After, as the seconds a caller should wait, or None when the vendor said nothing usable.

Protocol-neutral: OpenAI-compatible vendors and Anthropic send the same headers. A header
comes from the server, so anything can be in it: a value that is not a number or a date,
negative, NaN or infinite gives None (never an exception), and an absurd wait is capped.
"""

from __future__ import annotations

import email.utils
import re
import time
from collections.abc import Callable, Mapping
from datetime import UTC

#: A day: a longer wait is a broken header, not advice.
MAX_RETRY_AFTER = 86_400.0
_NUMBER = re.compile(r"\s*([0-9]+(?:\.[0-9]+)?)\s*")


def retry_after_seconds(
    headers: Mapping[str, str], *, now: Callable[[], float] = time.time
) -> float | None:
    """`retry-after-ms` when usable, else `retry-after` as delta-seconds or an HTTP date."""
    milliseconds = _number(headers.get("retry-after-ms"))
    if milliseconds is not None:
        return min(milliseconds / 1000, MAX_RETRY_AFTER)
    value = headers.get("retry-after")
    if value is None:
        return None
    seconds = _number(value)
    if seconds is None:
        seconds = _seconds_until(value, now())
    return None if seconds is None else min(seconds, MAX_RETRY_AFTER)


def _number(value: str | None) -> float | None:
    """A non-negative decimal number (digits only: no sign, exponent, NaN or infinity).

    Enough digits overflow to infinity, which the caller's cap turns into the longest wait.
    """
    if value is None or not (match := _NUMBER.fullmatch(value)):
        return None
    return float(match.group(1))


def _seconds_until(value: str, now: float) -> float | None:
    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if moment.tzinfo is None:  # "-0000": the date is UTC
        moment = moment.replace(tzinfo=UTC)
    try:
        return max(moment.timestamp() - now, 0.0)
    except (OverflowError, OSError, ValueError):
        return None
