"""`record`: re-record a vendor's cassettes, live or from the replica, printing the wire drift
against the cassettes they replace."""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

from contracts import cassettes
from contracts.certification import applicable_cases, capabilities_of
from contracts.drift import drift, profile_mismatches
from contracts.escaping import terminal
from contracts.protocols import WireProtocol, WireShape, protocol_for
from contracts.recorder import recording_client
from contracts.runner import (
    OVER_LIMITS,
    CaseSetupError,
    LiveTarget,
    Mode,
    ProviderFactory,
    connect_problem,
    run_case,
    unprovoked,
    unusable,
)
from contracts.spec import Case
from contracts.targets import (
    UsageError,
    bundled_factory,
    live_target,
    profiles_named,
    write_root,
)
from providers.vendors import VendorProfile


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
            print(f"    {terminal(line)}")
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


async def record(args: argparse.Namespace) -> bool:
    """Record what `args` selects; whether any recording was not the answer asked for."""
    live = not args.replica
    root = write_root(args.cassettes)
    count = 0
    failed = False
    async with recording_client() as http_client:
        for profile in profiles_named(args.vendor):
            target = live_target(profile, args) if live else None
            factory = bundled_factory(profile, args.model, http_client=http_client)
            protocol = protocol_for(profile)
            shapes: list[WireShape] = []
            declined: set[str] = set()
            if target and (problem := await connect_problem(target.base_url)):
                raise UsageError(problem)
            with tempfile.TemporaryDirectory(prefix="llm-contracts-record-") as scratch:
                for case in _selected(profile, args, target):
                    mode: Mode = "live" if live else "record-replica"
                    try:
                        outcome = await run_case(
                            case,
                            profile,
                            factory,
                            mode=mode,
                            cassette_root=Path(scratch),
                            live=target,
                            model=args.model,
                        )
                    except CaseSetupError as exc:
                        raise UsageError(f"{exc}; nothing more was recorded") from None
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
                        print(terminal(f"{current}: {unexpected}"), file=sys.stderr)
                        if current.is_file() and not args.force:
                            print(f"    kept the existing {current}; --force replaces it anyway")
                            continue
                    installed = _install(fresh, current, protocol)
                    # The replica plays the profile's own facts (and scenarios made to fall
                    # outside them, such as an unknown finish): only a server on the wire
                    # contradicts them.
                    if live:
                        shapes += installed
                    count += 1
            if target:
                count += await _fill_from_replica(
                    profile, factory, root, target=target, model=args.model, declined=declined
                )
            for line in profile_mismatches(shapes, protocol):
                print(f"  profile {profile.name} [wire] {terminal(line)}")
    print(f"{count} cassette(s) recorded")
    return failed


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
