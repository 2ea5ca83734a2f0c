"""Bad input is refused with InvalidRequestError before anything is sent."""

from __future__ import annotations

import pytest
from support import FAKE_KEY, FakeVendor, ask

from providers import (
    CompletionRequest,
    InvalidRequestError,
    OpenAiCompatibleProvider,
    ToolDefinition,
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
    with pytest.raises(InvalidRequestError, match="set MISTRAL_API_KEY"):
        OpenAiCompatibleProvider.mistral()


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
