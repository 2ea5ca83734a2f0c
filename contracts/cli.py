"""`llm-contracts`: certify vendors, record cassettes, scaffold a vendor, gate a release.

Exit codes: 0 success, 1 a must clause failed (certify) or a regression (gate), 2 bad usage
(said why, in one line).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shlex
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn
from urllib.parse import urlsplit

from contracts import cassettes
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
from contracts.output import (
    CERTIFICATE_FORMATS,
    OutputError,
    deliver,
    render_certificate,
    targets,
)
from contracts.recorder import MAX_RECORDED_BYTES
from contracts.recording import record
from contracts.report import installed_version, render_table
from contracts.runner import CASE_DEADLINE_SECONDS, EndpointUnusable
from contracts.scaffold import ScaffoldError, write_profile
from contracts.targets import (
    UsageError,
    bundled_factory,
    cassette_root,
    profiles_named,
    write_root,
)
from contracts.vendors import SUITE_SUBDIR
from providers.protocols import PROTOCOLS
from providers.settings import url_has_credentials
from providers.vendors import VENDOR_DIRS_ENV, ProfileError, load_profile_file

__all__ = ["UsageError", "build_parser", "bundled_factory", "main"]

EXIT_FAILED = 1
EXIT_USAGE = 2


def _given(value: str) -> str:
    """An option's value, refused when blank: `--base-url "$UNSET"` must not mean the default
    (the vendor's public API, with a live key)."""
    if not value.strip():
        raise argparse.ArgumentTypeError("must not be empty (an unset shell variable?)")
    return value


def _base_url(value: str) -> str:
    """An http(s) URL with a host and no user information: `--base-url notaurl` is refused
    here, and `user:pass@` would become Basic auth in place of the key."""
    value = _given(value)
    if url_has_credentials(value):
        raise argparse.ArgumentTypeError(
            "holds a user name or password (user:pass@host): put the key in the environment "
            "variable named by --api-key-env instead"
        )
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise argparse.ArgumentTypeError("must be an http:// or https:// URL with a host")
    return value


def _byte_count(value: str) -> int:
    """A positive whole number of bytes."""
    if not value.isdecimal() or int(value) < 1:
        raise argparse.ArgumentTypeError(f"must be a positive whole number of bytes, got {value}")
    return int(value)


def _seconds(value: str) -> float:
    """A positive, finite number of seconds."""
    try:
        seconds = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a number of seconds") from None
    if not 0 < seconds < float("inf"):
        raise argparse.ArgumentTypeError(f"must be a positive number of seconds, got {value}")
    return seconds


def _colour() -> bool:
    return sys.stdout.isatty() and "NO_COLOR" not in os.environ


def _targets(args: argparse.Namespace, allowed: Sequence[str]) -> dict[str | None, str]:
    try:
        return targets(args.format, args.out or (), allowed)
    except OutputError as exc:
        raise UsageError(str(exc)) from None


def cmd_certify(args: argparse.Namespace) -> int:
    chosen = _targets(args, CERTIFICATE_FORMATS)  # a bad --out is refused before the run
    try:
        baseline = load_certificate(Path(args.baseline)) if args.baseline else None
        certificate = certify(args)
    except (ImportedCassetteError, GateRefused, EndpointUnusable) as exc:
        raise UsageError(str(exc)) from None
    reports = {
        out: render_certificate(
            certificate, form, colour=_colour() and out is None, baseline=baseline
        )
        for out, form in chosen.items()
    }
    deliver(reports, terminal=render_table(certificate, colour=_colour()))
    problems = [problem for vendor in certificate.vendors for problem in vendor.problems]
    for problem in problems:
        sys.stderr.write(_error_line(problem))
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
            protocol=args.protocol or "openai_chat",
            directory=directory,
        )
    except ScaffoldError as exc:
        raise UsageError(str(exc)) from None
    profile = load_profile_file(path)
    print(f"wrote {terminal(path)} (what the provider reads)")
    suite = path.parent / SUITE_SUBDIR / path.name
    print(f"wrote {terminal(suite)} (what the contract suite reads)")
    print("next:")
    if profile.api_key_env:
        print(f"  export {profile.api_key_env}=...   # if the endpoint needs a key")
    # Quoted for the shell it is pasted into, then made inert for the terminal it is shown on.
    folder = terminal(shlex.quote(str(directory)))
    print(f"  llm-contracts certify --vendor {args.name} --live --vendors-dir {folder}")
    return 0


