"""`certify`: run the contract for each profile, replayed, against the replica, or live, into
one certificate."""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
from pathlib import Path

from contracts import cassettes
from contracts.certification import certify_vendor
from contracts.report import Certificate
from contracts.runner import CASE_DEADLINE_SECONDS, LiveTarget, Mode
from contracts.targets import (
    bundled_factory,
    cassette_root,
    endpoint_profile,
    live_target,
    profiles_named,
)
from providers.vendors import VendorProfile


class _Progress:
    """One self-overwriting status line on a terminal; silent otherwise."""

    def __init__(self) -> None:
        self.enabled = sys.stderr.isatty()
        self.vendor = ""

    def __call__(self, case: str, number: int, total: int) -> None:
        if self.enabled:
            sys.stderr.write(f"\r\x1b[K{self.vendor}: [{number}/{total}] {case}")
            sys.stderr.flush()

    def done(self) -> None:
        if self.enabled:
            sys.stderr.write("\r\x1b[K")
            sys.stderr.flush()


async def certify_profiles(
    profiles: list[VendorProfile],
    *,
    mode: Mode,
    cassette_root: cassettes.CassetteRoot | None,
    targets: dict[str, LiveTarget],
    model: str | None,
    deadline: float = CASE_DEADLINE_SECONDS,
) -> Certificate:
    certificate = Certificate(mode=mode)
    progress = _Progress()
    with tempfile.TemporaryDirectory(prefix="llm-contracts-live-") as scratch:
        for profile in profiles:
            progress.vendor = profile.name
            chosen = model or profile.default_model
            certificate.vendors.append(
                await certify_vendor(
                    profile,
                    bundled_factory(profile, chosen),
                    mode=mode,
                    # A live run records into scratch space only: `record` keeps cassettes.
                    cassette_root=Path(scratch) if mode == "live" else cassette_root,
                    live=targets.get(profile.name),
                    model=chosen,
                    progress=progress,
                    deadline=deadline,
                )
            )
    progress.done()
    return certificate


def certify(args: argparse.Namespace) -> Certificate:
    """The certificate the command line asks for: live with `--live` or a base URL, against
    the replica with `--replica`, else replayed from the cassettes."""
    profiles = (
        [endpoint_profile(args)]
        if args.base_url and not args.vendor
        else profiles_named(args.vendor)
    )
    mode: Mode = "live" if args.live or args.base_url else "replica" if args.replica else "replay"
    return asyncio.run(
        certify_profiles(
            profiles,
            mode=mode,
            cassette_root=cassette_root(args.cassettes) if mode == "replay" else None,
            targets={p.name: live_target(p, args) for p in profiles} if mode == "live" else {},
            model=args.model,
            deadline=args.case_timeout,
        )
    )
