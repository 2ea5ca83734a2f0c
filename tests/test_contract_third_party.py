"""A second, independent LlmProvider certified through the same inheritable base class."""

from __future__ import annotations

from pydantic import SecretStr
from tiny_provider import TinyProvider

from contracts.suite import ProviderContract
from providers.types import LlmProvider


class TestTinyProviderContract(ProviderContract):
    vendor = "openai"  # the replica speaks OpenAI's dialect to it

    def make_provider(self, base_url: str, api_key: SecretStr) -> LlmProvider:
        return TinyProvider(base_url, api_key)


def test_tiny_provider_is_an_llm_provider() -> None:
    assert isinstance(TinyProvider("http://127.0.0.1:1/v1", SecretStr("k")), LlmProvider)