def cmd_gate(args: argparse.Namespace) -> int:
    chosen = _targets(args, GATE_FORMATS)  # a bad --out is refused before the run
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
                    quiet=True,
                )
            )
            name = f"the run on {args.cassettes or 'the cassettes'}"
        check_judgeable(current, name)
    except (GateRefused, ImportedCassetteError) as exc:
        raise UsageError(str(exc)) from None
    changes = compare(baseline, current, args.vendor or ())
    deliver(
        {out: render(changes, markdown=form == "markdown") for out, form in chosen.items()},
        terminal=render(changes, markdown=False),
    )
    regressions = [change for change in changes if change.regression]
    if chosen.get(None) == "markdown" and regressions:
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
    taken: set[Path] = set()
    for name in args.paths:
        try:
            result = import_file(
                Path(name),
                vendor=args.vendor,
                root=write_root(args.cassettes),
                origin=origin,
                form=args.format,
                prefix=args.prefix,
                taken=taken,
            )
        except ImportRefused as exc:
            refused.append(cassettes.redact_key_shaped(str(exc)))
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
    parser.add_argument("--base-url", type=_base_url, help="a base URL to talk to")
    parser.add_argument(
        "--model", type=_given, help="the model to ask for (default: the profile's)"
    )
    parser.add_argument("--api-key-env", type=_given, help="environment variable holding the key")
    parser.add_argument(
        "--max-recorded-bytes",
        type=_byte_count,
        default=MAX_RECORDED_BYTES,
        metavar="BYTES",
        help="how much of each response body a live recording keeps; past it the case is not "
        f"judged (default {MAX_RECORDED_BYTES}, {MAX_RECORDED_BYTES // 2**20} MiB)",
    )
    parser.add_argument(
        "--no-key",
        action="store_true",
        help="the endpoint takes no key: send the profile's placeholder, read no key variable, "
        "and leave errors.authentication not exercised",
    )


def _protocol_option(parser: argparse.ArgumentParser, what: str) -> None:
    parser.add_argument(
        "--protocol", choices=sorted(PROTOCOLS), help=f"{what} (default: openai_chat)"
    )


_REPLAY_HELP = (
    "cassette directory to replay (default: ./cassettes where it exists, over the cassettes "
    "bundled with the package)"
)
_WRITE_HELP = "cassette directory to write (default: ./cassettes)"
_FORMAT_HELP = (
    "how to render {what} (default: what --out's suffix says, .json .md .html, else table)"
)
_OUT_HELP = (
    "write the report to this file instead of standard output, in the format its suffix names "
    "(repeatable: one file per format; nothing else is written); the terminal shows the table"
)
#: What `gate` renders: the certificate's vocabulary, where it applies to a comparison.
GATE_FORMATS = ("table", "markdown")


