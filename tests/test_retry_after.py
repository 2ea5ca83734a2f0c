"""Retry-After from a hostile server: a usable wait, or None; never an exception."""

from __future__ import annotations

import email.utils

import pytest

from providers.retry_after import MAX_RETRY_AFTER, retry_after_seconds

NOW = 1_800_000_000.0


def wait(**headers: str) -> float | None:
    return retry_after_seconds(
        {name.replace("_", "-"): value for name, value in headers.items()}, now=lambda: NOW
    )


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("7", 7.0),
        (" 7 ", 7.0),
        ("0", 0.0),
        ("1.5", 1.5),
        ("86400", 86_400.0),
        ("86401", MAX_RETRY_AFTER),
        ("9" * 400, MAX_RETRY_AFTER),
        ("-3", None),
        ("+3", None),
        ("1e3", None),
        ("nan", None),
        ("inf", None),
        ("-inf", None),
        ("soon", None),
        ("", None),
        ("\u0661\u0662", None),  # Arabic-Indic digits are not delta-seconds
        ("1_000", None),
        ("Mon, 99 Foo 2015 07:28:00 GMT", None),
    ],
)
def test_retry_after_values(value: str, seconds: float | None) -> None:
    assert wait(retry_after=value) == seconds


@pytest.mark.parametrize(
    ("offset", "seconds"),
    [(30, 30.0), (0, 0.0), (-3600, 0.0), (10 * 86_400, MAX_RETRY_AFTER)],
)
def test_http_dates_are_seconds_from_now(offset: int, seconds: float) -> None:
    assert wait(retry_after=email.utils.formatdate(NOW + offset, usegmt=True)) == seconds


def test_an_http_date_without_a_zone_is_utc() -> None:
    date = email.utils.formatdate(NOW + 60, usegmt=True).replace("GMT", "-0000")
    assert wait(retry_after=date) == 60.0


def test_an_unrepresentable_date_is_none_or_capped() -> None:
    assert wait(retry_after="Fri, 31 Dec 9999 23:59:59 GMT") == MAX_RETRY_AFTER


@pytest.mark.parametrize(
    ("headers", "seconds"),
    [
        ({"retry_after_ms": "1500"}, 1.5),
        ({"retry_after_ms": "0"}, 0.0),
        ({"retry_after_ms": "250", "retry_after": "9"}, 0.25),
        ({"retry_after_ms": "nan", "retry_after": "9"}, 9.0),
        ({"retry_after_ms": "-5", "retry_after": "9"}, 9.0),
        ({"retry_after_ms": "soon"}, None),
        ({"retry_after_ms": "9" * 400}, MAX_RETRY_AFTER),
        ({"retry_after_ms": "86400001"}, MAX_RETRY_AFTER),
        ({}, None),
    ],
)
def test_retry_after_ms_wins_when_usable(headers: dict[str, str], seconds: float | None) -> None:
    assert wait(**headers) == seconds


def test_the_clock_is_read_only_for_dates() -> None:
    def clock() -> float:
        raise AssertionError("the clock was read")

    assert retry_after_seconds({"retry-after": "5"}, now=clock) == 5.0
