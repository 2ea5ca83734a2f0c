"""The one packaging fact pyproject.toml cannot state: `cassettes/` ships inside the wheel.

The cassettes stay at the repository root, where `llm-contracts record` writes them and where
contributors add them; the wheel carries them as `contracts/bundled_cassettes/`, so every
command works from an installed package in any folder. Everything else, the files each package ships
included, is in pyproject.toml.
"""

from setuptools import find_packages, setup

BUNDLED = "contracts.bundled_cassettes"

setup(
    packages=[*find_packages(include=["providers*", "contracts*"]), BUNDLED],
    package_dir={BUNDLED: "cassettes"},
)
