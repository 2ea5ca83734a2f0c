"""`llm-contracts`: certify vendors, record cassettes, scaffold a vendor, gate a release.

Exit codes: 0 success, 1 a must clause failed (certify) or a regression (gate), 2 bad usage
(said why, in one line).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from contracts.certify_run import certify, certify_profiles
from contracts.escaping import terminal
from contracts.gate import (
    GateRefused,
    check_judgeable,
    chosen_vendors,
    compare,
    load_certificate,
    render,
)
from contracts.imported import ImportedCassetteError
from contracts.importer import FORMATS, ImportRefused, Origin, import_file
from contracts.output import CERTIFICATE_FORMATS, chosen_format, deliver, render_certificate
from contracts.recording import record
from contracts.report import installed_version, render_table
from contracts.runner import CASE_DEADLINE_SECONDS
from contracts.scaffold import ScaffoldError, write_profile
from contracts.targets import (
    UsageError,
    bundled_factory,
    cassette_root,
    profiles_named,
    write_root,
)
from providers.vendors import VENDOR_DIRS_ENV, load_profile_file

__all__ = ["UsageError", "build_parser", "bundled_factory", "main"]

EXIT_FAILED = 1
EXIT_USAGE = 2


def _given(value: str) -> str:
    """An option's value, refused when blank: `--base-url "$UNSET"` must not mean the default
    (the vendor's public API, with a live key)."""
    if not value.strip():
        raise argparse.ArgumentTypeError("must not be empty (an unset shell variable?)")
    return value


def _colour() -> bool:
    return sys.stdout.isatty() and "NO_COLOR" not in os.environ


def cmd_certify(args: argparse.Namespace) -> int:
    try:
        baseline = load_certificate(Path(args.baseline)) if args.baseline else None
        certificate = certify(args)
    except (ImportedCassetteError, GateRefused) as exc:
        raise UsageError(str(exc)) from None
    form = chosen_format(args.format, args.out, CERTIFICATE_FORMATS)
    deliver(
        render_certificate(
            certificate, form, colour=_colour() and args.out is None, baseline=baseline
        ),
        args.out,
        terminal=render_table(certificate, colour=_colour()),
    )
    problems = [problem for vendor in certificate.vendors for problem in vendor.problems]
    for problem in problems:
        print(f"llm-contracts: error: {terminal(problem)}", file=sys.stderr)
    if problems:
        return EXIT_USAGE
    return EXIT_FAILED if certificate.must_failures() else 0


# -- record ------------------------------------------------------------------------------------


def cmd_record(args: argparse.Namespace) -> int:
    return EXIT_FAILED if asyncio.run(record(args)) else 0


# -- new-vendor and gate -----------------------------------------------------------------------


#: Where `new-vendor` writes unless told otherwise: the user's project, never the package.
LOCAL_VENDORS_DIR = Path("vendors")


def cmd_new_vendor(args: argparse.Namespace) -> int:
    directory = Path(args.vendors_dir[0]) if args.vendors_dir else LOCAL_VENDORS_DIR
    try:
        path = write_profile(
            args.name,
            base_url=args.base_url,
            model=args.model,
            api_key_env=args.api_key_env,
            directory=directory,
        )
    except ScaffoldError as exc:
        raise UsageError(str(exc)) from None
    profile = load_profile_file(path)
    print(f"wrote {path}")
    print("next:")
    if profile.api_key_env:
        print(f"  export {profile.api_key_env}=...   # if the endpoint needs a key")
    print(f"  llm-contracts certify --vendor {args.name} --live --vendors-dir {directory}")
    return 0


def cmd_gate(args: argparse.Namespace) -> int:
    try:
        baseline = load_certificate(Path(args.baseline))
        check_judgeable(baseline, f"baseline {args.baseline}")
        vendors = chosen_vendors(baseline, args.vendor or ())
        if args.current:
            current = load_certificate(Path(args.current))
            name = f"current certificate {args.current}"
        else:
            current = asyncio.run(
                certify_profiles(
                    profiles_named(vendors),
                    mode="replay",
                    cassette_root=cassette_root(args.cassettes),
                    targets={},
                    model=None,
                )
            )
            name = f"the run on {args.cassettes or 'the cassettes'}"
        check_judgeable(current, name)
    except (GateRefused, ImportedCassetteError) as exc:
        raise UsageError(str(exc)) from None
    changes = compare(baseline, current, args.vendor or ())
    markdown = chosen_format(args.format, args.out, GATE_FORMATS) == "markdown"
    deliver(render(changes, markdown=markdown), args.out, terminal=render(changes, markdown=False))
    regressions = [change for change in changes if change.regression]
    if markdown and regressions and args.out is None:
        # Markdown usually goes to a file ($GITHUB_STEP_SUMMARY): the job log still needs them.
        sys.stderr.write(render(regressions, markdown=False))
    return EXIT_FAILED if regressions else 0


# -- import ------------------------------------------------------------------------------------


def cmd_import(args: argparse.Namespace) -> int:
    """Each file is imported whole or refused; a refusal is reported and makes the exit 2."""
    origin = Origin(
        repository=args.origin_repo,
        commit=args.origin_commit,
        root=Path(args.origin_root) if args.origin_root else None,
        license=args.license,
    )
    refused = []
    for name in args.paths:
        try:
            result = import_file(
                Path(name),
                vendor=args.vendor,
                root=write_root(args.cassettes),
                origin=origin,
                form=args.format,
                prefix=args.prefix,
            )
        except ImportRefused as exc:
            refused.append(str(exc))
            continue
        for path in result.written:
            print(f"imported {terminal(path)}")
        for line in result.skipped:
            print(f"skipped {terminal(line)}")
    for reason in refused:
        print(f"llm-contracts: error: refused {terminal(reason)}", file=sys.stderr)
    return EXIT_USAGE if refused else 0


# -- the parser --------------------------------------------------------------------------------


def _vendors_dir_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--vendors-dir",
        action="append",
        default=[],
        help=f"also look for vendor profiles here (repeatable; same as {VENDOR_DIRS_ENV})",
    )


