"""`certify`: run the contract for each profile, replayed, against the replica, or live, into
one certificate."""

from __future__ import annotations

import argparse
import asyncio
import functools
import gc
import itertools
import multiprocessing
import os
import ssl
import sys
import tempfile
from collections import Counter, defaultdict
from collections.abc import AsyncIterator, Callable, Coroutine
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import httpx2

from contracts import cassettes
from contracts.certification import (
    CaseFindings,
    Progress,
    capabilities_of,
    certify_vendor,
    run_cases,
    vendor_cases,
    vendor_result,
)
from contracts.escaping import terminal
from contracts.imports import without_collection
from contracts.recorder import recording_client
from contracts.report import Certificate, VendorResult
from contracts.runner import CASE_DEADLINE_SECONDS, LiveTarget, Mode
from contracts.spec import load_scenarios
from contracts.targets import (
    UsageError,
    bundled_factory,
    cassette_root,
    endpoint_profile,
    live_target,
    profiles_named,
)
from providers.protocols import load_reference, protocol_entry
from providers.types import ProviderCapabilities
from providers.vendors import VendorProfile


class _Progress:
    """A line per vendor as it finishes, so a long run shows its first result in seconds
    (also through a pipe or in a CI log); on a terminal also one self-overwriting line per case.
    All on stderr: stdout carries the certificate alone."""

    def __init__(self, *, quiet: bool = False) -> None:
        self.quiet = quiet
        self.live = sys.stderr.isatty()
        self.vendor = ""

    def __call__(self, case: str, number: int, total: int) -> None:
        if self.live:
            sys.stderr.write(f"\r\x1b[K{self.vendor}: [{number}/{total}] {case}")
            sys.stderr.flush()

    def finished(self, result: VendorResult, seconds: float) -> None:
        clear = "\r\x1b[K" if self.live else ""
        if self.quiet:
            sys.stderr.write(clear)
            sys.stderr.flush()
            return
        cases = len(result.provenance)
        failures = result.must_failures()
        if result.problems:  # no verdict: the reasons follow once the run is over
            summary = f"{len(result.problems)} of {cases} cases could not run"
        elif failures:
            summary = f"{cases} cases, {len(failures)} must clause(s) FAIL"
        else:
            summary = f"{cases} cases, all must clauses hold"
        sys.stderr.write(f"{clear}{terminal(result.vendor)}: {summary} ({seconds:.1f} s)\n")
        sys.stderr.flush()


async def certify_profiles(
    profiles: list[VendorProfile],
    *,
    mode: Mode,
    cassette_root: cassettes.CassetteRoot | None,
    targets: dict[str, LiveTarget],
    model: str | None,
    deadline: float = CASE_DEADLINE_SECONDS,
    quiet: bool = False,
) -> Certificate:
    """`quiet`: no line per vendor (a command whose own output is the verdict, the gate).

    Several vendors are certified side by side: live, as tasks of this process (bounded),
    each vendor's line in the order given; offline, in one process per core, each vendor's
    line as soon as that vendor is done. The certificate lists them in the order given.
    """
    progress = _Progress(quiet=quiet)
    workers = min(len(profiles), os.cpu_count() or 1)
    if workers > 1 and mode != "live":
        runs = _in_workers(
            profiles,
            workers,
            model=model,
            mode=mode,
            cassette_root=cassette_root,
            deadline=deadline,
        )
    else:
        runs = _in_this_process(
            profiles,
            progress,
            mode=mode,
            cassette_root=cassette_root,
            targets=targets,
            model=model,
            deadline=deadline,
        )
    results: dict[int, VendorResult] = {}
    async for position, result, seconds in runs:
        progress.finished(result, seconds)
        results[position] = result
    return Certificate(mode=mode, vendors=[results[position] for position in sorted(results)])


async def _in_this_process(
    profiles: list[VendorProfile],
    progress: _Progress,
    *,
    mode: Mode,
    cassette_root: cassettes.CassetteRoot | None,
    targets: dict[str, LiveTarget],
    model: str | None,
    deadline: float,
) -> AsyncIterator[_Done]:
    """Live, or offline on one core: every vendor through one recording client of this
    process (the workers build their own), in the order given."""
    with tempfile.TemporaryDirectory(prefix="llm-contracts-live-") as scratch:
        async with recording_client() as http_client:

            def one(profile: VendorProfile, cases: Progress | None) -> _Run:
                return _certify_one(
                    profile,
                    model or profile.default_model,
                    http_client=http_client,
                    mode=mode,
                    # A live run records into scratch space only: `record` keeps cassettes.
                    cassette_root=Path(scratch) if mode == "live" else cassette_root,
                    live=targets.get(profile.name),
                    progress=cases,
                    deadline=deadline,
                )

            if len(profiles) > 1 and mode == "live":
                # Each vendor's cases wait on its own server: several vendors at once.
                runs = _side_by_side([one(profile, None) for profile in profiles])
            else:
                runs = _one_by_one(profiles, progress, one)
            position = 0
            async for result, seconds in runs:
                yield position, result, seconds
                position += 1


