"""The peers, their pinned distributions, and the vendor dialects they are run against."""

from __future__ import annotations

import importlib.metadata
from dataclasses import dataclass

from contracts.runner import ProviderFactory


@dataclass(frozen=True)
class Peer:
    library: str
    distribution: str
    module: str
    cls: str

    def factory(self) -> ProviderFactory:
        module = __import__(self.module, fromlist=[self.cls])
        built: ProviderFactory = getattr(module, self.cls)
        return built

    def version(self) -> str:
        return importlib.metadata.version(self.distribution)


PEERS = [
    Peer("openai", "openai", "examples.peers.openai_sdk", "OpenAiSdkProvider"),
    Peer("litellm", "litellm", "examples.peers.litellm_peer", "LitellmProvider"),
    Peer(
        "langchain-openai", "langchain-openai", "examples.peers.langchain_peer", "LangchainProvider"
    ),
    Peer(
        "pydantic-ai", "pydantic-ai-slim", "examples.peers.pydantic_ai_peer", "PydanticAiProvider"
    ),
]
#: The OpenAI-compatible dialects the replica speaks (claude_subscription is a local proxy).
DIALECTS = ["openai", "gemini", "mistral", "glm"]