class _Parser(argparse.ArgumentParser):
    """Bad usage is one line naming what is wrong (`--help` shows the rest), exit 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: error: {terminal(message)} (see --help)\n")


#: Per subcommand: what it does (one line for the command list, then a paragraph) and examples.
_COMMANDS = {
    "certify": (
        "run the contract per vendor and print the vendor x clause matrix",
        "Runs every scenario against each vendor and judges every clause: by default from the "
        "recorded cassettes (./cassettes where it exists, over the ones bundled with the "
        "package), with --replica against the loopback replica, with --live or --base-url "
        "against a real endpoint. Each vendor's line comes on stderr as soon as that vendor "
        "is done (offline, several vendors run side by side, so in the order they finish); the "
        "certificate lists them in the order asked. Exit 0 when every must clause holds, 1 "
        "when one fails, 2 when the run could not judge (bad input, missing cassettes, "
        "unreachable server).",
        "llm-contracts certify\n"
        "llm-contracts certify --vendor mistral --format html --out certificate.html\n"
        "llm-contracts certify --base-url http://localhost:8000/v1 --model M --out live.json",
    ),
    "record": (
        "re-record cassettes (live by default), printing the wire drift",
        "Records each scenario through the provider's real code path into ./cassettes (or "
        "--cassettes DIR), scrubbed, and prints how the new bytes differ from the old.",
        "llm-contracts record --vendor mistral --replica\n"
        "MISTRAL_API_KEY=... llm-contracts record --vendor mistral --scenario text_basic",
    ),
    "new-vendor": (
        "write the two profile files for a new vendor",
        "Writes VENDORS_DIR/NAME.toml (what the provider reads) and "
        "VENDORS_DIR/contracts/NAME.toml (what the suite reads), VENDORS_DIR being ./vendors "
        "or --vendors-dir; never into the installed package.",
        "llm-contracts new-vendor acme --base-url http://localhost:8000/v1 --model acme-large",
    ),
    "gate": (
        "fail on any clause that regressed from a baseline",
        "Compares a certificate (--current, or a replay now) with a baseline clause by clause; "
        "exit 1 on a regression, each one printed.",
        "llm-contracts gate --baseline certificates/baseline.json\n"
        "llm-contracts gate --baseline old.json --current new.json --format markdown",
    ),
    "import": (
        "turn recorded traffic (vcrpy, HAR, chunk lines, SSE) into cassettes",
        "Each Chat Completions exchange in the files becomes one cassette under "
        "./cassettes/VENDOR/imported/ (or --cassettes DIR), scrubbed, with its expectation "
        "read from the recorded bytes; a file that is not readable traffic is refused (exit 2).",
        "llm-contracts import tests/cassettes/*.yaml --vendor mistral --origin-repo acme/app",
    ),
}


def _subcommand(
    commands: argparse._SubParsersAction[_Parser], name: str
) -> argparse.ArgumentParser:
    summary, description, examples = _COMMANDS[name]
    indented = "\n".join(f"  {line}" for line in examples.splitlines())
    return commands.add_parser(
        name,
        help=summary,
        description=description,
        epilog=f"examples:\n{indented}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="llm-contracts",
        description="Certify LLM vendors (OpenAI-compatible and Anthropic Messages APIs) against "
        "the streaming event contract. `llm-contracts COMMAND --help` shows each command's "
        "options and examples.",
    )
    parser.add_argument(
        "--version", action="version", version=f"%(prog)s {installed_version('llm-contracts')}"
    )
    commands = parser.add_subparsers(dest="command", required=True)

    certify = _subcommand(commands, "certify")
    certify.add_argument(
        "--vendor", action="append", help="vendor to certify (repeatable; default: all)"
    )
    certify.add_argument(
        "--format", choices=CERTIFICATE_FORMATS, help=_FORMAT_HELP.format(what="the certificate")
    )
    certify.add_argument("--out", metavar="PATH", action="append", help=_OUT_HELP)
    certify.add_argument(
        "--baseline",
        metavar="PATH",
        help="a certificate to compare with: the HTML page lists what changed since",
    )
    certify.add_argument("--cassettes", help=_REPLAY_HELP)
    where = certify.add_mutually_exclusive_group()
    where.add_argument(
        "--replica",
        action="store_true",
        help="run against the loopback replica instead of the cassettes",
    )
    where.add_argument(
        "--live",
        action="store_true",
        help="run against the live endpoint (key from the profile's variable)",
    )
    certify.add_argument(
        "--case-timeout",
        type=_seconds,
        default=CASE_DEADLINE_SECONDS,
        metavar="SECONDS",
        help="cut a case off after this long (stream and complete together); "
        f"default {CASE_DEADLINE_SECONDS:g}",
    )
    _live_options(certify)
    _protocol_option(certify, "the wire protocol --base-url speaks (without --vendor)")
    _vendors_dir_option(certify)
    certify.set_defaults(handler=cmd_certify)

    record = _subcommand(commands, "record")
    record.add_argument("--vendor", action="append", required=True, help="vendor (repeatable)")
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

    new_vendor = _subcommand(commands, "new-vendor")
    new_vendor.add_argument("name", help="profile name: lower-case letters, digits, _")
    new_vendor.add_argument("--base-url", type=_base_url, required=True, help="the API's base URL")
    new_vendor.add_argument("--model", type=_given, required=True, help="the default model")
    new_vendor.add_argument("--api-key-env", help="key variable (default: NAME_API_KEY)")
    _protocol_option(new_vendor, "the wire protocol the server speaks")
    _vendors_dir_option(new_vendor)
    new_vendor.set_defaults(handler=cmd_new_vendor)

    gate = _subcommand(commands, "gate")
    gate.add_argument("--baseline", required=True, help="the baseline certificate JSON")
    gate.add_argument("--current", help="the current certificate (default: certify now)")
    gate.add_argument(
        "--format", choices=GATE_FORMATS, help=_FORMAT_HELP.format(what="the comparison")
    )
    gate.add_argument("--out", metavar="PATH", action="append", help=_OUT_HELP)
    gate.add_argument(
        "--vendor", action="append", help="compare only this vendor (repeatable; default: all)"
    )
    gate.add_argument("--cassettes", help=_REPLAY_HELP)
    _live_options(gate)
    _vendors_dir_option(gate)
    gate.set_defaults(handler=cmd_gate)
    _import_parser(commands)
    return parser


def _import_parser(commands: argparse._SubParsersAction[_Parser]) -> None:
    command = _subcommand(commands, "import")
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


def _unusable(argv: Sequence[str]) -> str | None:
    """Why an argument cannot be used, if one cannot: not valid UTF-8 on the command line, or
    holding a NUL character (which no path, name or URL can hold)."""
    for number, argument in enumerate(argv, start=1):
        previous = argv[number - 2] if number > 1 else ""
        where = f"argument {number}" + (f" (after {previous})" if previous[:2] == "--" else "")
        try:
            argument.encode("utf-8")
        except UnicodeEncodeError:
            return f"{where} is not valid UTF-8 text"
        if "\x00" in argument:
            return f"{where} holds a NUL character"
    return None


def _error_line(message: str) -> str:
    """An error as one inert line: no key-shaped value (a URL's `?key=` included), nothing
    that acts on a terminal."""
    return f"llm-contracts: error: {terminal(cassettes.redact_key_shaped(message))}\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    arguments = sys.argv[1:] if argv is None else list(argv)
    unusable = _unusable(arguments)
    if unusable is not None:
        parser.exit(EXIT_USAGE, _error_line(unusable))
    args = parser.parse_args(arguments)
    existing = os.environ.get(VENDOR_DIRS_ENV)
    if args.vendors_dir:
        os.environ[VENDOR_DIRS_ENV] = os.pathsep.join([*args.vendors_dir, existing or ""])
    try:
        code: int = args.handler(args)
    except (UsageError, ProfileError, cassettes.CassetteError, OutputError) as exc:
        # A bad profile or cassette name found mid-run is bad input too: one line, exit 2.
        message = exc.message if isinstance(exc, ProfileError) else str(exc)
        parser.exit(EXIT_USAGE, _error_line(message))
    finally:  # in-process callers (tests, other tools) get their environment back
        if existing is None:
            os.environ.pop(VENDOR_DIRS_ENV, None)
        else:
            os.environ[VENDOR_DIRS_ENV] = existing
    return code


if __name__ == "__main__":
    raise SystemExit(main())