#: One vendor's certification: its result and the seconds it took.
_Run = Coroutine[Any, Any, tuple[VendorResult, float]]
#: A vendor certified: its position in the order given, its result and the seconds it took.
_Done = tuple[int, VendorResult, float]
#: Live vendors certified at once, at most: each holds a connection to its endpoint.
LIVE_VENDORS_AT_ONCE = 4


async def _one_by_one(
    profiles: list[VendorProfile],
    progress: _Progress,
    one: Callable[[VendorProfile, Progress | None], _Run],
) -> AsyncIterator[tuple[VendorResult, float]]:
    """In this process, in turn: a line per case on a terminal."""
    for profile in profiles:
        progress.vendor = profile.name
        yield await one(profile, progress)


async def _side_by_side(runs: list[_Run]) -> AsyncIterator[tuple[VendorResult, float]]:
    """At most `LIVE_VENDORS_AT_ONCE` at a time in this process, results in the order given
    (so a line per case would interleave: there is none). Live recording is per task, so
    their recordings stay apart."""
    bound = asyncio.Semaphore(LIVE_VENDORS_AT_ONCE)

    async def bounded(run: _Run) -> tuple[VendorResult, float]:
        async with bound:
            return await run

    tasks = [asyncio.ensure_future(bounded(run)) for run in runs]
    try:
        for task in tasks:
            yield await task
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


async def _in_workers(
    profiles: list[VendorProfile],
    workers: int,
    *,
    model: str | None,
    mode: Mode,
    cassette_root: cassettes.CassetteRoot | None,
    deadline: float,
) -> AsyncIterator[_Done]:
    """Offline, one process per core, handed the work of `work_plan` in its order; each
    vendor comes as soon as its shares are all done, its verdicts folded here, the cases in
    their order: the same as one process running them in turn."""
    protocol, plan = work_plan(profiles, workers)
    _before_forking(protocol)
    loop = asyncio.get_running_loop()
    # What is there now is shared by the forked workers: their collector leaves it alone
    # (less work, and no copy of each page it would touch).
    gc.freeze()
    try:
        with ProcessPoolExecutor(workers, mp_context=_worker_context()) as pool:
            running = [
                loop.run_in_executor(
                    pool,
                    functools.partial(
                        _certify_in_worker,
                        [replace(work, profile=profiles[work.position]) for work in task],
                        model=model,
                        mode=mode,
                        cassette_root=cassette_root,
                        deadline=deadline,
                    ),
                )
                for task in plan
            ]
            parts = Counter(work.position for task in plan for work in task)
            shares: dict[int, list[_Share]] = defaultdict(list)
            try:
                for task_done in asyncio.as_completed(running):
                    for share in await task_done:
                        shares[share.position].append(share)
                        if len(shares[share.position]) == parts[share.position]:
                            yield _folded(
                                profiles[share.position], shares.pop(share.position), model
                            )
            except BaseException:
                # A worker's error (an SDK not installed) ends the run now, not after the
                # work still queued.
                pool.shutdown(cancel_futures=True)
                raise
    finally:
        gc.unfreeze()


@dataclass(frozen=True)
class Work:
    """One share of one vendor's cases: every `parts`-th case from the `part`-th on."""

    position: int
    part: int = 0
    parts: int = 1
    #: Filled in when the work is handed to a worker (a plan names vendors by position).
    profile: VendorProfile | None = None


def work_plan(profiles: list[VendorProfile], workers: int) -> tuple[str, list[list[Work]]]:
    """The protocol whose provider to import before forking, and the tasks for the workers
    in the order they are handed out (each task runs in one worker, its work in turn).

    Importing a protocol's provider, with its SDK and the parts of the SDK it uses, costs a
    fraction of a second to seconds of CPU, so the protocol most vendors speak is imported
    once, before forking; those vendors' cases are shared among all the workers, so each
    one's line comes as soon as every core has done its share. The vendors of any other
    protocol run whole, together, in one task: one worker imports what that protocol needs,
    once. Those tasks come right after the first vendor's shares, so they neither delay the
    first line nor end the run alone on one core.
    """
    by_protocol: dict[str, list[int]] = defaultdict(list)
    for position, profile in enumerate(profiles):
        by_protocol[profile.protocol].append(position)
    shared = max(by_protocol, key=lambda protocol: len(by_protocol[protocol]))
    split = [
        [Work(position, part, workers)]
        for position in by_protocol[shared]
        for part in range(workers)
    ]
    whole = [
        [Work(position) for position in group]
        for protocol, group in by_protocol.items()
        if protocol != shared
    ]
    return shared, split[:workers] + whole + split[workers:]


