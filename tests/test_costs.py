from __future__ import annotations

from decimal import Decimal

import pytest

from providers import PriceNotFoundError, Usage, default_cost_table, estimate_cost


def test_every_required_vendor_is_priced_with_source_and_date() -> None:
    rows = list(default_cost_table())
    assert {row.vendor for row in rows} >= {
        "anthropic",
        "openai",
        "gemini",
        "mistral",
        "glm",
        "bedrock",
    }
    assert all(row.source and row.as_of for row in rows)


def test_cost_uses_cached_rate_for_cached_input() -> None:
    usage = Usage(input_tokens=1_000_000, output_tokens=1_000_000, cache_read_tokens=400_000)
    # 600K * 2.50 + 400K * 1.25 + 1M * 10.00, per million
    assert estimate_cost(usage, "openai", "gpt-4o") == Decimal("12.0")


def test_dated_model_names_match_their_family_by_longest_prefix() -> None:
    usage = Usage(input_tokens=2_000_000, output_tokens=0)
    assert estimate_cost(usage, "openai", "gpt-5-mini-2025-08-07") == Decimal("0.5")
    assert estimate_cost(usage, "openai", "gpt-5-2025-08-07") == Decimal("2.5")


def test_long_context_rate_above_threshold() -> None:
    short = Usage(input_tokens=200_000, output_tokens=0)
    long = Usage(input_tokens=200_001, output_tokens=0)
    assert estimate_cost(short, "gemini", "gemini-2.5-pro") == Decimal("0.25")
    assert estimate_cost(long, "gemini", "gemini-2.5-pro") == Decimal("2.50") * 200_001 / 10**6


def test_subscription_costs_nothing_per_token() -> None:
    usage = Usage(input_tokens=5000, output_tokens=5000)
    assert estimate_cost(usage, "claude_subscription", "claude-sonnet-4") == 0


def test_unknown_model_is_a_clear_error() -> None:
    with pytest.raises(PriceNotFoundError, match="no price for mistral/unknown-model"):
        estimate_cost(Usage(input_tokens=1, output_tokens=1), "mistral", "unknown-model")
