"""The API key never shows: not in repr/str, error messages, or DEBUG logs."""

from __future__ import annotations

import logging

import pytest
from support import FAKE_KEY, FakeVendor, ask

from contracts.wire import chunk
from providers import LlmError, OpenAiCompatConfig, OpenAiCompatibleProvider, load_profile


def test_config_and_provider_reprs_hide_the_key(vendor: FakeVendor) -> None:
    provider = vendor.provider("mistral")
    config = OpenAiCompatConfig(
        provider_name="x",
        base_url="http://127.0.0.1:1/v1",
        api_key=FAKE_KEY,
        model="m",
        extra_headers={"x-goog-api-key": FAKE_KEY},
        profile=load_profile("gemini"),
    )
    for shown in (
        repr(provider),
        str(provider),
        repr(config),
        str(config),
        repr(config.model_dump()),
        config.model_dump_json(),
    ):
        assert FAKE_KEY not in shown


async def test_vendor_echoing_the_key_in_an_error_is_scrubbed(vendor: FakeVendor) -> None:
    vendor.reply({"error": {"message": f"Incorrect API key provided: {FAKE_KEY}."}}, status=401)
    with pytest.raises(LlmError) as caught:
        await vendor.provider().complete(ask())
    for shown in (str(caught.value), repr(caught.value), caught.value.message):
        assert FAKE_KEY not in shown
    assert "[REDACTED]" in caught.value.message
    # The SDK's exception holds the raw body: it is not chained at all.
    assert caught.value.__cause__ is None
    assert caught.value.__context__ is None


async def test_mid_stream_error_echoing_the_key_is_scrubbed(vendor: FakeVendor) -> None:
    vendor.sse([chunk({"content": "a"}), {"error": {"message": f"key {FAKE_KEY} revoked"}}])
    with pytest.raises(LlmError) as caught:
        async for _ in vendor.provider().stream(ask()):
            pass
    assert FAKE_KEY not in str(caught.value)


async def test_debug_logs_never_show_the_key(
    vendor: FakeVendor, caplog: pytest.LogCaptureFixture
) -> None:
    vendor.sse([chunk({"content": "a"}), chunk(finish="stop")])
    vendor.reply({"error": {"message": "nope"}}, status=500)
    with caplog.at_level(logging.DEBUG):
        provider = vendor.provider(max_retries=0)
        async for _ in provider.stream(ask()):
            pass
        with pytest.raises(LlmError):
            await provider.complete(ask())
    assert caplog.records, "DEBUG logging was captured"
    assert FAKE_KEY not in caplog.text
    assert vendor.requests[0].headers["authorization"] == f"Bearer {FAKE_KEY}"


def test_explicit_secretstr_key_is_accepted() -> None:
    from pydantic import SecretStr

    provider = OpenAiCompatibleProvider.from_vendor("openai", api_key=SecretStr(FAKE_KEY))
    assert FAKE_KEY not in repr(provider)


async def test_openai_account_ids_from_the_environment_go_only_to_openai(
    vendor: FakeVendor, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_ORG_ID", "org-private123")
    monkeypatch.setenv("OPENAI_PROJECT_ID", "proj_private123")
    for name in ("mistral", "openai"):
        vendor.sse([chunk({"content": "a"}), chunk(finish="stop")])
        async for _ in vendor.provider(name).stream(ask()):
            pass
    to_mistral, to_openai = (request.headers for request in vendor.requests)
    assert "openai-organization" not in to_mistral
    assert "openai-project" not in to_mistral
    assert to_openai["openai-organization"] == "org-private123"