def _live_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--base-url", type=_given, help="an OpenAI-compatible base URL to talk to")
    parser.add_argument(
        "--model", type=_given, help="the model to ask for (default: the profile's)"
    )
    parser.add_argument("--api-key-env", type=_given, help="environment variable holding the key")


_REPLAY_HELP = (
    "cassette directory to replay (default: ./cassettes where it exists, over the cassettes "
    "bundled with the package)"
)
_WRITE_HELP = "cassette directory to write (default: ./cassettes)"
_FORMAT_HELP = (
    "how to render {what} (default: what --out's suffix says, .json .md .html, else table)"
)
_OUT_HELP = (
    "write the report to this one file instead of standard output (nothing else is written); "
    "the terminal then shows the table"
)
#: What `gate` renders: the certificate's vocabulary, where it applies to a comparison.
GATE_FORMATS = ("table", "markdown")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="llm-contracts",
        description="Certify OpenAI-compatible vendors against the streaming event contract.",
    )
    parser.add_argument(
        "--version", action="version", version=f"%(prog)s {installed_version('llm-contracts')}"
    )
    commands = parser.add_subparsers(dest="command", required=True)

    certify = commands.add_parser(
        "certify", help="run the contract per vendor and print the vendor x clause matrix"
    )
    certify.add_argument(
        "--vendor", action="append", help="vendor to certify (repeatable; default: all)"
    )
    certify.add_argument(
        "--format", choices=CERTIFICATE_FORMATS, help=_FORMAT_HELP.format(what="the certificate")
    )
    certify.add_argument("--out", metavar="PATH", help=_OUT_HELP)
    certify.add_argument(
        "--baseline",
        metavar="PATH",
        help="a certificate to compare with: the HTML page lists what changed since",
    )
    certify.add_argument("--cassettes", help=_REPLAY_HELP)
    certify.add_argument(
        "--replica",
        action="store_true",
        help="run against the loopback replica instead of the cassettes",
    )
    certify.add_argument(
        "--live",
        action="store_true",
        help="run against the live endpoint (key from the profile's variable)",
    )
    certify.add_argument(
        "--case-timeout",
        type=float,
        default=CASE_DEADLINE_SECONDS,
        metavar="SECONDS",
        help="cut a case off after this long (stream and complete together); "
        f"default {CASE_DEADLINE_SECONDS:g}",
    )
    _live_options(certify)
    _vendors_dir_option(certify)
    certify.set_defaults(handler=cmd_certify)

    record = commands.add_parser(
        "record", help="re-record cassettes (live by default), printing the wire drift"
    )
    record.add_argument("--vendor", action="append", required=True)
    record.add_argument("--scenario", action="append", help="scenario id (repeatable)")
    record.add_argument("--cassettes", help=_WRITE_HELP)
    record.add_argument(
        "--replica", action="store_true", help="record from the loopback replica (source: replica)"
    )
    record.add_argument(
        "--force",
        action="store_true",
        help="replace a cassette even with an unexpected error answer (still exits 1)",
    )
    _live_options(record)
    _vendors_dir_option(record)
    record.set_defaults(handler=cmd_record)

    new_vendor = commands.add_parser("new-vendor", help="write a profile for a new vendor")
    new_vendor.add_argument("name", help="profile name: lower-case letters, digits, _")
    new_vendor.add_argument("--base-url", type=_given, required=True)
    new_vendor.add_argument("--model", type=_given, required=True)
    new_vendor.add_argument("--api-key-env", help="key variable (default: NAME_API_KEY)")
    _vendors_dir_option(new_vendor)
    new_vendor.set_defaults(handler=cmd_new_vendor)

    gate = commands.add_parser("gate", help="fail on any clause that regressed from a baseline")
    gate.add_argument("--baseline", required=True, help="the baseline certificate JSON")
    gate.add_argument("--current", help="the current certificate (default: certify now)")
    gate.add_argument(
        "--format", choices=GATE_FORMATS, help=_FORMAT_HELP.format(what="the comparison")
    )
    gate.add_argument("--out", metavar="PATH", help=_OUT_HELP)
    gate.add_argument(
        "--vendor", action="append", help="compare only this vendor (repeatable; default: all)"
    )
    gate.add_argument("--cassettes", help=_REPLAY_HELP)
    _live_options(gate)
    _vendors_dir_option(gate)
    gate.set_defaults(handler=cmd_gate)
    _import_parser(commands)
    return parser


