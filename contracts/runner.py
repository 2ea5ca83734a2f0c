"""Run one contract case against a provider: from the replica, a cassette, or a live endpoint.

The provider is only ever seen through `LlmProvider`, built by a factory from a base URL and a
key, so the same runner certifies ours and anyone else's. Whatever the source, the outcome
keeps the recorded exchanges, so checks judge the events against what was really sent.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import SecretStr

from contracts import cassettes
from contracts.observed import Exchange
from contracts.protocols import protocol_for
from contracts.recorder import MAX_RECORDED_BYTES, RecordedExchange
from contracts.replay import CassettePlayer
from contracts.replica.server import ReplicaServer, reason_phrase
from contracts.report import sdk_label
from contracts.spec import Case, Scenario
from providers.errors import InvalidRequestError
from providers.types import CompletionResponse, LlmProvider, StreamEvent, UserMessage
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


class EndpointUnusable(Exception):
    """A live run cannot judge the endpoint at all (it is down, or refuses the key): an
    outage or a setup mistake, never a contract verdict."""


#: How long the probe that tells an outage from a verdict waits for a connection.
CONNECT_SECONDS = 10.0


async def connect_problem(base_url: str) -> str | None:
    """Why nothing can reach `base_url`'s host and port, if nothing can."""
    parts = urlsplit(base_url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        async with asyncio.timeout(CONNECT_SECONDS):
            _, writer = await asyncio.open_connection(host, port)
    except (OSError, TimeoutError) as exc:
        why = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
        return f"could not connect to {host}:{port} ({base_url}): {why}"
    writer.close()
    return None


#: Statuses that mean the key, not the request, was refused.
_KEY_REFUSED = (401, 403)


async def unusable(case: Case, outcome: Outcome, target: LiveTarget) -> str | None:
    """Why a live case says nothing about the contract: the endpoint went away before it
    answered, or refused the key (or its absence) on a request sent with it."""
    errors = (outcome.stream_error, outcome.complete_error)
    if not outcome.exchanges and any(errors):
        return await connect_problem(target.base_url)
    if case.scenario.live == "bad_key" or case.scenario.fault is not None:
        return None
    variable = target.key_variable or "the key variable"
    for exchange in outcome.exchanges:
        if exchange.status in _KEY_REFUSED:
            host = urlsplit(target.base_url).netloc
            said = " ".join(exchange.body.split())[:120]
            fix = f"it wants a key: set {variable}" if target.keyless else f"check {variable}"
            return f"{host} answered {exchange.status} ({said}) to a valid request: {fix}"
    return None


@dataclass(frozen=True)
class LiveTarget:
    base_url: str
    key: SecretStr
    #: The endpoint takes no key: `key` is a placeholder, nothing to hide, and an invalid key
    #: cannot be refused.
    keyless: bool = False
    #: Where the key came from (or would): named when the endpoint refuses it.
    key_variable: str | None = None
    #: How much of each response body a recording keeps; past it the case is not judged.
    max_recorded_bytes: int = MAX_RECORDED_BYTES

    def hidden(self) -> str:
        """The key that must show up nowhere, or "" when there is none worth hiding."""
        key = self.key.get_secret_value()
        return "" if self.keyless or not cassettes.scrubbable([key]) else key


#: Live modes that provoke an error only on a server whose limits are no larger than the
#: profile says: one that accepts the request could not be made to fail, which is no verdict.
OVER_LIMITS = {
    "over_context": "the server accepted a prompt over the profile's max_context_tokens "
    "(its window is larger)",
    "over_output": "the server accepted max_tokens at the profile's max_output_tokens "
    "(its window is larger)",
}
#: Why a live run leaves a scenario out.
CANNOT_PROVOKE = (
    "no case in this run can provoke it (a live endpoint cannot be made to fail on cue); "
    "replay and the replica cover it"
)
KEYLESS = "the endpoint takes no key (--no-key, or a keyless profile), so it cannot refuse one"


def unprovoked(scenario: Scenario, target: LiveTarget) -> str | None:
    """Why a live run against `target` cannot provoke what the scenario asks for, if not."""
    if scenario.live == "skip" or scenario.replica_only:
        return CANNOT_PROVOKE
    if scenario.live == "bad_key" and target.keyless:
        return KEYLESS
    return None


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
    #: The key the provider was given, which must show up nowhere; empty when there is none
    #: to hide (a keyless endpoint's placeholder, or a key too short to tell from text).
    secret: str = CONTRACT_KEY

    @property
    def sent(self) -> list[dict[str, Any]]:
        return [exchange.request for exchange in self.exchanges if exchange.request is not None]


def replica_base_url(server: ReplicaServer, profile: VendorProfile) -> str:
    """The replica's URL with the vendor's own path, so recorded paths equal the real ones."""
    return f"http://127.0.0.1:{server.port}{urlsplit(profile.base_url).path.rstrip('/')}"


async def exercise(
    provider: LlmProvider,
    case: Case,
    outcome: Outcome,
    *,
    live: bool,
    deadline: float,
    model: str | None = None,
) -> None:
    """Run the case's paths on `provider` into `outcome`; a path still running at the
    deadline is cut off and recorded as CaseDeadlineExceeded. `model` (a replayed cassette's)
    replaces the provider's own."""
    request = case.scenario.request.build()
    if model:
        request = request.model_copy(update={"model": model})
    limits = provider.capabilities
    if live and case.scenario.live == "over_context":
        words = " ".join(["a"] * (limits.max_context_tokens + 1))
        request = request.model_copy(update={"messages": (UserMessage(content=words),)})
    if live and case.scenario.live == "over_output":
        request = request.model_copy(update={"max_tokens": limits.max_output_tokens})
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
                else _without_frames(exc)
            )
        except Exception as exc:
            errors[path] = _without_frames(exc)
    outcome.stream_error = errors.get("stream")
    outcome.complete_error = errors.get("complete")
    outcome.ran = tuple(errors)


