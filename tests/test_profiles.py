"""Vendor profiles load, validate, and report a bad one by file and field."""

from __future__ import annotations

from pathlib import Path

import pytest

from providers import available_vendors, load_profile
from providers.vendors import ProfileError, load_profile_file

BUNDLED = [
    "anthropic",
    "anthropic_openai",
    "azure_openai",
    "cerebras",
    "claude_subscription",
    "deepseek",
    "fireworks",
    "gemini",
    "glm",
    "groq",
    "llamacpp",
    "lmstudio",
    "mistral",
    "ollama",
    "openai",
    "openai_responses",
    "openrouter",
    "together",
    "vllm",
    "xai",
]


def test_every_bundled_profile_loads() -> None:
    assert available_vendors() == BUNDLED
    for name in BUNDLED:
        profile = load_profile(name)
        assert profile.name == name
        assert profile.base_url.startswith("http")


def test_seed_defaults() -> None:
    assert load_profile("gemini").capabilities.max_context_tokens == 1_048_576
    assert load_profile("glm").capabilities.vision is False
    assert load_profile("claude_subscription").default_api_key == "dummy-key"
    assert load_profile("mistral").request.max_tokens_param == "max_tokens"
    assert load_profile("anthropic").protocol == "anthropic_messages"
    assert load_profile("openai").protocol == "openai_chat"
    assert load_profile("openai_responses").protocol == "openai_responses"


def test_bad_profile_is_reported_with_file_and_field(tmp_path: Path) -> None:
    path = tmp_path / "acme.toml"
    path.write_text(
        'name = "acme"\nbase_url = "http://x"\ndefault_model = "m"\n'
        '[request]\nstream_usage = "sometimes"\n'
    )
    with pytest.raises(ProfileError, match=r"acme\.toml.*request\.stream_usage"):
        load_profile_file(path)


def test_profile_that_is_not_toml(tmp_path: Path) -> None:
    path = tmp_path / "broken.toml"
    path.write_text("name = \n")
    with pytest.raises(ProfileError, match=r"broken\.toml: not valid TOML"):
        load_profile_file(path)


@pytest.mark.parametrize(
    ("old_format", "named"),
    [
        ('[wire]\nusage_placement = "finish_chunk"\n', "wire.usage_placement"),
        ('[known_defects]\n"stop.mapping" = "why"\n', "known_defects"),
    ],
)
def test_a_profile_still_holding_suite_facts_says_where_they_moved(
    tmp_path: Path, old_format: str, named: str
) -> None:
    path = tmp_path / "acme.toml"
    path.write_text('name = "acme"\nbase_url = "http://x"\ndefault_model = "m"\n' + old_format)
    with pytest.raises(ProfileError, match=rf"{named} moved to .*contracts/<name>\.toml"):
        load_profile_file(path)
