"""Independent LlmProviders, one per wire protocol, certified through the same inheritable base
class: the replica speaks each vendor's protocol to them."""

from __future__ import annotations

from pydantic import SecretStr
from tiny_anthropic_provider import TinyAnthropicProvider
from tiny_provider import TinyProvider
from tiny_responses_provider import TinyResponsesProvider

from contracts.suite import DefectKey, ProviderContract
from providers.types import LlmProvider

#: The tiny providers are minimal on purpose: they send none of the request features, and the
#: feature clauses say so (an xfail each, so a tiny provider that starts sending one shows).
NO_REQUEST_FEATURES: dict[DefectKey, str] = {
    clause: "the tiny provider implements no request features: it sends no "
    f"{feature} (the clause catches it)"
    for clause, feature in (
        ("tools.choice", "tool_choice"),
        ("structured.output", "response format"),
        ("vision.input", "image parts"),
        ("thinking.requested", "thinking request"),
    )
}


class TestTinyProviderContract(ProviderContract):
    known_defects = NO_REQUEST_FEATURES
    vendor = "openai"  # the replica speaks OpenAI's dialect to it

    def make_provider(self, base_url: str, api_key: SecretStr) -> LlmProvider:
        return TinyProvider(base_url, api_key)


def test_tiny_provider_is_an_llm_provider() -> None:
    assert isinstance(TinyProvider("http://127.0.0.1:1/v1", SecretStr("k")), LlmProvider)


class TestTinyAnthropicProviderContract(ProviderContract):
    known_defects = NO_REQUEST_FEATURES
    vendor = "anthropic"  # the replica speaks Anthropic Messages to it

    def make_provider(self, base_url: str, api_key: SecretStr) -> LlmProvider:
        return TinyAnthropicProvider(base_url, api_key)


def test_tiny_anthropic_provider_is_an_llm_provider() -> None:
    provider = TinyAnthropicProvider("http://127.0.0.1:1", SecretStr("k"))
    assert isinstance(provider, LlmProvider)


class TestTinyResponsesProviderContract(ProviderContract):
    # It sends the request features itself, so every feature clause holds without excuse.
    vendor = "openai_responses"  # the replica speaks the Responses API to it

    def make_provider(self, base_url: str, api_key: SecretStr) -> LlmProvider:
        return TinyResponsesProvider(base_url, api_key)


def test_tiny_responses_provider_is_an_llm_provider() -> None:
    provider = TinyResponsesProvider("http://127.0.0.1:1/v1", SecretStr("k"))
    assert isinstance(provider, LlmProvider)
