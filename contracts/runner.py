"""Run one contract case against a provider: from the replica, a cassette, or a live endpoint.

The provider is only ever seen through `LlmProvider`, built by a factory from a base URL and a
key, so the same runner certifies ours and anyone else's. Whatever the source, the outcome
keeps the recorded exchanges, so checks judge the events against what was really sent.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

import yaml
from pydantic import SecretStr

from contracts import cassettes
from contracts.observed import Exchange
from contracts.protocols import protocol_for
from contracts.replica.server import ReplicaServer
from contracts.report import sdk_label
from contracts.spec import Case
from providers.errors import InvalidRequestError
from providers.types import CompletionResponse, LlmProvider, StreamEvent
from providers.vendors import VendorProfile

#: Shaped like a real key so that leaks are caught; valid nowhere.
CONTRACT_KEY = "sk-contract-FAKE0000000000000000000000"
#: Sent on purpose where a case provokes an authentication failure live.
INVALID_KEY = "sk-llm-contracts-invalid-key-0000000000"
MISSING_MODEL = "llm-contracts-no-such-model"
ProviderFactory = Callable[[str, SecretStr], LlmProvider]
#: replica: serve from the loopback replica. record-replica: the same, recorded to a cassette.
#: replay: replay a cassette, network blocked. live: a real endpoint, recorded to a cassette.
Mode = Literal["replica", "record-replica", "replay", "live"]


#: How long one case (its stream() and complete() together) may take before it is cut off,
#: so an endpoint that hangs still gets a verdict per clause in bounded time.
CASE_DEADLINE_SECONDS = 60.0


class CaseSetupError(Exception):
    """The case could not be run as asked: a missing, unplayed or unreadable cassette.

    `problem` says what is wrong; `remedy` is the bundled command that fixes it, which a
    caller with its own way of recording (the pytest plugin) replaces with its own."""

    def __init__(self, problem: str, remedy: str) -> None:
        super().__init__(f"{problem}; {remedy}")
        self.problem = problem
        self.remedy = remedy


class CaseDeadlineExceeded(TimeoutError):
    """The provider gave no answer within the case deadline."""


@dataclass(frozen=True)
class LiveTarget:
    base_url: str
    key: SecretStr


@dataclass
class Outcome:
    events: list[StreamEvent] = field(default_factory=list)
    stream_error: Exception | None = None
    response: CompletionResponse | None = None
    complete_error: Exception | None = None
    ran: tuple[str, ...] = ()
    exchanges: list[Exchange] = field(default_factory=list)
    cassette_text: str = ""
    provenance: str = "replica"
    #: The key the provider was given: it must show up nowhere.
    secret: str = CONTRACT_KEY

    @property
    def sent(self) -> list[dict[str, Any]]:
        return [exchange.request for exchange in self.exchanges if exchange.request is not None]


def replica_base_url(server: ReplicaServer, profile: VendorProfile) -> str:
    """The replica's URL with the vendor's own path, so recorded paths equal the real ones."""
    return f"http://127.0.0.1:{server.port}{urlsplit(profile.base_url).path.rstrip('/')}"


def source_of(base_url: str, profile: VendorProfile) -> cassettes.Source:
    """`live` only for the vendor's own base URL; anything else is an override."""
    same = base_url.rstrip("/") == profile.base_url.rstrip("/")
    return "live" if same else "override"


async def exercise(
    provider: LlmProvider, case: Case, outcome: Outcome, *, live: bool, deadline: float
) -> None:
    """Run the case's paths on `provider` into `outcome`; a path still running at the
    deadline is cut off and recorded as CaseDeadlineExceeded."""
    request = case.scenario.request.build()
    if live and case.scenario.live == "bad_model":
        request = request.model_copy(update={"model": MISSING_MODEL})

    async def stream() -> None:
        async for event in provider.stream(request):
            outcome.events.append(event)

    async def complete() -> None:
        outcome.response = await provider.complete(request)

    ends = asyncio.get_running_loop().time() + deadline
    errors: dict[str, Exception | None] = {}
    for path, run in (("stream", stream), ("complete", complete)):
        if path not in case.scenario.paths:
            continue
        errors[path] = None
        try:
            async with asyncio.timeout_at(ends) as limit:
                await run()
        except TimeoutError as exc:
            errors[path] = (
                CaseDeadlineExceeded(f"no answer within the case deadline of {deadline:g} s")
                if limit.expired()
                else exc
            )
        except Exception as exc:
            errors[path] = exc
    outcome.stream_error = errors.get("stream")
    outcome.complete_error = errors.get("complete")
    outcome.ran = tuple(errors)


def _meta(profile: VendorProfile, base_url: str, source: cassettes.Source) -> dict[str, Any]:
    return {
        "source": source,
        "vendor": profile.name,
        "model": profile.default_model,
        "recorded_at": dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat(),
        "sdk": sdk_label(protocol_for(profile).sdk),
        "base_url_host": urlsplit(base_url).hostname or "",
    }


def _from_replica(server: ReplicaServer) -> list[Exchange]:
    return [
        Exchange(
            request=request.json(),
            status=reply.status,
            content_type=reply.headers.get("content-type", ""),
            body=reply.body.decode("utf-8", "replace"),
            delivery=reply.delivery,
            at=request.at,
        )
        for request, reply in server.exchanges
    ]


@dataclass(frozen=True)
class _Run:
    """What every way of running a case needs."""

    case: Case
    profile: VendorProfile
    factory: ProviderFactory
    deadline: float

    async def exercise(
        self, base_url: str, key: SecretStr, outcome: Outcome, *, live: bool
    ) -> None:
        provider = self.factory(base_url, key)
        await exercise(provider, self.case, outcome, live=live, deadline=self.deadline)


