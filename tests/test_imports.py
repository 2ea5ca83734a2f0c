"""What importing a module costs: a third-party provider imports `providers.types` and must
not pay for a vendor SDK it never uses; hypothesis loads only with the property machinery."""

from __future__ import annotations

import subprocess
import sys

import pytest


def loaded_after(statement: str) -> set[str]:
    script = f"import sys\n{statement}\nprint(' '.join(sys.modules))"
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    return set(result.stdout.split())


@pytest.mark.parametrize(
    "statement", ["import providers.types", "from providers import LlmProvider, StopReason"]
)
def test_the_provider_types_load_no_vendor_sdk(statement: str) -> None:
    loaded = loaded_after(statement)
    assert "providers.types" in loaded
    assert not {"openai", "anthropic"} & loaded


def test_naming_a_provider_class_loads_its_sdk() -> None:
    loaded = loaded_after("from providers import AnthropicProvider")
    assert "anthropic" in loaded
    assert "openai" not in loaded


def test_the_suite_loads_hypothesis_only_with_the_properties() -> None:
    assert "hypothesis" not in loaded_after("import contracts.suite, contracts.cli")
    assert "hypothesis" in loaded_after("import contracts.properties")
