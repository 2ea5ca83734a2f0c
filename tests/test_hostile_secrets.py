"""The key never shows, even when a vendor echoes it where we cut, escape or log text.

Tests through a provider run once per wire protocol: both scrub with the same Scrubber."""

from __future__ import annotations

import logging

import httpx2
import pytest
from support import FAKE_KEY, FakeVendor, ask, collect_until_error, run
from wires import Wire

from contracts.report import shorten
from providers import (
    AnthropicConfig,
    InvalidRequestError,
    LlmError,
    OpenAiCompatConfig,
    from_vendor,
    load_profile,
)
from providers.scrub import Scrubber

#: Any 8 characters of the key would be a leak; the first 8 are what a bad cut leaves.
KEY_START = FAKE_KEY[:8]


def assert_hidden(*texts: str) -> None:
    for text in texts:
        assert KEY_START not in text, text
        assert FAKE_KEY[-8:] not in text, text


@pytest.mark.parametrize("offset", [100, 110, 115, 119])
async def test_a_key_straddling_the_snippet_cut_is_scrubbed_first(
    vendor: FakeVendor, wire: Wire, offset: int
) -> None:
    vendor.sse_bytes(wire.unfinished("a") + wire.event("x" * offset + FAKE_KEY + " is not json"))
    _, error = await collect_until_error(vendor.any_provider(wire.vendor).stream(ask()))
    assert isinstance(error, LlmError)
    assert_hidden(str(error), repr(error))


