"""Bad input is refused with InvalidRequestError before anything is sent."""

from __future__ import annotations

import pytest
from support import FAKE_KEY, FakeVendor, ask

from providers import (
    AuthenticationError,
    CompletionRequest,
    InvalidRequestError,
    MissingApiKeyError,
    OpenAiCompatConfig,
    OpenAiCompatibleProvider,
    ProviderCapabilities,
    ToolDefinition,
    load_profile,
)

BAD_INPUTS = [
    ("openai", CompletionRequest(messages=()), "messages is empty"),
    ("openai", ask(max_tokens=0), "max_tokens must be >= 1"),
    ("openai", ask(max_tokens=10**7), "max_tokens must be <= 16384"),
    ("openai", ask(temperature=2.5), "temperature must be between 0 and 2"),
    ("mistral", ask(temperature=1.6), "temperature must be between 0 and 1.5"),
    ("glm", ask(temperature=1.2), "temperature must be between 0 and 1"),
    ("glm", ask(stop=("a", "b")), "at most 1 stop sequence"),
    (
        "openai",
        ask(tools=(ToolDefinition(name="f", parameters={"type": "array"}),)),
        "parameters must be a JSON Schema",
    ),
    ("claude_subscription", ask(tools=(ToolDefinition(name="f"),)), "does not support tools"),
]
CASE_FIELDS = ("vendor_name", "request_", "says")


@pytest.mark.parametrize(CASE_FIELDS, BAD_INPUTS)
async def test_complete_refuses_bad_input_before_any_network_call(
    vendor: FakeVendor, vendor_name: str, request_: CompletionRequest, says: str
) -> None:
    provider = vendor.provider(vendor_name)
    with pytest.raises(InvalidRequestError, match=says):
        await provider.complete(request_)
    assert vendor.requests == []


@pytest.mark.parametrize(CASE_FIELDS, BAD_INPUTS)
def test_stream_refuses_bad_input_when_called_not_when_iterated(
    vendor: FakeVendor, vendor_name: str, request_: CompletionRequest, says: str
) -> None:
    provider = vendor.provider(vendor_name)
    with pytest.raises(InvalidRequestError, match=says):
        provider.stream(request_)
    assert vendor.requests == []


def test_unknown_vendor_name_lists_the_known_ones() -> None:
    with pytest.raises(InvalidRequestError, match=r"unknown vendor 'acme'.*mistral"):
        OpenAiCompatibleProvider.from_vendor("acme", api_key=FAKE_KEY)


def test_missing_key_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MISTRAL_API_KEY", raising=False)
    with pytest.raises(
        MissingApiKeyError, match="set the environment variable MISTRAL_API_KEY"
    ) as refused:
        OpenAiCompatibleProvider.mistral()
    assert refused.value.variable == "MISTRAL_API_KEY"


def test_key_is_read_from_the_profile_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ZAI_API_KEY", FAKE_KEY)
    assert OpenAiCompatibleProvider.glm().name == "glm"


def test_claude_proxy_needs_no_key() -> None:
    provider = OpenAiCompatibleProvider.claude_subscription()
    assert provider.capabilities.tool_calling is False


def test_bad_settings_are_typed_errors() -> None:
    with pytest.raises(InvalidRequestError, match="base_url must start with http"):
        OpenAiCompatibleProvider.from_vendor("openai", api_key=FAKE_KEY, base_url="ftp://x")
    with pytest.raises(InvalidRequestError, match="timeout"):
        OpenAiCompatibleProvider.from_vendor("openai", api_key=FAKE_KEY, timeout=0)


async def test_the_config_has_one_source_for_name_capabilities_and_key_variable(
    vendor: FakeVendor,
) -> None:
    """Overrides given beside a profile reach every reader: the provider, the request check,
    the error messages; nothing reads a second copy."""
    no_streaming = ProviderCapabilities(streaming=False)
    provider = OpenAiCompatibleProvider(
        OpenAiCompatConfig(
            profile=load_profile("mistral"),
            capabilities=no_streaming,
            api_key_env="MY_MISTRAL_KEY",
            base_url="http://127.0.0.1:1/v1",
            api_key=FAKE_KEY,
            model="m",
            max_retries=0,
            http_client=vendor.client(),
        )
    )
    assert (provider.name, provider.capabilities) == ("mistral", no_streaming)
    with pytest.raises(InvalidRequestError, match="mistral does not support streaming"):
        provider.stream(ask())
    vendor.reply({"error": {"message": "bad key"}}, 401)
    with pytest.raises(AuthenticationError, match="set MY_MISTRAL_KEY"):
        await provider.complete(ask())


def test_a_config_without_profile_or_name_is_refused() -> None:
    with pytest.raises(ValueError, match="provider_name"):
        OpenAiCompatConfig(base_url="http://127.0.0.1:1/v1", api_key="sk-0123456789", model="m")
