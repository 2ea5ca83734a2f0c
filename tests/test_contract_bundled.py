"""The contract, per bundled vendor, replayed from the committed cassettes (as `certify` does)."""

from __future__ import annotations

from pathlib import Path

from pydantic import SecretStr

from contracts.suite import ProviderContract
from providers import from_vendor
from providers.types import LlmProvider

CASSETTES = Path(__file__).resolve().parent.parent / "cassettes"


class BundledVendorContract(ProviderContract):
    cassette_root = CASSETTES

    def make_provider(self, base_url: str, api_key: SecretStr) -> LlmProvider:
        return from_vendor(self.vendor, api_key=api_key, base_url=base_url, max_retries=0)


class TestOpenAiContract(BundledVendorContract):
    vendor = "openai"


class TestGeminiContract(BundledVendorContract):
    vendor = "gemini"


class TestMistralContract(BundledVendorContract):
    vendor = "mistral"


class TestGlmContract(BundledVendorContract):
    vendor = "glm"


class TestClaudeSubscriptionContract(BundledVendorContract):
    vendor = "claude_subscription"


class TestAnthropicContract(BundledVendorContract):
    vendor = "anthropic"