async def _replica_run(run: _Run, record_to: Path | None) -> Outcome:
    outcome = Outcome()
    with ReplicaServer(protocol_for(run.profile).responder(run.case)) as server:
        base_url = replica_base_url(server, run.profile)
        if record_to is None:
            await run.exercise(base_url, SecretStr(CONTRACT_KEY), outcome, live=False)
        else:
            meta = _meta(run.profile, base_url, "replica")
            with cassettes.recording(record_to, meta, [CONTRACT_KEY]):
                await run.exercise(base_url, SecretStr(CONTRACT_KEY), outcome, live=False)
            if not server.exchanges:
                # Refused before sending: the cassette says so, and replays only a provider
                # that again sends nothing.
                cassettes.write_empty(record_to, meta)
    outcome.exchanges = _from_replica(server)
    return outcome


async def _live_run(run: _Run, target: LiveTarget, path: Path) -> Outcome:
    case, profile = run.case, run.profile
    key = SecretStr(INVALID_KEY) if case.scenario.live == "bad_key" else target.key
    source = source_of(target.base_url, profile)
    outcome = Outcome(secret=target.key.get_secret_value(), provenance=source)
    meta = _meta(profile, target.base_url, source)
    with cassettes.recording(path, meta, [target.key.get_secret_value(), INVALID_KEY]):
        await run.exercise(target.base_url, key, outcome, live=True)
    if not path.is_file() and refused_before_sending(outcome):
        cassettes.write_empty(path, meta)
    return outcome


def refused_before_sending(outcome: Outcome) -> bool:
    """Every path that ran raised the provider's own refusal, made before any request (an
    InvalidRequestError with no HTTP status): nothing was sent, and that is the recording."""
    by_path = {"stream": outcome.stream_error, "complete": outcome.complete_error}
    errors = [by_path[path] for path in outcome.ran]
    return bool(errors) and all(
        isinstance(error, InvalidRequestError) and error.status_code is None for error in errors
    )


def readable_cassette(path: Path, command: str) -> dict[str, Any]:
    """The cassette's meta, once the whole file is known to be a complete cassette; otherwise
    a CaseSetupError naming the file and the command that re-records it."""
    try:
        document = cassettes.load_yaml(path.read_text(encoding="utf-8"))
        if not isinstance(document, dict) or "version" not in document:
            raise ValueError("it is cut short: no closing `version` line")
        for interaction in document["interactions"]:
            int(interaction["response"]["status"]["code"])
        return dict(document.get("meta") or {})
    except UnicodeDecodeError:
        why = "it is not UTF-8 text"
    except yaml.YAMLError as exc:
        why = f"not valid YAML: {str(exc).splitlines()[0]}"
    except (ValueError, KeyError, TypeError) as exc:
        why = f"{exc}" if isinstance(exc, ValueError) else f"malformed ({exc!r} missing or wrong)"
    raise CaseSetupError(f"cassette problem: {path}: {why}", f"re-record it with `{command}`")


async def _replay_run(run: _Run, path: Path) -> Outcome:
    case, profile = run.case, run.profile
    if not path.is_file():
        raise CaseSetupError(
            f"missing cassette {path}",
            f"record it with `{cassettes.record_command(profile.name, case.id)}`",
        )
    outcome = Outcome()
    source = readable_cassette(path, cassettes.record_command(profile.name, case.id)).get("source")
    with cassettes.replaying(path) as cassette:
        await run.exercise(
            profile.base_url, SecretStr(CONTRACT_KEY), outcome, live=source != "replica"
        )
    if not cassette.all_played:
        unplayed = len(cassette.data) - cassette.play_count
        differs = cassettes.request_difference(outcome.stream_error, outcome.complete_error)
        command = cassettes.record_command(profile.name, case.id, source or "replica")
        raise CaseSetupError(
            f"{path}: {unplayed} recorded interaction(s) never played: "
            + (differs or "the provider sent different requests"),
            f"re-record with `{command}` and review the diff",
        )
    return outcome


async def run_case(
    case: Case,
    profile: VendorProfile,
    factory: ProviderFactory,
    *,
    mode: Mode = "replica",
    cassette_root: cassettes.CassetteRoot | None = None,
    live: LiveTarget | None = None,
    deadline: float = CASE_DEADLINE_SECONDS,
) -> Outcome:
    run = _Run(case, profile, factory, deadline)
    if mode == "replica" or (case.scenario.replica_only and mode != "live"):
        return await _replica_run(run, record_to=None)
    assert cassette_root is not None, f"mode {mode} needs a cassette root"
    if mode == "replay":
        path = cassettes.find_cassette(cassette_root, profile.name, case.id)
        outcome = await _replay_run(run, path)
    else:  # recording writes to the first root only, never to the bundled cassettes
        path = cassettes.cassette_path(cassettes.roots_of(cassette_root)[0], profile.name, case.id)
        if mode == "record-replica":
            outcome = await _replica_run(run, record_to=path)
        else:
            assert live is not None, "live mode needs a target"
            outcome = await _live_run(run, live, path)
    if not path.is_file():  # nothing reached a server (it is down): vcr wrote no cassette
        return outcome
    outcome.cassette_text = path.read_text(encoding="utf-8")
    outcome.provenance = str(cassettes.read_meta(path).get("source", "unknown"))
    outcome.exchanges = cassettes.exchanges(path)
    return outcome
