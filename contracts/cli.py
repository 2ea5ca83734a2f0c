"""`llm-contracts`: certify vendors, record cassettes (design section 10).

Exit codes: 0 all must clauses hold, 1 a must clause failed, 2 bad usage (said why).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn

from pydantic import SecretStr

from contracts.certification import applicable_cases, certify_vendor
from contracts.report import Certificate, render_markdown, render_table
from contracts.runner import Mode, ProviderFactory, run_case
from providers import OpenAiCompatibleProvider
from providers.types import LlmProvider
from providers.vendors import ProfileError, VendorProfile, available_vendors, load_profile

EXIT_FAILED = 1
EXIT_USAGE = 2


class UsageError(Exception):
    """Bad command-line usage: printed as one line, exit 2."""


def bundled_factory(profile: VendorProfile) -> ProviderFactory:
    """Our provider for a profile; no retries, so a recorded cassette replays one-to-one."""

    def build(base_url: str, api_key: SecretStr) -> LlmProvider:
        return OpenAiCompatibleProvider.from_vendor(
            profile.name, api_key=api_key, base_url=base_url, max_retries=0
        )

    return build


def _profiles(names: Sequence[str] | None) -> list[VendorProfile]:
    try:
        return [load_profile(name) for name in (names or available_vendors())]
    except ProfileError as exc:
        raise UsageError(exc.message) from None


def _cassette_root(path: str) -> Path:
    root = Path(path)
    if not root.is_dir():
        raise UsageError(
            f"no cassette directory at {root.resolve()}: run from the repository root, pass "
            "--cassettes DIR, or use --replica to certify against the loopback replica"
        )
    return root


class _Progress:
    """One self-overwriting status line on a terminal; silent otherwise."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.vendor = ""

    def __call__(self, case: str, number: int, total: int) -> None:
        if self.enabled:
            sys.stderr.write(f"\r\x1b[K{self.vendor}: [{number}/{total}] {case}")
            sys.stderr.flush()

    def done(self) -> None:
        if self.enabled:
            sys.stderr.write("\r\x1b[K")
            sys.stderr.flush()


async def _certify(args: argparse.Namespace) -> Certificate:
    mode: Mode = "replica" if args.replica else "replay"
    root = None if args.replica else _cassette_root(args.cassettes)
    certificate = Certificate(mode=mode)
    progress = _Progress(sys.stderr.isatty())
    for profile in _profiles(args.vendor):
        progress.vendor = profile.name
        certificate.vendors.append(
            await certify_vendor(
                profile, bundled_factory(profile), mode=mode, cassette_root=root, progress=progress
            )
        )
    progress.done()
    return certificate


def _colour() -> bool:
    return sys.stdout.isatty() and "NO_COLOR" not in os.environ


def cmd_certify(args: argparse.Namespace) -> int:
    certificate = asyncio.run(_certify(args))
    if args.format == "json":
        rendered = certificate.model_dump_json(indent=2) + "\n"
    elif args.format == "markdown":
        rendered = render_markdown(certificate)
    else:
        rendered = render_table(certificate, colour=_colour() and not args.out) + "\n"
    if args.out:
        Path(args.out).write_text(rendered, encoding="utf-8")
        print(f"wrote {args.out}")
        if args.format == "table":
            print(render_table(certificate, colour=_colour()))
    else:
        sys.stdout.write(rendered)
    return EXIT_FAILED if certificate.must_failures() else 0


async def _record(args: argparse.Namespace) -> int:
    if not args.replica:
        raise UsageError(
            "live recording is not available yet; record from the loopback replica with "
            "--replica (cassettes then say source: replica)"
        )
    root = Path(args.cassettes)
    count = 0
    for profile in _profiles(args.vendor):
        factory = bundled_factory(profile)
        capabilities = factory("http://127.0.0.1:9/v1", SecretStr("x")).capabilities
        cases = [
            case
            for case, _ in applicable_cases(profile, capabilities)
            if not case.scenario.replica_only
            and (not args.scenario or case.scenario.id in args.scenario or case.id in args.scenario)
        ]
        if args.scenario and not cases:
            raise UsageError(f"no scenario {args.scenario} applies to {profile.name}")
        for case in cases:
            await run_case(case, profile, factory, mode="record-replica", cassette_root=root)
            count += 1
            print(f"recorded {root / profile.name / case.id}.yaml (source: replica)")
    print(f"{count} cassette(s) recorded")
    return 0


def cmd_record(args: argparse.Namespace) -> int:
    return asyncio.run(_record(args))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="llm-contracts",
        description="Certify OpenAI-compatible vendors against the streaming event contract.",
    )
    commands = parser.add_subparsers(dest="command", required=True)

    certify = commands.add_parser(
        "certify", help="run the contract per vendor and print the vendor x clause matrix"
    )
    certify.add_argument(
        "--vendor",
        action="append",
        help=f"vendor to certify (repeatable; default all: {', '.join(available_vendors())})",
    )
    certify.add_argument("--format", choices=("table", "markdown", "json"), default="table")
    certify.add_argument("--out", help="write the report here instead of stdout")
    certify.add_argument("--cassettes", default="cassettes", help="cassette directory")
    certify.add_argument(
        "--replica",
        action="store_true",
        help="run against the loopback replica instead of the cassettes",
    )
    certify.set_defaults(handler=cmd_certify)

    record = commands.add_parser("record", help="(re-)record cassettes")
    record.add_argument("--vendor", action="append", required=True)
    record.add_argument("--scenario", action="append", help="scenario id (repeatable)")
    record.add_argument("--cassettes", default="cassettes", help="cassette directory")
    record.add_argument(
        "--replica", action="store_true", help="record from the loopback replica (source: replica)"
    )
    record.set_defaults(handler=cmd_record)
    return parser


def _fail_usage(parser: argparse.ArgumentParser, message: str) -> NoReturn:
    parser.exit(EXIT_USAGE, f"llm-contracts: error: {message}\n")


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        code: int = args.handler(args)
    except UsageError as exc:
        _fail_usage(parser, str(exc))
    return code


if __name__ == "__main__":
    raise SystemExit(main())