def _without_frames(error: Exception) -> Exception:
    """The error as the checks read it (type, message, attributes, causes). Its traceback
    would keep the frames that read the body alive, buffers and all, in a reference cycle
    until the next full garbage collection: over many cases, many bodies at once."""
    seen: set[int] = set()
    link: BaseException | None = error
    while link is not None and id(link) not in seen:
        seen.add(id(link))
        link.__traceback__ = None
        link = link.__cause__ or link.__context__
    return error


def _meta(
    profile: VendorProfile, base_url: str, source: cassettes.Source, model: str | None
) -> dict[str, Any]:
    return {
        "source": source,
        "vendor": profile.name,
        "model": model or profile.default_model,
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
    #: The model the factory's provider asks for (None: the profile's), written into `meta`.
    model: str | None

    async def exercise(
        self, base_url: str, key: SecretStr, outcome: Outcome, *, live: bool, model: str | None
    ) -> None:
        provider = self.factory(base_url, key)
        await exercise(provider, self.case, outcome, live=live, deadline=self.deadline, model=model)


def _served(server: ReplicaServer) -> list[dict[str, Any]]:
    """What the replica received and wrote, as a cassette keeps it. The replica's own journal
    is the recording: a third-party provider's HTTP client is not ours to hook."""
    return [
        RecordedExchange(
            method=request.method,
            uri=f"http://127.0.0.1:{server.port}{request.path}",
            request_headers=request.headers,
            request_body=request.body,
            status=reply.status,
            reason=reason_phrase(reply.status),
            response_headers=reply.headers,
            body=bytearray(reply.body),
        ).interaction()
        for request, reply in server.exchanges
    ]


async def _replica_run(run: _Run, record_to: Path | None) -> Outcome:
    outcome = Outcome()
    async with ReplicaServer(protocol_for(run.profile).responder(run.case)) as server:
        base_url = replica_base_url(server, run.profile)
        await run.exercise(base_url, SecretStr(CONTRACT_KEY), outcome, live=False, model=None)
    if record_to is not None:
        # None at all is a request refused before sending: the cassette says so, and replays
        # only a provider that again sends nothing.
        meta = _meta(run.profile, base_url, "replica", run.model)
        cassettes.write_recording(record_to, meta, _served(server), [CONTRACT_KEY])
    outcome.exchanges = _from_replica(server)
    return outcome


async def _live_run(run: _Run, target: LiveTarget, path: Path) -> Outcome:
    case, profile = run.case, run.profile
    key = SecretStr(INVALID_KEY) if case.scenario.live == "bad_key" else target.key
    # Whatever host spelling or port reached it, traffic from a server on the wire is live.
    outcome = Outcome(secret=target.hidden(), provenance="live")
    meta = _meta(profile, target.base_url, "live", run.model)
    secrets = [target.hidden(), INVALID_KEY]
    with cassettes.recording(path, meta, secrets, max_bytes=target.max_recorded_bytes) as recording:
        await run.exercise(target.base_url, key, outcome, live=True, model=None)
    if recording.failure is not None:
        raise CaseSetupError(f"{case.id}: {recording.failure}", "the case was not judged")
    if not recording.exchanges and _answered(outcome):
        raise CaseSetupError(
            f"{case.id}: the provider was answered through an HTTP client that does not record",
            "build it with http_client=contracts.recorder.recording_client()",
        )
    if not path.is_file() and refused_before_sending(outcome):
        cassettes.write_recording(path, meta, [])
    return outcome


def _answered(outcome: Outcome) -> bool:
    """Whether a server answered the provider: it streamed, or raised an HTTP status."""
    errors = (outcome.stream_error, outcome.complete_error)
    return (
        bool(outcome.events)
        or outcome.response is not None
        or any(getattr(error, "status_code", None) is not None for error in errors)
    )


def refused_before_sending(outcome: Outcome) -> bool:
    """Every path that ran raised the provider's own refusal, made before any request (an
    InvalidRequestError with no HTTP status): nothing was sent, and that is the recording."""
    by_path = {"stream": outcome.stream_error, "complete": outcome.complete_error}
    errors = [by_path[path] for path in outcome.ran]
    return bool(errors) and all(
        isinstance(error, InvalidRequestError) and error.status_code is None for error in errors
    )


def readable_cassette(path: Path, command: str) -> tuple[str, dict[str, Any]]:
    """The cassette's text and whole document, once the file is known to be a complete
    cassette; otherwise a CaseSetupError naming the file and the command that re-records it."""
    try:
        return cassettes.read_checked(path)
    except cassettes.CassetteError as exc:
        raise CaseSetupError(
            f"cassette problem: {path}: {exc}", f"re-record it with `{command}`"
        ) from None


async def _replay_run(run: _Run, path: Path) -> Outcome:
    """The cassette played over loopback, each body cut into reads as the case's seed says;
    the outcome keeps the cassette as read once, here."""
    case, profile = run.case, run.profile
    if not path.is_file():
        raise CaseSetupError(
            f"missing cassette {path}",
            f"record it with `{cassettes.record_command(profile.name, case.id)}`",
        )
    outcome = Outcome()
    text, document = readable_cassette(path, cassettes.record_command(profile.name, case.id))
    meta = dict(document.get("meta") or {})
    source = meta.get("source")
    recorded_model = meta.get("model")
    chosen = recorded_model if recorded_model != profile.default_model else None
    player = CassettePlayer(
        list(document.get("interactions") or []),
        imported=source == "imported",
        seed=case.seed,
    )
    async with ReplicaServer(player) as server:
        # The model the cassette was recorded with, so a set recorded with `--model` replays
        # in full whichever model the command line names now.
        await run.exercise(
            replica_base_url(server, profile),
            SecretStr(CONTRACT_KEY),
            outcome,
            live=source != "replica",
            model=recorded_model if isinstance(recorded_model, str) else None,
        )
    if player.unplayed:
        command = cassettes.record_command(profile.name, case.id, source or "replica", chosen)
        raise CaseSetupError(
            f"{path}: {player.unplayed} recorded interaction(s) never played: "
            + (player.unmatched[0] if player.unmatched else "the provider sent different requests"),
            f"re-record with `{command}` and review the diff",
        )
    return _recorded(outcome, text, document, player.deliveries)


def _recorded(
    outcome: Outcome, text: str, document: dict[str, Any], deliveries: list[str | None]
) -> Outcome:
    """The outcome with the cassette it was recorded in or replayed from. Replayed, each
    exchange names how its body was cut into reads, as the replica's do."""
    outcome.cassette_text = text
    outcome.provenance = str((document.get("meta") or {}).get("source", "unknown"))
    recorded = [cassettes.exchange_of(item) for item in document.get("interactions") or []]
    cuts = deliveries or [None] * len(recorded)
    outcome.exchanges = [
        replace(exchange, delivery=cut or "") for exchange, cut in zip(recorded, cuts, strict=True)
    ]
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
    model: str | None = None,
) -> Outcome:
    run = _Run(case, profile, factory, deadline, model)
    if mode == "replica" or (case.scenario.replica_only and mode != "live"):
        return await _replica_run(run, record_to=None)
    assert cassette_root is not None, f"mode {mode} needs a cassette root"
    if mode == "replay":
        return await _replay_run(run, cassettes.find_cassette(cassette_root, profile.name, case.id))
    # recording writes to the first root only, never to the bundled cassettes
    path = cassettes.cassette_path(cassettes.roots_of(cassette_root)[0], profile.name, case.id)
    if mode == "record-replica":
        outcome = await _replica_run(run, record_to=path)
    else:
        assert live is not None, "live mode needs a target"
        outcome = await _live_run(run, live, path)
    if not path.is_file():  # nothing reached a server (it is down): no cassette was written
        return outcome
    text = path.read_text(encoding="utf-8")
    return _recorded(outcome, text, cassettes.parse_document(text), [])
