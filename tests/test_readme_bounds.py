"""The README's tables of bounds say what the code does: every numeric setting of the
providers has a row with its default, and every file and recording bound names its constant
beside its value."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from contracts import bounded_files, importer, recorder, yaml_io
from providers import vendors
from providers.settings import ProviderSettings

README = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
MiB = 1024 * 1024


def _rows() -> dict[str, list[str]]:
    """Table rows by their first cell, cells stripped."""
    rows = {}
    for line in README.splitlines():
        if line.startswith("| "):
            cells = [cell.strip() for cell in line.strip("|").split(" | ")]
            rows[cells[0]] = cells
    return rows


def _shown(name: str, value: float) -> str:
    """How the settings table writes a default."""
    if name.endswith("_bytes"):
        return f"{int(value) // MiB} MiB"
    if name.endswith("_chars"):
        return f"{int(value) // MiB} Mi characters"
    if name in ("timeout", "deadline"):
        return f"{value:g} s"
    return str(value)


NUMERIC_SETTINGS = [
    name
    for name, field in ProviderSettings.model_fields.items()
    if isinstance(field.default, int | float) and not isinstance(field.default, bool)
]


@pytest.mark.parametrize("name", NUMERIC_SETTINGS)
def test_every_numeric_setting_has_its_default_in_the_settings_table(name: str) -> None:
    row = _rows().get(f"`{name}`")
    assert row is not None, f"README has no row for {name}"
    assert row[1] == _shown(name, ProviderSettings.model_fields[name].default)


@pytest.mark.parametrize(
    ("constant", "value"),
    [
        ("contracts.recorder.MAX_RECORDED_BYTES", recorder.MAX_RECORDED_BYTES),
        ("contracts.importer.MAX_FILE_BYTES", importer.MAX_FILE_BYTES),
        ("contracts.bounded_files.MAX_FILE_BYTES", bounded_files.MAX_FILE_BYTES),
        ("contracts.importer.MAX_DECOMPRESSED_BYTES", importer.MAX_DECOMPRESSED_BYTES),
        ("providers.vendors.MAX_PROFILE_BYTES", vendors.MAX_PROFILE_BYTES),
        ("contracts.yaml_io.EXPANSION_SLACK", yaml_io.EXPANSION_SLACK),
    ],
)
def test_every_file_bound_names_its_constant_beside_its_value(constant: str, value: int) -> None:
    module, name = constant.rsplit(".", 1)
    (row,) = [cells for cells in _rows().values() if name in cells[1] and module in cells[1]]
    assert f"{value // MiB} MiB" in row[1], row
    assert constant.rsplit(".", 1)[0] in row[1], row


def test_the_alias_expansion_factor_is_the_code_s() -> None:
    (row,) = [cells for cells in _rows().values() if "EXPANSION_FACTOR" in cells[1]]
    assert re.match(rf"{yaml_io.EXPANSION_FACTOR} times", row[1]), row


def test_the_interactions_bound_is_the_code_s() -> None:
    (row,) = [cells for cells in _rows().values() if "MAX_INTERACTIONS" in cells[1]]
    assert row[1].startswith(f"{importer.MAX_INTERACTIONS} "), row
