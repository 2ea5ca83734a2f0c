"""Optional dependencies: a missing one is an ImportError that names the command installing it.

The provider for OpenAI-compatible APIs needs only the core dependencies; the Anthropic SDK
and the contract suite's tools come with extras (`llm-contracts[anthropic]`,
`llm-contracts[contracts]`), so a bare `ModuleNotFoundError` from deep inside would leave a
user guessing which one.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

#: Each optional top-level module and the install command that brings it.
INSTALL_COMMANDS = {
    "anthropic": "pip install 'llm-contracts[anthropic]'",
    "yaml": "pip install 'llm-contracts[contracts]'",
    "pytest": "pip install pytest",
}


class MissingDependencyError(ImportError):
    """An optional dependency is not installed; the message says how to install it."""


@contextmanager
def requires(what: str) -> Iterator[None]:
    """Turn a missing optional module imported inside into a MissingDependencyError."""
    try:
        yield
    except ModuleNotFoundError as exc:
        top = (exc.name or "").partition(".")[0]
        if top not in INSTALL_COMMANDS:
            raise
        raise MissingDependencyError(
            f"{what} needs the {top!r} package, which is not installed: {INSTALL_COMMANDS[top]}",
            name=exc.name,
        ) from None
