"""One registry of wire protocols: every place that looks a protocol up agrees with it, a
protocol without an entry is a clear error, and no protocol's provider package reaches into
another protocol's."""

from __future__ import annotations

import ast
import json
from importlib.metadata import version
from pathlib import Path

import pytest

import providers
from contracts.cli import main
from contracts.protocols import WireProtocol, protocol_for
from providers.profiled_settings import ProfiledSettings
from providers.protocols import PROTOCOLS, UnknownProtocolError, load_reference, protocol_entry
from providers.sdk_provider import SdkProvider
from providers.vendors import (
    ProfileError,
    VendorProfile,
    available_vendors,
    load_profile,
    load_profile_file,
)

PROVIDERS_DIR = Path(providers.__file__).parent


@pytest.mark.parametrize("name", sorted(PROTOCOLS))
def test_each_registered_class_says_it_speaks_its_protocol(name: str) -> None:
    entry = PROTOCOLS[name]
    provider = load_reference(entry.provider)
    config = load_reference(entry.config)
    suite = load_reference(entry.suite)
    assert issubclass(provider, SdkProvider)
    assert provider.protocol == name
    assert provider.config_class is config
    assert issubclass(config, ProfiledSettings)
    assert config.protocol == name
    assert issubclass(suite, WireProtocol)
    assert suite.name == name


@pytest.mark.parametrize("name", sorted(PROTOCOLS))
def test_the_public_names_and_from_profile_come_from_the_registry(name: str) -> None:
    entry = PROTOCOLS[name]
    assert getattr(providers, entry.provider_class_name) is load_reference(entry.provider)
    assert entry.provider_class_name in providers.__all__
    profile = VendorProfile(
        name="somewhere", protocol=name, base_url="http://127.0.0.1:9/v1", default_model="m"
    )
    built = providers.from_profile(profile, api_key="k")
    assert type(built) is load_reference(entry.provider)
    assert protocol_for(profile).sdk == entry.sdk


def test_every_bundled_profile_names_a_registered_protocol() -> None:
    spoken = {load_profile(name).protocol for name in available_vendors()}
    assert spoken <= PROTOCOLS.keys()
    assert spoken == PROTOCOLS.keys(), "a registered protocol no bundled vendor speaks"


def test_an_unregistered_protocol_is_a_clear_error_not_a_key_error() -> None:
    with pytest.raises(
        UnknownProtocolError, match=r"no wire protocol 'gemini_generate'.*openai_chat"
    ):
        protocol_entry("gemini_generate")
    with pytest.raises(ValueError, match="unknown protocol 'gemini_generate': choose one of"):
        VendorProfile(
            name="x", protocol="gemini_generate", base_url="http://127.0.0.1:9", default_model="m"
        )


def test_a_profile_file_with_an_unknown_protocol_is_refused_by_file(tmp_path: Path) -> None:
    path = tmp_path / "odd.toml"
    path.write_text(
        'name = "odd"\nprotocol = "smoke_signals"\nbase_url = "http://127.0.0.1:9"\n'
        'default_model = "m"\n',
        encoding="utf-8",
    )
    with pytest.raises(ProfileError, match=r"odd\.toml: invalid vendor profile: protocol"):
        load_profile_file(path)


def _imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
    return found


def _protocol_packages() -> dict[str, str]:
    """Each registered provider's package, e.g. providers.anthropic."""
    return {
        name: entry.provider.partition(":")[0].rsplit(".", 1)[0]
        for name, entry in PROTOCOLS.items()
    }


def test_no_protocol_package_imports_another_protocols_package() -> None:
    packages = _protocol_packages()
    assert len(set(packages.values())) == len(packages), "two protocols share a package"
    crossings = []
    for package in packages.values():
        folder = PROVIDERS_DIR / package.removeprefix("providers.")
        for path in folder.rglob("*.py"):
            for module in _imported_modules(path):
                for other in set(packages.values()) - {package}:
                    if module == other or module.startswith(other + "."):
                        crossings.append(f"{path.relative_to(PROVIDERS_DIR)} imports {module}")
    assert crossings == []


def test_the_shared_provider_modules_import_no_protocol_package() -> None:
    packages = set(_protocol_packages().values())
    shared = [
        path for path in PROVIDERS_DIR.glob("*.py") if path.name not in {"__init__.py"}
    ] + list((PROVIDERS_DIR / "streaming").glob("*.py"))
    crossings = [
        f"{path.name} imports {module}"
        for path in shared
        for module in _imported_modules(path)
        if any(module == p or module.startswith(p + ".") for p in packages)
    ]
    assert crossings == []


def test_each_vendor_result_names_the_sdk_of_its_own_protocol(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code = main(
        ["certify", "--vendor", "anthropic", "--vendor", "openai_responses", "--format", "json"]
    )
    assert code == 0
    results = {v["vendor"]: v for v in json.loads(capsys.readouterr().out)["vendors"]}
    assert results["anthropic"]["sdk"] == f"anthropic {version('anthropic')}"
    assert results["openai_responses"]["sdk"] == f"openai {version('openai')}"


def test_the_once_per_protocol_tests_cover_every_registered_protocol() -> None:
    from wires import WIRES

    assert {load_profile(wire.vendor).protocol for wire in WIRES.values()} == PROTOCOLS.keys()
