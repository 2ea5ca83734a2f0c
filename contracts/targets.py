"""What a command points at: the profiles named, the cassette directory, the live endpoint and
key, and the provider built for a profile. Bad choices are a `UsageError` (one line, exit 2).
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Sequence
from pathlib import Path

import httpx2
from pydantic import SecretStr

from contracts import cassettes
from contracts.runner import LiveTarget, ProviderFactory
from providers import from_profile
from providers.types import LlmProvider
from providers.vendors import ProfileError, VendorProfile, available_vendors, load_profile

#: Used against endpoints that need no key (a local server, the Claude proxy).
NO_KEY = "no-key-needed"


class UsageError(Exception):
    """Bad command-line usage: printed as one line, exit 2."""


def bundled_factory(
    profile: VendorProfile,
    model: str | None = None,
    *,
    http_client: httpx2.AsyncClient | None = None,
) -> ProviderFactory:
    """Our provider for the profile's protocol; no retries, so a recorded cassette replays
    one-to-one. One `http_client` shared by every case spares each case building its own
    (its TLS context alone costs more than replaying the case)."""
    shared = {} if http_client is None else {"http_client": http_client}

    def build(base_url: str, api_key: SecretStr) -> LlmProvider:
        return from_profile(
            profile, api_key=api_key, base_url=base_url, model=model, max_retries=0, **shared
        )

    return build


def profiles_named(names: Sequence[str] | None) -> list[VendorProfile]:
    try:
        return [load_profile(name) for name in names or available_vendors()]
    except ProfileError as exc:
        raise UsageError(exc.message) from None


def cassette_root(path: str | None) -> cassettes.CassetteRoot:
    """The folder named by --cassettes; without one, ./cassettes (if any) over the bundled."""
    if path is None:
        return cassettes.replay_roots()
    root = Path(path)
    if not root.is_dir():
        raise UsageError(
            f"no cassette directory at {root.resolve()}: pass an existing --cassettes DIR, "
            "leave it out to replay the bundled cassettes, or use --replica"
        )
    return root


def write_root(path: str | None) -> Path:
    """Where `record` and `import` write: --cassettes, else ./cassettes (never the package)."""
    return Path(path) if path is not None else cassettes.LOCAL_ROOT


def live_target(profile: VendorProfile, args: argparse.Namespace) -> LiveTarget:
    """Where and with which key to reach the vendor; refuses clearly without a needed key.

    An endpoint takes no key when `--no-key` says so, when its profile is keyless and its key
    variable is unset, or when nothing names a key variable: then the profile's placeholder
    (not a secret) is sent and an invalid key is not tried."""
    base_url = args.base_url or profile.base_url
    variable = args.api_key_env or profile.api_key_env
    key = "" if args.no_key else os.environ.get(variable or "", "")
    cap = args.max_recorded_bytes
    if key:
        return LiveTarget(
            base_url=base_url, key=SecretStr(key), key_variable=variable, max_recorded_bytes=cap
        )
    if variable and not args.no_key and (args.api_key_env or not profile.keyless):
        raise UsageError(
            f"{profile.name} needs an API key: set {variable} (the key is read from the "
            "environment and never written anywhere), or pass --no-key if the endpoint "
            "takes none"
        )
    placeholder = SecretStr(profile.default_api_key or NO_KEY)
    return LiveTarget(
        base_url=base_url,
        key=placeholder,
        keyless=True,
        key_variable=variable,
        max_recorded_bytes=cap,
    )


def endpoint_profile(args: argparse.Namespace) -> VendorProfile:
    """A plain profile of the `--protocol` asked for (Chat Completions by default) for
    `--base-url` without `--vendor`."""
    if not args.model:
        raise UsageError("--base-url without --vendor needs --model")
    return VendorProfile(
        name="endpoint",
        protocol=args.protocol or "openai_chat",
        base_url=args.base_url,
        default_model=args.model,
        api_key_env=args.api_key_env,
    )