def _import_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    command = commands.add_parser(
        "import", help="turn recorded traffic (vcrpy, HAR, chunk lines, SSE) into cassettes"
    )
    command.add_argument("paths", nargs="+", metavar="PATH", help="recordings to import")
    command.add_argument("--vendor", required=True, help="the vendor that answered them")
    command.add_argument("--format", choices=FORMATS, help="force a format (default: detect)")
    command.add_argument("--cassettes", help=_WRITE_HELP)
    command.add_argument("--prefix", default="", help="prefix for the cassette names")
    command.add_argument("--origin-repo", help="where the recordings come from (owner/name)")
    command.add_argument("--origin-commit", help="the commit they were taken from")
    command.add_argument("--origin-root", help="the repository checkout the PATHs are under")
    command.add_argument("--license", help="the recordings' license, e.g. 'MIT (LICENSE)'")
    _vendors_dir_option(command)
    command.set_defaults(handler=cmd_import)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    existing = os.environ.get(VENDOR_DIRS_ENV)
    if args.vendors_dir:
        os.environ[VENDOR_DIRS_ENV] = os.pathsep.join([*args.vendors_dir, existing or ""])
    try:
        code: int = args.handler(args)
    except UsageError as exc:
        parser.exit(EXIT_USAGE, f"llm-contracts: error: {terminal(exc)}\n")
    finally:  # in-process callers (tests, other tools) get their environment back
        if existing is None:
            os.environ.pop(VENDOR_DIRS_ENV, None)
        else:
            os.environ[VENDOR_DIRS_ENV] = existing
    return code


if __name__ == "__main__":
    raise SystemExit(main())