def _before_forking(protocol: str) -> None:
    """What the workers need, done once before they are forked rather than once in each: the
    provider of `protocol` (with its SDK), the suite's side of the protocol, the clauses and
    the scenarios (which this process folds their findings with)."""
    entry = protocol_entry(protocol)
    with without_collection():
        load_reference(entry.provider)
        load_reference(entry.suite)
    load_scenarios()


def _folded(profile: VendorProfile, shares: list[_Share], model: str | None) -> _Done:
    """One vendor's result from its shares, its cases back in their order."""
    shares.sort(key=lambda share: share.part)
    findings: list[CaseFindings] = []
    for cases in itertools.zip_longest(*(share.findings for share in shares)):
        findings.extend(case for case in cases if case is not None)
    result = vendor_result(
        profile, shares[0].capabilities, findings, model=model or profile.default_model
    )
    return shares[0].position, result, sum(share.seconds for share in shares)


@dataclass(frozen=True)
class _Share:
    """What a worker found in its share of one vendor's cases."""

    position: int
    part: int
    capabilities: ProviderCapabilities
    findings: list[CaseFindings]
    seconds: float


async def _certify_one(
    profile: VendorProfile,
    model: str,
    *,
    http_client: httpx2.AsyncClient,
    mode: Mode,
    cassette_root: cassettes.CassetteRoot | None,
    live: LiveTarget | None,
    progress: Progress | None,
    deadline: float,
) -> tuple[VendorResult, float]:
    """One vendor's result and the seconds it took."""
    clock = asyncio.get_running_loop().time
    started = clock()
    result = await certify_vendor(
        profile,
        bundled_factory(profile, model, http_client=http_client),
        mode=mode,
        cassette_root=cassette_root,
        live=live,
        model=model,
        progress=progress,
        deadline=deadline,
    )
    return result, clock() - started


def _certify_in_worker(
    task: list[Work],
    *,
    model: str | None,
    mode: Mode,
    cassette_root: cassettes.CassetteRoot | None,
    deadline: float,
) -> list[_Share]:
    """Offline, in a process of its own, each share of the task in turn, through one
    recording client."""

    async def share(work: Work, http_client: httpx2.AsyncClient) -> _Share:
        clock = asyncio.get_running_loop().time
        started = clock()
        profile = work.profile
        assert profile is not None, "a worker's share names its vendor's profile"
        chosen = model or profile.default_model
        factory = bundled_factory(profile, chosen, http_client=http_client)
        with without_collection():  # the first provider built imports its protocol's SDK
            capabilities = capabilities_of(factory)
        cases = vendor_cases(
            profile, capabilities, mode=mode, cassette_root=cassette_root, live=None
        )
        findings = await run_cases(
            profile,
            factory,
            cases[work.part :: work.parts],
            mode=mode,
            cassette_root=cassette_root,
            model=chosen,
            deadline=deadline,
        )
        return _Share(work.position, work.part, capabilities, findings, clock() - started)

    async def in_turn() -> list[_Share]:
        async with recording_client(verify=trusting_nothing()) as http_client:
            return [await share(work, http_client) for work in task]

    return asyncio.run(in_turn())


def trusting_nothing() -> ssl.SSLContext:
    """TLS settings for an offline run's client: it reaches only the loopback replica, over
    plain HTTP, so it trusts no certificate at all and any TLS server is refused. Loading
    the system's certificates instead cost a tenth of a second of CPU before the first line."""
    return ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)


def _worker_context() -> multiprocessing.context.BaseContext:
    """Forked where the platform can: a worker starts with everything already imported."""
    if "fork" in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context()


def certify(args: argparse.Namespace) -> Certificate:
    """The certificate the command line asks for: live with `--live` or a base URL, against
    the replica with `--replica`, else replayed from the cassettes."""
    if args.replica and args.base_url:
        raise UsageError("--replica and --base-url name two different servers: choose one")
    endpoint = bool(args.base_url) and not args.vendor
    if args.protocol and not endpoint:
        raise UsageError(
            "--protocol applies to --base-url without --vendor (a vendor's profile names its "
            "own protocol)"
        )
    profiles = [endpoint_profile(args)] if endpoint else profiles_named(args.vendor)
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
