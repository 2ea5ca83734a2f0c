"""Vendor key prefixes are found where a token starts, never inside an ordinary word: every
real key shape is scrubbed wherever it stands, and prose that merely contains a prefix stays."""

from __future__ import annotations

import pytest

from contracts.cassettes import REDACTED, SECRET_PATTERNS, redact_key_shaped

KEYS = {
    "openai project": "sk-proj-" + "Ab3_-" * 10,
    "openai legacy": "sk-" + "A1b2C3d4" * 6,
    "anthropic": "sk-ant-api03-" + "Zz9-" * 20,
    "groq": "gsk_" + "G1" * 26,
    "xai": "xai-" + "X9" * 40,
    "cerebras": "csk-" + "c5" * 24,
    "fireworks": "fw_" + "F3" * 12,
    "hugging face": "hf_" + "H4" * 17,
    "replicate": "r8_" + "R7" * 20,
    "perplexity": "pplx-" + "P2" * 24,
    "together": "tgp_v1_" + "T6-_" * 10,
    "github": "ghp_" + "G7" * 18,
    "github fine-grained": "github_pat_" + "Gh_8" * 20,
    "google": "AIza" + "Sy" * 17 + "Q",
    "google oauth": "ya29." + "Y0" * 20,
}
#: Where a key stands in text: alone, after a space, quoted in JSON, after `=` or `:`, in a
#: URL path, after a newline.
PLACES = ["{}", "key {}", '{{"value": "{}"}}', "k={}", "key:{}", "https://h/{}/x", "line\n{}"]
#: Ordinary words that contain a key prefix and enough key-like characters after it.
WORDS = [
    "risk-assessment-framework-v2",
    "task-management-service-backend",
    "desk-reservation-system-rollout",
    "whisk-temperature-controller-v3",
    "Thfw_ABCDEFGHIJKLMNOPQRSTU",
    "kghp_ABCDEFGHIJKLMNOPQRSTUVWXYZ",
]


@pytest.mark.parametrize("place", PLACES)
@pytest.mark.parametrize("name", sorted(KEYS))
def test_every_key_shape_is_scrubbed_wherever_it_stands(name: str, place: str) -> None:
    text = place.format(KEYS[name])
    scrubbed = redact_key_shaped(text)
    assert KEYS[name] not in scrubbed
    assert REDACTED in scrubbed
    assert any(pattern.search(text) for pattern in SECRET_PATTERNS), "the scan finds it too"


@pytest.mark.parametrize("name", ["openai project", "anthropic"])
def test_a_distinct_key_glued_to_the_word_before_it_is_scrubbed(name: str) -> None:
    text = f"Hello{KEYS[name]}!"
    assert redact_key_shaped(text) == f"Hello{REDACTED}!"
    assert any(pattern.search(text) for pattern in SECRET_PATTERNS)


@pytest.mark.parametrize("word", WORDS)
def test_a_prefix_inside_an_ordinary_word_is_not_a_key(word: str) -> None:
    text = f"the {word} is described in {word}.md"
    assert redact_key_shaped(text) == text
    assert not any(pattern.search(text) for pattern in SECRET_PATTERNS)
