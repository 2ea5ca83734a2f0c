"""`llm-contracts`: certify vendors, record cassettes, scaffold a vendor, gate a release.

Exit codes: 0 success, 1 a must clause failed (certify) or a regression (gate), 2 bad usage
(said why, in one line).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import shutil
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from pydantic import SecretStr

from contracts import cassettes
from contracts.certification import applicable_cases, capabilities_of, certify_vendor
from contracts.drift import drift, profile_mismatches
from contracts.gate import CertificateError, compare, load_certificate, render
from contracts.html_report import emit_html
from contracts.imported import ImportedCassetteError
from contracts.importer import FORMATS, ImportRefused, Origin, import_file
from contracts.protocols import WireProtocol, WireShape, protocol_for
from contracts.report import Certificate, installed_version, render_markdown, render_table
from contracts.runner import (
    CASE_DEADLINE_SECONDS,
    OVER_LIMITS,
    EndpointUnusable,
    LiveTarget,
    Mode,
    ProviderFactory,
    connect_problem,
    run_case,
    unprovoked,
    unusable,
)
from contracts.scaffold import ScaffoldError, write_profile
from contracts.spec import Case
from providers import from_profile
from providers.types import LlmProvider
from providers.vendors import (
    VENDOR_DIRS_ENV,
    ProfileError,
    VendorProfile,
    available_vendors,
    load_profile,
    load_profile_file,
)

EXIT_FAILED = 1
EXIT_USAGE = 2
#: Used against endpoints that need no key (a local server, the Claude proxy).
NO_KEY = "no-key-needed"


def _given(value: str) -> str:
    """An option's value, refused when blank: `--base-url "$UNSET"` must not mean the default
    (the vendor's public API, with a live key)."""
    if not value.strip():
        raise argparse.ArgumentTypeError("must not be empty (an unset shell variable?)")
    return value


class UsageError(Exception):
    """Bad command-line usage: printed as one line, exit 2."""


def bundled_factory(profile: VendorProfile, model: str | None = None) -> ProviderFactory:
    """Our provider for the profile's protocol; no retries, so a recorded cassette replays
    one-to-one."""

    def build(base_url: str, api_key: SecretStr) -> LlmProvider:
        return from_profile(profile, api_key=api_key, base_url=base_url, model=model, max_retries=0)

    return build


def _profiles(names: Sequence[str] | None) -> list[VendorProfile]:
    try:
        return [load_profile(name) for name in names or available_vendors()]
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


def _live_target(profile: VendorProfile, args: argparse.Namespace) -> LiveTarget:
    """Where and with which key to reach the vendor; refuses clearly without a needed key.

    An endpoint takes no key when `--no-key` says so, when its profile is keyless and its key
    variable is unset, or when nothing names a key variable: then the profile's placeholder
    (not a secret) is sent and an invalid key is not tried."""
    base_url = args.base_url or profile.base_url
    variable = args.api_key_env or profile.api_key_env
    key = "" if args.no_key else os.environ.get(variable or "", "")
    if key:
        return LiveTarget(base_url=base_url, key=SecretStr(key), key_variable=variable)
    if variable and not args.no_key and (args.api_key_env or not profile.keyless):
        raise UsageError(
            f"{profile.name} needs an API key: set {variable} (the key is read from the "
            "environment and never written anywhere), or pass --no-key if the endpoint "
            "takes none"
        )
    placeholder = SecretStr(profile.default_api_key or NO_KEY)
    return LiveTarget(base_url=base_url, key=placeholder, keyless=True, key_variable=variable)


def _endpoint_profile(args: argparse.Namespace) -> VendorProfile:
    """A plain OpenAI-compatible profile for `--base-url` without `--vendor`."""
    if not args.model:
        raise UsageError("--base-url without --vendor needs --model")
    return VendorProfile(
        name="endpoint",
        base_url=args.base_url,
        default_model=args.model,
        api_key_env=args.api_key_env,
    )


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


# -- certify -----------------------------------------------------------------------------------


async def _certify_profiles(
    profiles: list[VendorProfile],
    *,
    mode: Mode,
    cassette_root: Path | None,
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


def _certify(args: argparse.Namespace) -> Certificate:
    live = args.live or bool(args.base_url)
    profiles = (
        [_endpoint_profile(args)] if args.base_url and not args.vendor else _profiles(args.vendor)
    )
    if live:
        targets = {p.name: _live_target(p, args) for p in profiles}
        return asyncio.run(
            _certify_profiles(
                profiles,
                mode="live",
                cassette_root=None,
                targets=targets,
                model=args.model,
                deadline=args.case_timeout,
            )
        )
    if args.replica:
        return asyncio.run(
            _certify_profiles(
                profiles,
                mode="replica",
                cassette_root=None,
                targets={},
                model=args.model,
                deadline=args.case_timeout,
            )
        )
    return asyncio.run(
        _certify_profiles(
            profiles,
            mode="replay",
            cassette_root=_cassette_root(args.cassettes),
            targets={},
            model=args.model,
            deadline=args.case_timeout,
        )
    )


def _colour() -> bool:
    return sys.stdout.isatty() and "NO_COLOR" not in os.environ


def _default_certificate_path(certificate: Certificate) -> Path:
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    names = "-".join(v.vendor for v in certificate.vendors)
    return Path("certificates") / f"{names}-{certificate.mode}-{stamp}.json"


def _write_certificate(certificate: Certificate, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(certificate.model_dump_json(indent=2) + "\n", encoding="utf-8")
    path.with_suffix(".md").write_text(render_markdown(certificate), encoding="utf-8")
    print(f"certificate: {path} (and {path.with_suffix('.md')})")


def cmd_certify(args: argparse.Namespace) -> int:
    try:
        certificate = _certify(args)
    except (ImportedCassetteError, EndpointUnusable) as exc:
        raise UsageError(str(exc)) from None
    out = Path(args.out) if args.out else None
    if args.format == "html":
        # The page is the report asked for; a live run still keeps its JSON certificate.
        emit_html(certificate, out)
        out = _default_certificate_path(certificate) if certificate.mode == "live" else None
    else:
        if out is None and certificate.mode == "live":
            out = _default_certificate_path(certificate)
        if args.format == "json" and not args.out:
            sys.stdout.write(certificate.model_dump_json(indent=2) + "\n")
        elif args.format == "markdown" and not args.out:
            sys.stdout.write(render_markdown(certificate))
        else:
            print(render_table(certificate, colour=_colour()))
    if out is not None:
        _write_certificate(certificate, out)
    problems = [problem for vendor in certificate.vendors for problem in vendor.problems]
    for problem in problems:
        print(f"llm-contracts: error: {problem}", file=sys.stderr)
    if problems:
        return EXIT_USAGE
    return EXIT_FAILED if certificate.must_failures() else 0


# -- record ------------------------------------------------------------------------------------


def _selected(
    profile: VendorProfile, args: argparse.Namespace, target: LiveTarget | None
) -> list[Case]:
    factory = bundled_factory(profile)
    capabilities = capabilities_of(factory)
    cases = [
        case
        for case, _ in applicable_cases(profile, capabilities, live=target)
        if not case.scenario.replica_only
        and (not args.scenario or case.scenario.id in args.scenario or case.id in args.scenario)
    ]
    if args.scenario and not cases:
        how = "live" if target else "from the replica"
        raise UsageError(f"no scenario {args.scenario} can be recorded {how} for {profile.name}")
    return cases


def _install(fresh: Path, current: Path, protocol: WireProtocol) -> list[WireShape]:
    """Print the drift of `fresh` against `current`, then replace `current` with it."""
    new_exchanges = cassettes.exchanges(fresh)
    source = cassettes.read_meta(fresh).get("source")
    if current.is_file():
        changes = drift(cassettes.exchanges(current), new_exchanges, protocol)
        print(f"{current} (source: {source}): " + ("WIRE DRIFT" if changes else "no wire drift"))
        for line in changes:
            print(f"    {line}")
    else:
        print(f"{current} (source: {source}): new cassette")
    current.parent.mkdir(parents=True, exist_ok=True)
    shutil.move(fresh, current)
    return [protocol.wire_shape(exchange) for exchange in new_exchanges]


def _unexpected(case: Case, fresh: Path) -> str | None:
    """Why a freshly recorded cassette is not what its scenario asks for: an error status (a
    400 from a server without its tool flags, say) where the scenario expects an answer, or
    an answer where it expects an error (a server that accepts any key)."""
    fault = case.scenario.fault
    for exchange in cassettes.exchanges(fresh):
        body = " ".join(exchange.body.split())[:120]
        if fault is None and exchange.status >= 400:
            return (
                f"the server answered {exchange.status} ({body}) where {case.id} expects an answer"
            )
        if fault is not None and exchange.status < 400:
            return f"the server answered {exchange.status} where {case.id} expects {fault.status}"
    return None


async def _record(args: argparse.Namespace) -> int:
    live = not args.replica
    root = Path(args.cassettes)
    count = 0
    failed = False
    for profile in _profiles(args.vendor):
        target = _live_target(profile, args) if live else None
        factory = bundled_factory(profile, args.model)
        protocol = protocol_for(profile)
        shapes: list[WireShape] = []
        declined: set[str] = set()
        if target and (problem := await connect_problem(target.base_url)):
            raise UsageError(problem)
        with tempfile.TemporaryDirectory(prefix="llm-contracts-record-") as scratch:
            for case in _selected(profile, args, target):
                mode: Mode = "live" if live else "record-replica"
                outcome = await run_case(
                    case,
                    profile,
                    factory,
                    mode=mode,
                    cassette_root=Path(scratch),
                    live=target,
                    model=args.model,
                )
                if target and (problem := await unusable(case, outcome, target)):
                    raise UsageError(f"{problem}; nothing more was recorded")
                fresh = cassettes.cassette_path(Path(scratch), profile.name, case.id)
                current = cassettes.cassette_path(root, profile.name, case.id)
                unexpected = _unexpected(case, fresh)
                if unexpected and case.scenario.live in OVER_LIMITS:
                    print(f"{current}: not recorded: {OVER_LIMITS[case.scenario.live]}")
                    declined.add(case.id)
                    continue
                if unexpected:
                    failed = True
                    print(f"{current}: {unexpected}", file=sys.stderr)
                    if current.is_file() and not args.force:
                        print(f"    kept the existing {current}; --force replaces it anyway")
                        continue
                shapes += _install(fresh, current, protocol)
                count += 1
        if target:
            count += await _fill_from_replica(
                profile, factory, root, target=target, model=args.model, declined=declined
            )
        for line in profile_mismatches(shapes, protocol):
            print(f"  profile {profile.name} [wire] {line}")
    print(f"{count} cassette(s) recorded")
    return EXIT_FAILED if failed else 0


async def _fill_from_replica(
    profile: VendorProfile,
    factory: ProviderFactory,
    root: Path,
    *,
    target: LiveTarget,
    model: str | None,
    declined: set[str],
) -> int:
    """Cases this endpoint cannot provoke (or, over limits, would not) get replica cassettes
    where none exist yet, so the vendor replays offline in full; existing ones are left
    alone."""
    capabilities = capabilities_of(factory)
    filled = 0
    for case, _ in applicable_cases(profile, capabilities):
        path = cassettes.cassette_path(root, profile.name, case.id)
        why = unprovoked(case.scenario, target)
        if case.id in declined:
            why = OVER_LIMITS[case.scenario.live]
        if not why or case.scenario.replica_only or path.exists():
            continue
        await run_case(
            case, profile, factory, mode="record-replica", cassette_root=root, model=model
        )
        print(f"{path} (source: replica): new cassette; {why}")
        filled += 1
    return filled


def cmd_record(args: argparse.Namespace) -> int:
    return asyncio.run(_record(args))


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
        if args.current:
            current = load_certificate(Path(args.current))
        else:
            current = asyncio.run(
                _certify_profiles(
                    _profiles(args.vendor or [v.vendor for v in baseline.vendors]),
                    mode="replay",
                    cassette_root=_cassette_root(args.cassettes),
                    targets={},
                    model=None,
                )
            )
    except CertificateError as exc:
        raise UsageError(str(exc)) from None
    changes = compare(baseline, current, args.vendor or ())
    sys.stdout.write(render(changes, markdown=args.format == "markdown"))
    return EXIT_FAILED if any(change.regression for change in changes) else 0


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
                root=Path(args.cassettes),
                origin=origin,
                form=args.format,
                prefix=args.prefix,
            )
        except ImportRefused as exc:
            refused.append(str(exc))
            continue
        for path in result.written:
            print(f"imported {path}")
        for line in result.skipped:
            print(f"skipped {line}")
    for reason in refused:
        print(f"llm-contracts: error: refused {reason}", file=sys.stderr)
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
    parser.add_argument(
        "--no-key",
        action="store_true",
        help="the endpoint takes no key: send the profile's placeholder, read no key variable, "
        "and leave errors.authentication not exercised",
    )


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
    certify.add_argument("--format", choices=("table", "markdown", "json", "html"), default="table")
    certify.add_argument("--out", help="write the certificate JSON here (and Markdown beside)")
    certify.add_argument("--cassettes", default="cassettes", help="cassette directory")
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
    record.add_argument("--cassettes", default="cassettes", help="cassette directory")
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
    gate.add_argument("--format", choices=("text", "markdown"), default="text")
    gate.add_argument(
        "--vendor", action="append", help="compare only this vendor (repeatable; default: all)"
    )
    gate.add_argument("--cassettes", default="cassettes", help="cassette directory")
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
    command.add_argument("--cassettes", default="cassettes", help="cassette directory")
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
        parser.exit(EXIT_USAGE, f"llm-contracts: error: {exc}\n")
    finally:  # in-process callers (tests, other tools) get their environment back
        if existing is None:
            os.environ.pop(VENDOR_DIRS_ENV, None)
        else:
            os.environ[VENDOR_DIRS_ENV] = existing
    return code


if __name__ == "__main__":
    raise SystemExit(main())
