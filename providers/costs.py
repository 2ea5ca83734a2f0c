"""Token prices as data (`costs.toml`) and a cost estimate from a `Usage`."""

from __future__ import annotations

import tomllib
from collections.abc import Iterator
from decimal import Decimal
from functools import cache
from pathlib import Path

from pydantic import Field

from providers.frozen import Frozen
from providers.types import Usage

_PER_TOKEN = Decimal(1_000_000)


class PriceNotFoundError(LookupError):
    """No row in the cost table prices this vendor and model."""


class ModelPrice(Frozen):
    """USD per million tokens for one vendor's model (or model family, by prefix)."""

    vendor: str
    model: str
    input: Decimal = Field(ge=0)
    output: Decimal = Field(ge=0)
    cached_input: Decimal | None = Field(default=None, ge=0)
    #: Input tokens written to the prompt cache; without a rate they cost plain input.
    cache_write_input: Decimal | None = Field(default=None, ge=0)
    long_context_threshold: int | None = None
    long_context_input: Decimal | None = None
    long_context_output: Decimal | None = None
    source: str
    as_of: str

    def cost(self, usage: Usage) -> Decimal:
        input_rate, output_rate = self.input, self.output
        if self.long_context_threshold is not None and usage.input_tokens > (
            self.long_context_threshold
        ):
            input_rate = self.long_context_input or input_rate
            output_rate = self.long_context_output or output_rate
        cached = min(usage.cache_read_tokens, usage.input_tokens)
        written = min(usage.cache_write_tokens, usage.input_tokens - cached)
        cached_rate = self.cached_input if self.cached_input is not None else input_rate
        write_rate = self.cache_write_input if self.cache_write_input is not None else input_rate
        total = (
            (usage.input_tokens - cached - written) * input_rate
            + cached * cached_rate
            + written * write_rate
            + usage.output_tokens * output_rate
        )
        return total / _PER_TOKEN


class CostTable:
    def __init__(self, prices: list[ModelPrice]) -> None:
        self._prices = prices

    def __iter__(self) -> Iterator[ModelPrice]:
        return iter(self._prices)

    def price(self, vendor: str, model: str) -> ModelPrice:
        """The exact row, else the row whose model is the longest prefix of `model`."""
        rows = [row for row in self._prices if row.vendor == vendor]
        for row in rows:
            if row.model == model:
                return row
        prefixed = [row for row in rows if model.startswith(row.model)]
        if prefixed:
            return max(prefixed, key=lambda row: len(row.model))
        known = ", ".join(sorted(row.model for row in rows)) or "none"
        raise PriceNotFoundError(
            f"no price for {vendor}/{model} (models priced for {vendor}: {known}); add a row "
            "to your cost table"
        )


@cache
def default_cost_table() -> CostTable:
    data = tomllib.loads((Path(__file__).parent / "costs.toml").read_text(encoding="utf-8"))
    return CostTable([ModelPrice.model_validate(row) for row in data["prices"]])


def estimate_cost(usage: Usage, vendor: str, model: str, table: CostTable | None = None) -> Decimal:
    """USD for one response's usage; raises PriceNotFoundError for an unpriced model."""
    return (table or default_cost_table()).price(vendor, model).cost(usage)