@pytest.mark.parametrize("offset", [0, 150, 190, 199])
def test_certificate_evidence_is_scrubbed_before_it_is_cut(
    monkeypatch: pytest.MonkeyPatch, offset: int
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", FAKE_KEY)
    assert_hidden(shorten("e" * offset + FAKE_KEY + " tail", 200))


@pytest.mark.parametrize(
    "echo",
    [
        f"Illegal header value b'Bearer {FAKE_KEY}\\n'",
        f"Illegal header value b'Bearer {FAKE_KEY}\\r'",
        f"Illegal header value b'Bearer {FAKE_KEY}\\x00'",
        f'{{"key": "{FAKE_KEY}\\u0000"}}',
        f"key={FAKE_KEY}%0A",
    ],
)
def test_escaped_forms_of_a_key_with_a_control_character_are_scrubbed(echo: str) -> None:
    for key in (FAKE_KEY + "\n", FAKE_KEY + "\r", FAKE_KEY + "\x00", FAKE_KEY):
        assert_hidden(Scrubber([key]).scrub(echo))


@pytest.mark.parametrize("padding", [" ", "\n", "\r\n", "\t "])
async def test_a_key_with_surrounding_whitespace_is_sent_trimmed(
    vendor: FakeVendor, wire: Wire, padding: str
) -> None:
    vendor.sse_bytes(wire.stream("a"))
    provider = vendor.any_provider(wire.vendor, api_key=padding + FAKE_KEY + padding)
    async for _ in provider.stream(ask()):
        pass
    # Both SDKs send the key as a bearer token.
    assert vendor.requests[0].headers["authorization"] == f"Bearer {FAKE_KEY}"


@pytest.mark.parametrize("bad", ["\x00", "\n", "é", "\u2028"])
def test_a_key_no_header_can_carry_is_refused_without_showing_it(wire: Wire, bad: str) -> None:
    key = FAKE_KEY[:10] + bad + FAKE_KEY[10:]
    with pytest.raises(InvalidRequestError, match="API key") as caught:
        from_vendor(wire.vendor, api_key=key)
    assert_hidden(str(caught.value))
    where = {"base_url": "http://127.0.0.1:1", "api_key": key, "model": "m"}
    for build in (
        lambda: OpenAiCompatConfig(provider_name="x", **where),
        lambda: AnthropicConfig(profile=load_profile("anthropic"), **where),
    ):
        with pytest.raises(ValueError, match="API key") as direct:
            build()
        assert_hidden(str(direct.value))


async def test_request_ids_and_vendor_codes_echoing_the_key_are_scrubbed(
    vendor: FakeVendor, wire: Wire
) -> None:
    echoed = {wire.request_id_header: f"req_{FAKE_KEY}"}
    vendor.sse_bytes(wire.stream("a"), headers=echoed)
    vendor.reply({"error": {"message": "no", "code": f"bad_{FAKE_KEY}"}}, 400, echoed)
    provider = vendor.any_provider(wire.vendor)
    events, _ = await collect_until_error(provider.stream(ask()))
    with pytest.raises(LlmError) as caught:
        await provider.complete(ask())
    connected = events[0]
    assert connected.type == "connected"
    assert_hidden(
        str(connected.request_id),  # type: ignore[union-attr]
        str(caught.value.request_id),
        str(caught.value.vendor_code),
        str(caught.value),
    )
    assert caught.value.request_id == "req_[REDACTED]"


@pytest.mark.parametrize(
    "failure",
    [
        httpx2.Response(401, json={"error": {"message": f"key {FAKE_KEY} is wrong"}}),
        httpx2.ConnectError(f"refused for {FAKE_KEY}"),
    ],
    ids=["status", "connection"],
)
async def test_sdk_exceptions_holding_raw_bodies_are_not_chained(
    vendor: FakeVendor, wire: Wire, failure: httpx2.Response | Exception
) -> None:
    for path in ("stream", "complete"):
        vendor.responses.append(failure)
        provider = vendor.any_provider(wire.vendor)
        with pytest.raises(LlmError) as caught:
            await run(provider, ask(), path)
        assert caught.value.__cause__ is None
        assert caught.value.__context__ is None
        assert_hidden(str(caught.value))


async def test_debug_logs_of_the_sdk_and_http_client_never_show_the_key(
    vendor: FakeVendor, wire: Wire, caplog: pytest.LogCaptureFixture
) -> None:
    echoed = {wire.request_id_header: f"req_{FAKE_KEY}"}
    vendor.sse_bytes(wire.stream("a"), headers=echoed)
    vendor.reply({"error": {"message": f"bad {FAKE_KEY}"}}, 500, echoed)
    vendor.responses.append(httpx2.ConnectError(f"refused for {FAKE_KEY}"))
    with caplog.at_level(logging.DEBUG):
        provider = vendor.any_provider(
            wire.vendor,
            api_key=FAKE_KEY + "\n",
            extra_headers={"x-goog-api-key": "AIzaHeaderSecret0123456789"},
        )
        async for _ in provider.stream(ask()):
            pass
        for _ in range(2):
            with pytest.raises(LlmError):
                await provider.complete(ask())
    loggers = {record.name for record in caplog.records}
    assert {wire.sdk_logger, "httpx2"} <= loggers
    assert_hidden(caplog.text)
    assert "AIzaHeaderSecret0123456789" not in caplog.text


def test_scrubbing_replaces_longer_forms_first_and_snippets_mark_the_cut() -> None:
    scrubber = Scrubber([FAKE_KEY + "\n", "abc"])
    assert scrubber.scrub(f"a{FAKE_KEY}\\nb") == "a[REDACTED]b"
    assert scrubber.scrub("abc") == "abc"  # too short to replace everywhere
    assert scrubber.snippet(b"caf\xc3\xa9 " + FAKE_KEY.encode(), 100) == "café [REDACTED]"
    assert scrubber.snippet("x" * 10, 10) == "x" * 10
    assert scrubber.snippet("x" * 11, 10) == "x" * 10 + "..."


async def test_credential_headers_are_scrubbed_and_plain_ones_stay_readable(
    vendor: FakeVendor, wire: Wire
) -> None:
    vendor.reply({"error": {"message": "AIzaHeaderSecret0123456789 rejected for MyApp"}}, 403)
    provider = vendor.any_provider(
        wire.vendor,
        extra_headers={"x-goog-api-key": "AIzaHeaderSecret0123456789", "x-title": "MyApp"},
    )
    with pytest.raises(LlmError) as caught:
        await provider.complete(ask())
    assert caught.value.message.startswith("[REDACTED] rejected for MyApp")
