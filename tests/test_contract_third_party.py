"""Independent LlmProviders, one per wire protocol, certified through the same inheritable base
class: the replica speaks each vendor's protocol to them."""

from __future__ import annotations

from pydantic import SecretStr
from tiny_anthropic_provider import TinyAnthropicProvider
from tiny_provider import TinyProvider
from tiny_responses_provider import TinyResponsesProvider

from contracts.suite import ProviderContract
from providers.types import LlmProvider


class TestTinyProviderContract(ProviderContract):
    vendor = "openai"  # the replica speaks OpenAI's dialect to it

    def make_provider(self, base_url: str, api_key: SecretStr) -> LlmProvider:
        return TinyProvider(base_url, api_key)


def test_tiny_provider_is_an_llm_provider() -> None:
    assert isinstance(TinyProvider("http://127.0.0.1:1/v1", SecretStr("k")), LlmProvider)


class TestTinyAnthropicProviderContract(ProviderContract):
    vendor = "anthropic"  # the replica speaks Anthropic Messages to it

    def make_provider(self, base_url: str, api_key: SecretStr) -> LlmProvider:
        return TinyAnthropicProvider(base_url, api_key)


def test_tiny_anthropic_provider_is_an_llm_provider() -> None:
    provider = TinyAnthropicProvider("http://127.0.0.1:1", SecretStr("k"))
    assert isinstance(provider, LlmProvider)


class TestTinyResponsesProviderContract(ProviderContract):
    vendor = "openai_responses"  # the replica speaks the Responses API to it

    def make_provider(self, base_url: str, api_key: SecretStr) -> LlmProvider:
        return TinyResponsesProvider(base_url, api_key)


def test_tiny_responses_provider_is_an_llm_provider() -> None:
    provider = TinyResponsesProvider("http://127.0.0.1:1/v1", SecretStr("k"))
    assert isinstance(provider, LlmProvider)
